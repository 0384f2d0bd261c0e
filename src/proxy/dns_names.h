#pragma once
// The host names of DNS clusters (ServiceEntry resolution DNS and DNS_ROUND_ROBIN), looked
// up by the proxy itself and looked up again every refresh interval, as Envoy does for
// STRICT_DNS and LOGICAL_DNS clusters. A lookup is getaddrinfo (IPv4 only): the pod's hosts
// file first, then its resolv.conf.
//
// Lookups run on a thread of their own, because getaddrinfo blocks (a missing name can take
// the resolver's whole timeout) and must not stall the io thread or discovery.
//  - track() names the set to keep fresh (a config with other clusters forgets the rest)
//    and waits, bounded, for the first lookup of names it has not seen, so a new cluster
//    starts with its endpoints rather than a burst of 503s (Envoy warms a cluster the same
//    way before using it).
//  - A lookup whose answer differs from the last calls `changed` (on the lookup thread), so
//    the owner can rebuild its config; unchanged answers cost nothing more.
//  - A name that does not exist (NXDOMAIN, no IPv4 address) has no addresses. A lookup
//    that fails otherwise (no answer, a resolver error) keeps the last addresses, as Envoy
//    keeps a cluster's hosts when a resolution fails.
// Every outcome that differs from the last is logged once.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace weft::proxy {

struct DnsAnswer {
  enum class Outcome { kFound, kNoSuchName, kFailed };
  Outcome outcome = Outcome::kFailed;
  std::vector<std::string> addresses;  // IPv4, in the order the resolver gave them
  std::string error;                   // kNoSuchName, kFailed: the resolver's words
};

// What is known of one name.
struct DnsAddresses {
  std::vector<std::string> sorted;  // distinct; compared to tell a change
  std::string first;                // the first the last lookup returned (DNS_ROUND_ROBIN)
  bool operator==(const DnsAddresses&) const = default;
};

using ResolvedNames = std::map<std::string, DnsAddresses>;

class DnsNames {
 public:
  using Clock = std::chrono::steady_clock;
  using Lookup = std::function<DnsAnswer(const std::string& name)>;

  struct Options {
    // Kubernetes' DNS gives cluster names a 5 s TTL, which Envoy follows in Istio
    // (respect_dns_ttl); getaddrinfo tells no TTL, so this stands in for it. The
    // ConfigPublisher lowers it to meshConfig.dnsRefreshRate when that is shorter.
    std::chrono::milliseconds refresh{5000};
    // How long track() waits for a new name's first lookup.
    std::chrono::milliseconds firstLookupWait{5000};
  };

  // `changed` is called on the lookup thread; `lookup` is the system's unless a test gives one.
  explicit DnsNames(std::function<void()> changed, Options options);
  DnsNames(std::function<void()> changed, Options options, Lookup lookup);
  ~DnsNames();
  DnsNames(const DnsNames&) = delete;
  DnsNames& operator=(const DnsNames&) = delete;

  ResolvedNames track(const std::set<std::string>& names);
  ResolvedNames current() const;
  void setRefresh(std::chrono::milliseconds refresh);

  // getaddrinfo, IPv4 only.
  static DnsAnswer systemLookup(const std::string& name);

 private:
  struct Entry {
    bool lookedUp = false;
    DnsAnswer::Outcome lastOutcome = DnsAnswer::Outcome::kFound;
    DnsAddresses addresses;
    Clock::time_point due{};
  };

  void run();
  // Under the lock. True when the name's addresses changed.
  bool record(const std::string& name, Entry& entry, const DnsAnswer& answer);
  bool allLookedUp(const std::set<std::string>& names) const;
  ResolvedNames snapshot() const;

  std::function<void()> changed_;
  Options options_;
  Lookup lookup_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;       // the lookup thread: new names, a new rate, stop
  std::condition_variable lookedUp_;   // track(): a lookup finished
  std::map<std::string, Entry> entries_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace weft::proxy
