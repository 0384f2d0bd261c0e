#pragma once
// The host names of DNS clusters (ServiceEntry resolution DNS and DNS_ROUND_ROBIN), looked
// up by the proxy itself and looked up again every refresh interval, as Envoy does for
// STRICT_DNS and LOGICAL_DNS clusters. A lookup is getaddrinfo (IPv4 only): the pod's hosts
// file first, then its resolv.conf.
//
// Lookups run on threads of their own, because getaddrinfo blocks (a missing name can take
// the resolver's whole timeout) and must not stall the io thread or discovery: a scheduler
// thread starts each due lookup on a short-lived thread, at most kMaxLookupsInFlight at a
// time and one per name, so one slow name does not hold up the others. Shutting down waits
// a second at most for lookups in flight (getaddrinfo cannot be interrupted); one still
// stuck is left to end on its own thread, which holds what it needs.
//  - track() adds names to keep fresh and waits, bounded, for the first lookup of those it
//    has not seen, so a new cluster starts with its endpoints rather than a burst of 503s
//    (Envoy warms a cluster the same way before using it). forgetExcept() drops the rest
//    once the config that no longer needs them is in use.
//  - A lookup whose answer differs from the last calls `changed` (on a lookup thread), so
//    the owner can rebuild its config; unchanged answers cost nothing more. The order of
//    the addresses is not a change: the first one (DNS_ROUND_ROBIN's) stays while the
//    answer still holds it, so a resolver that shuffles its records causes no rebuilds.
//  - A name that does not exist (NXDOMAIN, no IPv4 address) has no addresses. A lookup
//    that fails otherwise (no answer, a resolver error) keeps the last addresses, as Envoy
//    keeps a cluster's hosts when a resolution fails.
// Every outcome that differs from the last is logged once.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
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
  static constexpr size_t kMaxLookupsInFlight = 8;

  struct Options {
    // Kubernetes' DNS gives cluster names a 5 s TTL, which Envoy follows in Istio
    // (respect_dns_ttl); getaddrinfo tells no TTL, so this stands in for it. The
    // ConfigPublisher lowers it to meshConfig.dnsRefreshRate when that is shorter.
    std::chrono::milliseconds refresh{5000};
    // How long track() waits for a new name's first lookup.
    std::chrono::milliseconds firstLookupWait{5000};
  };

  // `changed` is called on a lookup thread, never after the destructor has returned;
  // `lookup` is the system's unless a test gives one.
  DnsNames(std::function<void()> changed, Options options);
  DnsNames(std::function<void()> changed, Options options, Lookup lookup);
  ~DnsNames();
  DnsNames(const DnsNames&) = delete;
  DnsNames& operator=(const DnsNames&) = delete;

  ResolvedNames track(const std::set<std::string>& names);
  void forgetExcept(const std::set<std::string>& names);
  ResolvedNames current() const;
  void setRefresh(std::chrono::milliseconds refresh);

  // getaddrinfo, IPv4 only.
  static DnsAnswer systemLookup(const std::string& name);

  struct Shared;  // dns_names.cc: what the lookup threads share with this object

 private:
  std::shared_ptr<Shared> shared_;
  std::thread scheduler_;
};

}  // namespace weft::proxy
