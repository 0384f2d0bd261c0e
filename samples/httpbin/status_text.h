#pragma once
// Go's http.StatusText: the reason phrase on the status line and the "error" field of
// go-httpbin's error bodies.

#include <string>
#include <string_view>

namespace weft::httpbin {

// Empty for codes Go has no text for.
std::string_view statusText(int code);

// The status line's reason: statusText, or "status code 599" as Go writes for unknown codes.
std::string reasonPhrase(int code);

}  // namespace weft::httpbin
