#pragma once
// weft.v1.DiscoveryService: weftd's delta-xDS server. weftd builds a Snapshot off-lock and
// publish()es it; every stream then sends its client only what changed for what it
// subscribed to (see delta_session.h for the protocol rules).
//
// Lifecycle: register with a grpc::ServerBuilder (weftd supplies the TLS credentials),
// publish() as config changes, and on the way out call shutdown() before
// grpc::Server::Shutdown(): shutdown() ends every open stream at once, which a sync gRPC
// server would otherwise wait on forever. The object must outlive the grpc::Server.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "base/result.h"
#include "control/discovery/discovery_metrics.h"
#include "control/discovery/discovery_stream.h"
#include "control/discovery/snapshot.h"
#include "weft/v1/discovery.grpc.pb.h"

namespace weft::control::discovery {

class DiscoveryServer final : public weft::v1::DiscoveryService::Service {
 public:
  DiscoveryServer() = default;
  ~DiscoveryServer() override;  // shutdown()
  DiscoveryServer(const DiscoveryServer&) = delete;
  DiscoveryServer& operator=(const DiscoveryServer&) = delete;

  // Makes `snapshot` current and wakes every stream. Refuses a null snapshot and one whose
  // sequence does not exceed the current one's (an older view must never replace a newer).
  Status publish(std::shared_ptr<const Snapshot> snapshot);
  std::shared_ptr<const Snapshot> current() const;

  // Ends every stream (clients see CANCELLED and reconnect elsewhere or later), refuses new
  // ones with UNAVAILABLE, and returns once no stream is left. Idempotent.
  void shutdown();

  const DiscoveryMetrics& metrics() const { return metrics_; }

  grpc::Status DeltaStream(grpc::ServerContext* context,
                           grpc::ServerReaderWriter<weft::v1::DeltaResponse, weft::v1::DeltaRequest>* stream) override;

 private:
  PublishedSnapshot published() const;

  DiscoveryMetrics metrics_;
  std::atomic<uint64_t> streamsStarted_{0};

  mutable std::mutex mutex_;  // guards what follows; publish and stream start/end only
  std::condition_variable streamsGone_;
  PublishedSnapshot current_;
  std::unordered_set<DiscoveryStream*> streams_;
  bool shuttingDown_ = false;
};

}  // namespace weft::control::discovery
