#pragma once
// How well a server, virtual host or route name matches a host name, in Envoy's order:
// the exact name, then the longest "*.suffix" wildcard, then "*". Both lower case.

#include <cstddef>
#include <limits>
#include <string_view>

namespace weft::proxy {

inline constexpr size_t kNoHostMatch = 0;

// 0: no match; 1: "*"; 1 + the suffix length for "*.suffix" ("*.example.com" matches
// "a.example.com" and "a.b.example.com", never "example.com"); the largest for the name itself.
inline size_t hostMatchRank(std::string_view pattern, std::string_view host) {
  if (pattern == host) return std::numeric_limits<size_t>::max();
  if (pattern == "*") return 1;
  if (!pattern.starts_with("*.")) return kNoHostMatch;
  std::string_view suffix = pattern.substr(1);
  return host.size() > suffix.size() && host.ends_with(suffix) ? 1 + suffix.size() : kNoHostMatch;
}

}  // namespace weft::proxy
