#pragma once
// One client's DeltaStream call on gRPC's synchronous API: the handler thread runs the
// writer loop, and a reader thread of its own turns incoming requests into queue entries.
// The DeltaSession is touched only by the writer loop, so the protocol state needs no lock;
// the mutex guards only the hand-over (queued requests and wake-up flags).
//
// Why two threads: a sync stream's Read blocks, and a stream must react both to its client
// and to publish(). gRPC allows one concurrent Read and one Write on a stream.
//
// Ending: the client going away ends Read; stop() (shutdown) cancels the call, which ends
// both a blocked Read and a Write stalled on flow control. The reader thread is always
// joined before run() returns, since it uses the call.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "control/discovery/delta_session.h"
#include "control/discovery/discovery_metrics.h"
#include "control/discovery/snapshot.h"
#include "weft/v1/discovery.grpc.pb.h"

namespace weft::control::discovery {

// A snapshot and the instant publish() made it current, for push latency.
struct PublishedSnapshot {
  std::shared_ptr<const Snapshot> snapshot;  // null until the first publish
  std::chrono::steady_clock::time_point publishedAt;
};

class DiscoveryStream {
 public:
  // Requests read but not yet applied; past this the reader stops reading.
  static constexpr size_t kMaxQueuedRequests = 1024;

  using Io = grpc::ServerReaderWriter<weft::v1::DeltaResponse, weft::v1::DeltaRequest>;
  using CurrentSnapshot = std::function<PublishedSnapshot()>;

  // `sequenceAtStart` is the snapshot current when the call arrived: answers drawn from it
  // are initial state, not pushes, and do not count towards push latency.
  DiscoveryStream(uint64_t id, grpc::ServerContext* context, Io* io, DiscoveryMetrics& metrics, CurrentSnapshot current,
                  uint64_t sequenceAtStart);

  // Serves the call until the client leaves, a request is refused, or stop(); on the
  // handler thread.
  grpc::Status run();

  // From any thread while run() may be running:
  void wake();  // a snapshot was published
  void stop();  // end the call now

 private:
  grpc::Status writeLoop();
  void readLoop();
  void handle(const weft::v1::DeltaRequest& request);
  bool pushCurrent();  // false when the write failed (the call is gone)

  const uint64_t id_;
  grpc::ServerContext* const context_;
  Io* const io_;
  DiscoveryMetrics& metrics_;
  const CurrentSnapshot current_;
  std::string client_;        // node id, once the first request is read
  uint64_t latencySequence_;  // pushes of snapshots after this one are timed
  DeltaSession session_;      // writer loop only

  std::mutex mutex_;
  std::condition_variable wakeUp_;          // the writer loop waits on it
  std::condition_variable roomForRequests_;  // the reader waits on it when the queue is full
  std::deque<weft::v1::DeltaRequest> requests_;
  bool published_ = false;
  bool stopping_ = false;
  bool readerEnded_ = false;
  grpc::Status readerStatus_;  // why the reader ended: OK, or a refused request
};

}  // namespace weft::control::discovery
