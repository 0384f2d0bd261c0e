#include "proxy/dns_names.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace weft::proxy {

DnsNames::DnsNames(std::function<void()> changed, Options options) : DnsNames(std::move(changed), options, systemLookup) {}

DnsNames::DnsNames(std::function<void()> changed, Options options, Lookup lookup)
    : changed_(std::move(changed)), options_(options), lookup_(std::move(lookup)), thread_([this] { run(); }) {}

DnsNames::~DnsNames() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  lookedUp_.notify_all();
  // A lookup in progress finishes first (getaddrinfo cannot be interrupted): bounded by
  // the resolver's own timeout.
  thread_.join();
}

DnsAnswer DnsNames::systemLookup(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found);
  DnsAnswer answer;
  if (rc != 0) {
    bool noSuchName = rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY;
    answer.outcome = noSuchName ? DnsAnswer::Outcome::kNoSuchName : DnsAnswer::Outcome::kFailed;
    answer.error = gai_strerror(rc);
    return answer;
  }
  answer.outcome = DnsAnswer::Outcome::kFound;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET_ADDRSTRLEN] = {};
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
    if (a->ai_family != AF_INET || inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) == nullptr) continue;
    if (std::find(answer.addresses.begin(), answer.addresses.end(), text) == answer.addresses.end()) answer.addresses.emplace_back(text);
  }
  freeaddrinfo(found);
  if (answer.addresses.empty()) {
    answer.outcome = DnsAnswer::Outcome::kNoSuchName;
    answer.error = "no IPv4 address";
  }
  return answer;
}

ResolvedNames DnsNames::track(const std::set<std::string>& names) {
  std::unique_lock lock(mutex_);
  bool added = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = names.contains(it->first) ? std::next(it) : entries_.erase(it);
  }
  for (const auto& name : names) added |= entries_.try_emplace(name).second;
  if (added) wake_.notify_all();
  lookedUp_.wait_for(lock, options_.firstLookupWait, [&] { return stopping_ || allLookedUp(names); });
  return snapshot();
}

ResolvedNames DnsNames::current() const {
  std::lock_guard lock(mutex_);
  return snapshot();
}

void DnsNames::setRefresh(std::chrono::milliseconds refresh) {
  std::lock_guard lock(mutex_);
  if (refresh == options_.refresh) return;
  // Names already looked up keep their next time unless the new rate brings it closer.
  auto now = Clock::now();
  for (auto& [name, entry] : entries_) entry.due = std::min(entry.due, now + refresh);
  options_.refresh = refresh;
  wake_.notify_all();
}

bool DnsNames::allLookedUp(const std::set<std::string>& names) const {
  return std::all_of(names.begin(), names.end(), [&](const std::string& name) {
    auto found = entries_.find(name);
    return found == entries_.end() || found->second.lookedUp;
  });
}

ResolvedNames DnsNames::snapshot() const {
  ResolvedNames resolved;
  for (const auto& [name, entry] : entries_) {
    if (entry.lookedUp) resolved.emplace(name, entry.addresses);
  }
  return resolved;
}

bool DnsNames::record(const std::string& name, Entry& entry, const DnsAnswer& answer) {
  bool first = !entry.lookedUp;
  entry.lookedUp = true;
  entry.due = Clock::now() + options_.refresh;
  DnsAddresses next = entry.addresses;
  if (answer.outcome == DnsAnswer::Outcome::kFound) {
    next.sorted = answer.addresses;
    std::sort(next.sorted.begin(), next.sorted.end());
    next.sorted.erase(std::unique(next.sorted.begin(), next.sorted.end()), next.sorted.end());
    next.first = answer.addresses.front();
  } else if (answer.outcome == DnsAnswer::Outcome::kNoSuchName) {
    next = {};
  }
  bool outcomeChanged = first || answer.outcome != entry.lastOutcome;
  entry.lastOutcome = answer.outcome;
  bool addressesChanged = next != entry.addresses;
  entry.addresses = std::move(next);
  if (answer.outcome == DnsAnswer::Outcome::kFound && (outcomeChanged || addressesChanged)) {
    spdlog::info("dns: {} is {}", name, fmt::join(entry.addresses.sorted, ", "));
  } else if (answer.outcome == DnsAnswer::Outcome::kNoSuchName && outcomeChanged) {
    spdlog::warn("dns: {}: {}: its endpoints are gone until it resolves", name, answer.error);
  } else if (answer.outcome == DnsAnswer::Outcome::kFailed && outcomeChanged) {
    spdlog::warn("dns: {}: lookup failed ({}): {}", name, answer.error,
                 entry.addresses.sorted.empty() ? "no endpoints until it answers" : "keeping the last addresses");
  }
  // A first answer counts too: track() may have stopped waiting for it.
  return addressesChanged;
}

void DnsNames::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = Clock::now();
    std::vector<std::string> due;
    auto next = Clock::time_point::max();
    for (const auto& [name, entry] : entries_) {
      if (!entry.lookedUp || entry.due <= now) {
        due.push_back(name);
      } else {
        next = std::min(next, entry.due);
      }
    }
    if (due.empty()) {
      if (next == Clock::time_point::max()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, next);
      }
      continue;
    }
    bool changed = false;
    for (const auto& name : due) {
      lock.unlock();
      DnsAnswer answer = lookup_(name);
      lock.lock();
      if (stopping_) return;
      auto found = entries_.find(name);  // track() may have dropped it meanwhile
      if (found != entries_.end()) changed |= record(name, found->second, answer);
      lookedUp_.notify_all();
    }
    if (changed && changed_) {
      lock.unlock();
      changed_();
      lock.lock();
    }
  }
}

}  // namespace weft::proxy
