#pragma once
// Standard base64 (RFC 4648 with padding), as Kubernetes Secret data uses it.

#include <string>
#include <string_view>

#include "base/result.h"

namespace weft {

std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);

}  // namespace weft
