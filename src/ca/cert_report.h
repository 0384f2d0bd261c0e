#pragma once
// `weft ca inspect`: a person-readable account of a PEM file's certificates, their SPIFFE
// identities, issuers, validity, and whether each is signed by the one after it.

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"

namespace weft::ca {

Result<std::string> describeCertificates(std::string_view pem, SystemTime now);

}  // namespace weft::ca
