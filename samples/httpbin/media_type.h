#pragma once
// Go's mime.ParseMediaType, which go-httpbin leans on for multipart boundaries and for
// deciding whether /response-headers must HTML-escape its body.

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace weft::httpbin {

struct MediaType {
  std::string type;                           // lowercased: "multipart/form-data", "form-data"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted
};

// "type/subtype; name=value; name=\"quoted value\"" (RFC 2231 continuations are not read).
Result<MediaType> parseMediaType(std::string_view text);

}  // namespace weft::httpbin
