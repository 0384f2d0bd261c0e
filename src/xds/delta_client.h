#pragma once
// The data-plane side of weftd's discovery service: a delta-xDS client that subscribes to
// every resource of the types it is given, keeps what it accepted, ACKs what it can apply
// and NACKs what it cannot (keeping its previous version), and reconnects after losing
// weftd with initial_resource_versions so only differences come back. ztunnel and the
// proxies share it; what a type means is the owner's business (the Validator and Apply
// callbacks).
//
// Threads: one thread of its own reads the stream and calls the callbacks; they must not
// block for long. stop() cancels the stream and joins.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "weft/v1/discovery.grpc.pb.h"

namespace weft::xds {

// type -> name -> resource: everything the client holds.
using HeldResources = std::map<std::string, std::map<std::string, weft::v1::Resource>>;

struct DeltaClientCounters {
  std::atomic<uint64_t> responses{0};
  std::atomic<uint64_t> acks{0};
  std::atomic<uint64_t> nacks{0};
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> disconnects{0};
};

class DeltaClient {
 public:
  // Called with what the client would hold after a response; an error NACKs the response
  // (the message goes to weftd) and nothing changes.
  using Validator = std::function<Result<void>(const HeldResources& candidate)>;
  // Called after a response was accepted, with everything held.
  using Apply = std::function<void(const HeldResources& held)>;

  struct Options {
    std::vector<std::string> types;
    weft::v1::ClientNode node;
    std::chrono::milliseconds initialBackoff{200};
    std::chrono::milliseconds maxBackoff{15000};
  };

  DeltaClient(std::shared_ptr<grpc::Channel> channel, Options options, Validator validate, Apply apply);
  ~DeltaClient();
  DeltaClient(const DeltaClient&) = delete;
  DeltaClient& operator=(const DeltaClient&) = delete;

  void start();
  void stop();

  bool connected() const { return connected_.load(); }
  // True once a response of every type has been accepted on some stream (a data plane is
  // ready to serve from then on).
  bool synced() const { return synced_.load(); }
  const DeltaClientCounters& counters() const { return counters_; }
  HeldResources held() const;

 private:
  void run();
  // One stream from open to end; returns whether any response arrived (resets backoff).
  bool runStream();
  weft::v1::DeltaRequest answer(const weft::v1::DeltaResponse& response);

  std::unique_ptr<weft::v1::DiscoveryService::Stub> stub_;
  Options options_;
  Validator validate_;
  Apply apply_;

  mutable std::mutex mutex_;  // guards held_, context_, stopping_
  std::condition_variable wake_;
  HeldResources held_;
  std::unique_ptr<grpc::ClientContext> context_;
  bool stopping_ = false;
  std::vector<std::string> typesSeen_;

  std::atomic<bool> connected_{false};
  std::atomic<bool> synced_{false};
  DeltaClientCounters counters_;
  std::thread thread_;
};

}  // namespace weft::xds
