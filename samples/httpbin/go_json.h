#pragma once
// JSON spelled the way Go's encoding/json spells it, because go-httpbin's callers (Istio's
// docs, tests that diff output) see Go's bytes. Values are boost::json values; this file
// only decides the text:
//   - json.Encoder.SetIndent("", "  ") layout for go-httpbin's answers, json.Marshal's
//     compact layout for /stream lines;
//   - floats as strconv 'f' (shortest) between 1e-6 and 1e21, else 'e' with e-7 not e-07;
//   - invalid UTF-8 bytes as \ufffd, U+2028/U+2029 escaped, <>& escaped only when asked
//     (json.Marshal does, go-httpbin's encoder turns it off).
// Object keys are written in the order the object holds them: callers insert the keys of
// Go maps sorted, since Go sorts map keys and keeps struct fields in declaration order.

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "base/result.h"

namespace weft::httpbin {

enum class JsonLayout { kIndented, kCompact };

struct JsonStyle {
  JsonLayout layout = JsonLayout::kIndented;
  bool escapeHtml = false;
};

// The value's text, without the newline json.Encoder adds after it.
std::string toGoJson(const boost::json::value& value, JsonStyle style = {});

// A request body as go-httpbin's json.NewDecoder(body).Decode(&any) reads it: the first
// JSON value only (bytes after it are ignored), every number a float64, objects as Go maps
// (keys sorted, the last of duplicate keys wins).
Result<boost::json::value> decodeJsonLikeGo(std::string_view body);

}  // namespace weft::httpbin
