#pragma once
// ASCII case folding for protocol text (header names, hosts, enum spellings): never
// locale-dependent, so "I" folds to "i" in every locale.

#include <string>
#include <string_view>

namespace weft {

inline std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace weft
