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
      Entry fresh;
      fresh.source = source;
      fresh.next = now;
      fresh.generation = ++generations_;
      kept.emplace(key, std::move(fresh));
    }
  }
  entries_ = std::move(kept);
  return results() != before;
}

std::optional<JwksSchedule::Taken> JwksSchedule::take(TimePoint now) {
  Entry* pick = nullptr;
  for (auto& [key, entry] : entries_) {
    if (entry.inFlight || entry.next > now) continue;
    // A source never attempted goes before refreshes and retries: a new policy's keys
    // should not wait behind a slow identity provider's refresh.
    bool better = pick == nullptr || (!entry.everAttempted && pick->everAttempted) ||
                  (entry.everAttempted == pick->everAttempted && entry.next < pick->next);
    if (better) pick = &entry;
  }
  if (pick == nullptr) return std::nullopt;
  pick->inFlight = true;
  return Taken{pick->source, pick->generation};
}

JwksSchedule::TimePoint JwksSchedule::nextDue() const {
  TimePoint next = TimePoint::max();
  for (const auto& [key, entry] : entries_) {
    if (!entry.inFlight) next = std::min(next, entry.next);
  }
  return next;
}

bool JwksSchedule::record(const Taken& taken, const Result<std::string>& jwks, TimePoint now) {
  auto found = entries_.find(taken.source.key());
  if (found == entries_.end() || found->second.generation != taken.generation) return false;
  Entry& entry = found->second;
  FetchedJwks before = entry.fetched;
  entry.inFlight = false;
  entry.everAttempted = true;
  if (jwks) {
    entry.fetched = {*jwks, ""};
    entry.failures = 0;
    entry.lastSuccess = now;
    entry.next = now + timing_.refresh;
  } else {
    entry.fetched.error = jwks.error().message;
    if (!entry.fetched.jwks.empty() && now - entry.lastSuccess >= timing_.evictAfter) entry.fetched.jwks.clear();
    ++entry.failures;
    auto wait = timing_.firstRetry;
    for (int i = 1; i < entry.failures && wait < timing_.refresh; ++i) wait *= 2;
    entry.next = now + std::min(wait, timing_.refresh);
  }
  return entry.fetched.jwks != before.jwks || entry.fetched.error.empty() != before.error.empty();
}

FetchedJwksByKey JwksSchedule::results() const {
  FetchedJwksByKey out;
  for (const auto& [key, entry] : entries_) {
    if (entry.fetched != FetchedJwks{}) out[key] = entry.fetched;
  }
  return out;
}

}  // namespace weft::control
