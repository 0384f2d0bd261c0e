#pragma once
// Go's url.Values and http.Header as go-httpbin echoes them: each key maps to its values in
// arrival order, and keys come out sorted, as Go's encoding/json writes map keys.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "base/result.h"

namespace weft::httpbin {

using Values = std::map<std::string, std::vector<std::string>, std::less<>>;

// url.QueryUnescape (plusIsSpace) or url.PathUnescape: %XX decoded; a '%' not followed by
// two hex digits fails with Go's words: invalid URL escape "%zz".
Result<std::string> urlUnescape(std::string_view text, bool plusIsSpace);

// url.ParseQuery: '&'-separated key=value pairs. A pair holding ';' or a bad escape is
// dropped; the first such problem is returned (ParseForm answers it with a 400), while
// r.URL.Query() ignores it.
std::optional<std::string> parseQueryInto(std::string_view query, Values& into);
Values parseQuery(std::string_view query);

// {"key": ["value", ...], ...}
boost::json::object toJsonObject(const Values& values);

}  // namespace weft::httpbin
