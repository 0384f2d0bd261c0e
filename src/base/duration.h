#pragma once
// Duration strings in the form Go's time.ParseDuration accepts ("1h30m", "1.5s", "300ms"),
// which is the form Istio's APIs and istioctl flags use. Days ("90d") are accepted only
// where the caller opts in, as for certificate lifetimes on the command line.

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace weft {

struct DurationSyntax {
  bool allowDays = false;
  bool allowNegative = false;
};

Result<std::chrono::nanoseconds> parseDuration(std::string_view text, DurationSyntax syntax = {});

// "24h", "1h30m", "45s", "250ms": the shortest exact spelling, for messages and tables.
std::string formatDuration(std::chrono::nanoseconds duration);

// kubectl's AGE column: "45s", "3m12s", "25m", "5h3m", "17h", "3d4h", "12d", "2y".
std::string formatAge(std::chrono::seconds age);

}  // namespace weft
