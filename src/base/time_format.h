#pragma once
// UTC timestamps in the few spellings Weft prints.

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace weft {

std::string formatRfc3339(SystemTime t);   // 2026-01-01T00:00:00Z (YAML, JSON, reports)
std::string formatUtc(SystemTime t);       // 2026-01-01 00:00:00 UTC (error messages)
std::string formatDate(SystemTime t);
// Reads what formatRfc3339 writes (seconds, UTC "Z"); nullopt for anything else.
std::optional<SystemTime> parseRfc3339(std::string_view text);      // 2026-01-01

}  // namespace weft
