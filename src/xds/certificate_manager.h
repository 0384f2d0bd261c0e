#pragma once
// Workload certificates from weftd's certificate service, for the identities a data-plane
// process asks for (ztunnel: those of the pods on its node; a waypoint: its own service
// account's): requested when first wanted, renewed at half-life, retried with back-off
// (capped at 150 s) on failure, and kept while still valid when weftd is away
// (../shared/reference/hbone-and-ztunnel.md §3.2). The caller authenticates with its
// node's credential; weftd signs only for service accounts of pods on that node.
//
// Threads: a thread of its own talks to the CA; get() is safe from any thread and never
// blocks on the network.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/clock.h"
#include "weft/v1/ca.grpc.pb.h"
#include "xds/workload_certificate.h"

namespace weft::xds {

struct CertificateCounters {
  std::atomic<uint64_t> issued{0};
  std::atomic<uint64_t> failed{0};
};

class CertificateManager {
 public:
  using Listener = std::function<void(const std::string& identity)>;

  CertificateManager(std::shared_ptr<grpc::Channel> ca, Clock clock, std::chrono::seconds ttl = std::chrono::hours(24));
  ~CertificateManager();

  void start();
  void stop();

  // The identities certificates are wanted for; others are dropped.
  void setWanted(const std::set<std::string>& identities);
  // The current certificate, or null when none is held (yet).
  std::shared_ptr<const WorkloadCertificate> get(const std::string& identity) const;
  std::map<std::string, std::shared_ptr<const WorkloadCertificate>> all() const;
  // Called (on the manager's thread) after a certificate was issued or renewed.
  void onIssued(Listener listener);
  const CertificateCounters& counters() const { return counters_; }

 private:
  struct Entry {
    std::shared_ptr<const WorkloadCertificate> certificate;
    SystemTime nextAttempt{};
    std::chrono::seconds backoff{1};
  };

  void run();
  void refresh(const std::string& identity);
  Result<WorkloadCertificate> request(const std::string& identity);

  std::unique_ptr<weft::v1::CertificateService::Stub> stub_;
  Clock clock_;
  std::chrono::seconds ttl_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Entry> entries_;
  std::vector<Listener> listeners_;
  bool stopping_ = false;
  uint64_t serial_ = 0;
  CertificateCounters counters_;
  std::thread thread_;
};

}  // namespace weft::xds
