#include "control/discovery/discovery_stream.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

namespace weft::control::discovery {

DiscoveryStream::DiscoveryStream(uint64_t id, grpc::ServerContext* context, Io* io, DiscoveryMetrics& metrics,
                                 CurrentSnapshot current, uint64_t sequenceAtStart)
    : id_(id),
      context_(context),
      io_(io),
      metrics_(metrics),
      current_(std::move(current)),
      latencySequence_(sequenceAtStart),
      session_(fmt::format("{}", id)) {}

void DiscoveryStream::wake() {
  std::lock_guard lock(mutex_);
  published_ = true;
  wakeUp_.notify_one();
}

void DiscoveryStream::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wakeUp_.notify_one();
    roomForRequests_.notify_one();
  }
  context_->TryCancel();  // unblocks a Read or a Write waiting on the client
}

grpc::Status DiscoveryStream::run() {
  weft::v1::DeltaRequest first;
  if (!io_->Read(&first)) return grpc::Status::CANCELLED;  // gone (or stopped) before saying anything
  if (auto valid = validateRequest(first, true); !valid) {
    ++metrics_.refusedStreams;
    spdlog::warn("discovery: stream {} from {} refused: {}", id_, context_->peer(), valid.error().message);
    return {grpc::StatusCode::INVALID_ARGUMENT, valid.error().message};
  }
  client_ = first.node().id();
  ++metrics_.connectedClients;
  spdlog::info("discovery: stream {} from {} ({}, role {}) connected", id_, client_, context_->peer(),
               first.node().role());
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(first));
  }

  std::thread reader([this] { readLoop(); });
  grpc::Status status = writeLoop();
  bool readerEnded;
  {
    std::lock_guard lock(mutex_);
    readerEnded = readerEnded_;
  }
  if (!readerEnded) context_->TryCancel();  // the reader is blocked in Read: end the call under it
  reader.join();
  --metrics_.connectedClients;
  spdlog::info("discovery: stream {} from {} ended: {}", id_, client_,
               status.ok() ? "client left" : status.error_message());
  return status;
}

void DiscoveryStream::readLoop() {
  weft::v1::DeltaRequest request;
  grpc::Status status;
  while (io_->Read(&request)) {
    if (auto valid = validateRequest(request, false); !valid) {
      ++metrics_.refusedStreams;
      spdlog::warn("discovery: stream {} from {} refused: {}", id_, client_, valid.error().message);
      status = {grpc::StatusCode::INVALID_ARGUMENT, valid.error().message};
      break;
    }
    std::unique_lock lock(mutex_);
    // A client that sends faster than its stream is served waits here, and gRPC's flow
    // control pushes back on it, instead of the queue growing without bound.
    roomForRequests_.wait(lock, [this] { return stopping_ || requests_.size() < kMaxQueuedRequests; });
    if (stopping_) break;
    requests_.push_back(std::move(request));
    request.Clear();
    wakeUp_.notify_one();
  }
  std::lock_guard lock(mutex_);
  readerEnded_ = true;
  readerStatus_ = std::move(status);
  wakeUp_.notify_one();
}

grpc::Status DiscoveryStream::writeLoop() {
  while (true) {
    std::deque<weft::v1::DeltaRequest> requests;
    bool readerEnded = false;
    grpc::Status readerStatus;
    {
      std::unique_lock lock(mutex_);
      wakeUp_.wait(lock, [this] { return stopping_ || readerEnded_ || published_ || !requests_.empty(); });
      // After TryCancel the handler must return an error, CANCELLED being the one to use.
      if (stopping_) return {grpc::StatusCode::CANCELLED, "weftd is shutting down"};
      requests.swap(requests_);
      roomForRequests_.notify_one();
      published_ = false;
      readerEnded = readerEnded_;
      readerStatus = readerStatus_;
    }
    for (const auto& request : requests) handle(request);
    if (readerEnded) return readerStatus;
    if (!pushCurrent()) return {grpc::StatusCode::CANCELLED, "the client stopped receiving"};
  }
}

void DiscoveryStream::handle(const weft::v1::DeltaRequest& request) {
  switch (session_.apply(request)) {
    case Acknowledgement::kNone:
      break;
    case Acknowledgement::kAck:
      ++metrics_.acks;
      break;
    case Acknowledgement::kNack:
      ++metrics_.nacks;
      spdlog::warn("discovery: {} rejected {} nonce {}: {}", client_, request.type_url(), request.response_nonce(),
                   request.error_detail().message());
      break;
    case Acknowledgement::kStale:
      ++metrics_.staleNonces;
      // A rejection is worth seeing even when a newer response has overtaken it.
      if (request.has_error_detail()) {
        spdlog::warn("discovery: {} rejected {} nonce {} (stale, a newer response is in flight): {}", client_,
                     request.type_url(), request.response_nonce(), request.error_detail().message());
      } else {
        spdlog::debug("discovery: {} answered stale {} nonce {}", client_, request.type_url(),
                      request.response_nonce());
      }
      break;
  }
}

bool DiscoveryStream::pushCurrent() {
  PublishedSnapshot published = current_();
  // Before weftd's first snapshot there is nothing true to say: "no workloads" would be a
  // lie a ztunnel acts on. Subscriptions wait, and are answered by the first publish.
  if (!published.snapshot) return true;
  std::vector<weft::v1::DeltaResponse> responses = session_.respond(*published.snapshot);
  for (const auto& response : responses) {
    if (!io_->Write(response)) return false;
    ++metrics_.pushes;
    metrics_.resourcesSent += static_cast<uint64_t>(response.resources_size());
    metrics_.removalsSent += static_cast<uint64_t>(response.removed_resources_size());
    spdlog::debug("discovery: {} <- {} nonce {}: {} resources, {} removed (snapshot {})", client_, response.type_url(),
                  response.nonce(), response.resources_size(), response.removed_resources_size(),
                  response.system_version_info());
  }
  uint64_t sequence = published.snapshot->sequence();
  if (!responses.empty() && sequence > latencySequence_) {
    metrics_.pushLatency.record(std::chrono::steady_clock::now() - published.publishedAt);
  }
  latencySequence_ = std::max(latencySequence_, sequence);
  return true;
}

}  // namespace weft::control::discovery
