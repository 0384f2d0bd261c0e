#pragma once
// The few Go parsers whose acceptance and error wording go-httpbin's answers expose:
// strconv.Atoi/ParseInt/ParseFloat, time.ParseDuration and Duration.String, strconv.Quote.
// Error messages match Go's, since they reach clients in the "detail" field of a 400.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace weft::httpbin {

// strconv.Atoi: optional sign, decimal digits, int64 range.
Result<std::int64_t> goAtoi(std::string_view text);
// strconv.ParseInt(text, 10, 64): the same, worded as ParseInt.
Result<std::int64_t> goParseInt(std::string_view text);
// strconv.ParseFloat(text, 64), without Go's hexadecimal and underscore spellings.
Result<double> goParseFloat(std::string_view text);

// time.ParseDuration: "1.5s", "300ms", "1h2m", "-2us", "0".
Result<std::chrono::nanoseconds> goParseDuration(std::string_view text);
// time.Duration.String: "1.5s", "1m0s", "300ms", "0s".
std::string goFormatDuration(std::chrono::nanoseconds duration);

// strconv.Quote, enough for error messages: "abc", "a\"b", "\x00".
std::string goQuote(std::string_view text);

}  // namespace weft::httpbin
