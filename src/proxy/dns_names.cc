#include "proxy/dns_names.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <system_error>

namespace weft::proxy {

namespace {

using Clock = DnsNames::Clock;

constexpr std::chrono::seconds kLookupGrace{1};

struct Entry {
  bool lookedUp = false;
  bool inFlight = false;
  DnsAnswer::Outcome lastOutcome = DnsAnswer::Outcome::kFound;
  DnsAddresses addresses;
  Clock::time_point due{};
};

}  // namespace

struct DnsNames::Shared {
  std::function<void()> changed;
  Options options;
  Lookup lookup;
  std::mutex mutex;
  std::condition_variable wake;      // the scheduler: new names, a lookup done, a new rate, stop
  std::condition_variable lookedUp;  // track(): a first lookup finished; the destructor: a callback ended
  std::map<std::string, Entry> entries;
  size_t inFlight = 0;
  size_t callbacksRunning = 0;
  bool stopping = false;

  ResolvedNames snapshot() const {
    ResolvedNames resolved;
    for (const auto& [name, entry] : entries) {
      if (entry.lookedUp) resolved.emplace(name, entry.addresses);
    }
    return resolved;
  }

  bool allLookedUp(const std::set<std::string>& names) const {
    return std::all_of(names.begin(), names.end(), [&](const std::string& name) {
      auto found = entries.find(name);
      return found == entries.end() || found->second.lookedUp;
    });
  }

  // Under the lock. True when the name's addresses changed.
  bool record(const std::string& name, Entry& entry, const DnsAnswer& answer) {
    bool first = !entry.lookedUp;
    entry.lookedUp = true;
    entry.due = Clock::now() + options.refresh;
    DnsAddresses next = entry.addresses;
    if (answer.outcome == DnsAnswer::Outcome::kFound) {
      next.sorted = answer.addresses;
      std::sort(next.sorted.begin(), next.sorted.end());
      next.sorted.erase(std::unique(next.sorted.begin(), next.sorted.end()), next.sorted.end());
      // The first address changes only when it left the answer: order alone is no change.
      if (!std::binary_search(next.sorted.begin(), next.sorted.end(), next.first)) next.first = answer.addresses.front();
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
};

namespace {

// One lookup, on a thread of its own that holds the shared state: it may outlive DnsNames.
void lookUp(std::shared_ptr<DnsNames::Shared> shared, std::string name) {
  DnsAnswer answer = shared->lookup(name);
  std::unique_lock lock(shared->mutex);
  --shared->inFlight;
  auto found = shared->entries.find(name);  // forgotten meanwhile, or stopping: nothing to do
  bool changed = false;
  if (found != shared->entries.end() && !shared->stopping) {
    found->second.inFlight = false;
    changed = shared->record(name, found->second, answer);
  }
  shared->lookedUp.notify_all();
  shared->wake.notify_all();
  if (!changed || !shared->changed || shared->stopping) return;
  ++shared->callbacksRunning;
  lock.unlock();
  shared->changed();
  lock.lock();
  --shared->callbacksRunning;
  shared->lookedUp.notify_all();
}

// Starts the lookups that are due, as many as may run; sleeps until the next is due.
void schedule(std::shared_ptr<DnsNames::Shared> shared) {
  std::unique_lock lock(shared->mutex);
  while (!shared->stopping) {
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    for (auto& [name, entry] : shared->entries) {
      if (entry.inFlight) continue;
      bool due = !entry.lookedUp || entry.due <= now;
      if (due && shared->inFlight < DnsNames::kMaxLookupsInFlight) {
        try {
          std::thread(lookUp, shared, name).detach();
          entry.inFlight = true;
          ++shared->inFlight;
        } catch (const std::system_error& e) {
          // No thread to be had (a process limit): this name waits for its next turn.
          spdlog::warn("dns: {}: no thread for the lookup ({}): trying again in {} ms", name, e.what(), shared->options.refresh.count());
          entry.lookedUp = true;  // so track() does not wait for it
          entry.due = now + shared->options.refresh;
          next = std::min(next, entry.due);
        }
      } else if (!due) {
        next = std::min(next, entry.due);
      }
    }
    if (next == Clock::time_point::max()) {
      shared->wake.wait(lock);
    } else {
      shared->wake.wait_until(lock, next);
    }
  }
}

}  // namespace

DnsNames::DnsNames(std::function<void()> changed, Options options) : DnsNames(std::move(changed), options, systemLookup) {}

namespace {
std::shared_ptr<DnsNames::Shared> makeShared(std::function<void()> changed, DnsNames::Options options, DnsNames::Lookup lookup) {
  auto shared = std::make_shared<DnsNames::Shared>();
  shared->changed = std::move(changed);
  shared->options = options;
  shared->lookup = std::move(lookup);
  return shared;
}
}  // namespace

DnsNames::DnsNames(std::function<void()> changed, Options options, Lookup lookup)
    : shared_(makeShared(std::move(changed), options, std::move(lookup))), scheduler_(schedule, shared_) {}

DnsNames::~DnsNames() {
  std::unique_lock lock(shared_->mutex);
  shared_->stopping = true;
  shared_->wake.notify_all();
  shared_->lookedUp.notify_all();
  // A callback under way may use our owner: wait for it. Lookups under way get a second
  // to finish (most answer from the hosts file at once); one still stuck in getaddrinfo,
  // which cannot be interrupted, is left behind: its thread sees `stopping` and ends.
  shared_->lookedUp.wait(lock, [&] { return shared_->callbacksRunning == 0; });
  shared_->lookedUp.wait_for(lock, kLookupGrace, [&] { return shared_->inFlight == 0; });
  lock.unlock();
  scheduler_.join();  // never inside getaddrinfo
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
  std::unique_lock lock(shared_->mutex);
  bool added = false;
  for (const auto& name : names) added |= shared_->entries.try_emplace(name).second;
  if (added) shared_->wake.notify_all();
  shared_->lookedUp.wait_for(lock, shared_->options.firstLookupWait, [&] { return shared_->stopping || shared_->allLookedUp(names); });
  return shared_->snapshot();
}

void DnsNames::forgetExcept(const std::set<std::string>& names) {
  std::lock_guard lock(shared_->mutex);
  std::erase_if(shared_->entries, [&](const auto& item) { return !names.contains(item.first); });
}

ResolvedNames DnsNames::current() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->snapshot();
}

void DnsNames::setRefresh(std::chrono::milliseconds refresh) {
  std::lock_guard lock(shared_->mutex);
  if (refresh == shared_->options.refresh) return;
  // Names already looked up keep their next time unless the new rate brings it closer.
  auto now = Clock::now();
  for (auto& [name, entry] : shared_->entries) entry.due = std::min(entry.due, now + refresh);
  shared_->options.refresh = refresh;
  shared_->wake.notify_all();
}

}  // namespace weft::proxy
