#pragma once
// Time is injected, never read directly, so tests can put a component at any instant
// without sleeping (certificate validity, renewal, back-off).

#include <chrono>
#include <functional>

namespace weft {

using SystemTime = std::chrono::system_clock::time_point;
using Clock = std::function<SystemTime()>;

inline Clock systemClock() {
  return [] { return std::chrono::system_clock::now(); };
}

inline Clock fixedClock(SystemTime at) {
  return [at] { return at; };
}

}  // namespace weft
