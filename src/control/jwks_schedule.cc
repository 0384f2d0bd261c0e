#include "control/jwks_schedule.h"

#include <algorithm>

namespace weft::control {

bool JwksSchedule::want(const std::vector<JwksSource>& sources, TimePoint now) {
  FetchedJwksByKey before = results();
  std::map<std::string, Entry> kept;
  for (const auto& source : sources) {
    std::string key = source.key();
    if (auto same = kept.find(key); same != kept.end()) {
      // Two rules naming one URL share one fetch, with the longer of their timeouts.
      same->second.source.timeout = std::max(same->second.source.timeout, source.timeout);
      continue;
    }
    if (auto old = entries_.find(key); old != entries_.end()) {
      old->second.source.timeout = source.timeout;
      kept.emplace(key, std::move(old->second));
    } else {
      kept.emplace(key, Entry{source, {}, now, 0});
    }
  }
  entries_ = std::move(kept);
  return results() != before;
}

std::vector<JwksSource> JwksSchedule::due(TimePoint now) const {
  std::vector<JwksSource> out;
  for (const auto& [key, entry] : entries_) {
    if (entry.next <= now) out.push_back(entry.source);
  }
  return out;
}

JwksSchedule::TimePoint JwksSchedule::nextDue() const {
  TimePoint next = TimePoint::max();
  for (const auto& [key, entry] : entries_) next = std::min(next, entry.next);
  return next;
}

bool JwksSchedule::record(const JwksSource& source, const Result<std::string>& jwks, TimePoint now) {
  auto found = entries_.find(source.key());
  if (found == entries_.end()) return false;
  Entry& entry = found->second;
  FetchedJwks before = entry.fetched;
  if (jwks) {
    entry.fetched = {*jwks, ""};
    entry.failures = 0;
    entry.next = now + timing_.refresh;
  } else {
    entry.fetched.error = jwks.error().message;
    ++entry.failures;
    auto wait = timing_.firstRetry;
    for (int i = 1; i < entry.failures && wait < timing_.refresh; ++i) wait *= 2;
    entry.next = now + std::min(wait, timing_.refresh);
  }
  return entry.fetched != before;
}

FetchedJwksByKey JwksSchedule::results() const {
  FetchedJwksByKey out;
  for (const auto& [key, entry] : entries_) {
    if (entry.fetched != FetchedJwks{}) out[key] = entry.fetched;
  }
  return out;
}

}  // namespace weft::control
