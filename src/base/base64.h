#pragma once
// Standard base64 (RFC 4648 with padding), as Kubernetes Secret data uses it, and the
// URL-safe alphabet without padding (RFC 4648 section 5), as JSON Web Tokens and Keys use it.

#include <string>
#include <string_view>

#include "base/result.h"

namespace weft {

std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);

std::string base64UrlEncode(std::string_view bytes);  // no padding
// Padding is accepted but not needed; '+', '/' and a length of 4n+1 are refused.
Result<std::string> base64UrlDecode(std::string_view text);

}  // namespace weft
