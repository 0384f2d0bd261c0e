#pragma once
// The request-target read as Go's server reads it (url.ParseRequestURI), because routing
// uses the decoded path and the echoed "url" is rebuilt from its parts.

#include <string>
#include <string_view>

#include "base/result.h"

namespace weft::httpbin {

struct RequestTarget {
  std::string path;      // decoded: what routing matches ("/status/418" for "/status/%34%31%38")
  std::string rawPath;   // as sent
  std::string rawQuery;  // after the first '?', still encoded
  bool hasQuery = false; // a '?' was sent, even with nothing after it ("/get?")
  std::string host;      // the authority of an absolute-form target ("http://h:1/get"), else empty
};

// Origin form ("/get?a=1"), absolute form ("http://host/get") or "*". Anything else, or a
// path with a bad %-escape, is refused: Go's server answers those with 400.
Result<RequestTarget> parseRequestTarget(std::string_view target);

// url.URL.EscapedPath: the path as sent when it is a valid encoding, else `path` escaped
// (so a target built with only `path` set gets it escaped).
std::string escapedPath(const RequestTarget& target);

// ServeMux's cleanPath: "//a/./b/../c/" -> "/a/c/". Go redirects (301) to it when it differs.
std::string cleanPath(std::string_view path);

}  // namespace weft::httpbin
