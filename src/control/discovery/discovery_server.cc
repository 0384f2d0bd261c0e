#include "control/discovery/discovery_server.h"

#include <spdlog/spdlog.h>

namespace weft::control::discovery {

DiscoveryServer::~DiscoveryServer() { shutdown(); }

Status DiscoveryServer::publish(std::shared_ptr<const Snapshot> snapshot) {
  if (!snapshot) return makeError("publish: no snapshot");
  std::lock_guard lock(mutex_);
  if (current_.snapshot && snapshot->sequence() <= current_.snapshot->sequence()) {
    return makeError("publish: snapshot {} is not newer than the current snapshot {}", snapshot->version(),
                     current_.snapshot->version());
  }
  current_ = {std::move(snapshot), std::chrono::steady_clock::now()};
  for (DiscoveryStream* stream : streams_) stream->wake();
  spdlog::info("discovery: snapshot {} ({} resources) published to {} streams", current_.snapshot->version(),
               current_.snapshot->size(), streams_.size());
  return {};
}

std::shared_ptr<const Snapshot> DiscoveryServer::current() const { return published().snapshot; }

PublishedSnapshot DiscoveryServer::published() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void DiscoveryServer::shutdown() {
  std::unique_lock lock(mutex_);
  if (!shuttingDown_ && !streams_.empty()) spdlog::info("discovery: shutting down {} streams", streams_.size());
  shuttingDown_ = true;
  // Stopping under the lock is what makes it safe: a stream unregisters under the same lock
  // before its call object goes away, so none is stopped after it ended.
  for (DiscoveryStream* stream : streams_) stream->stop();
  streamsGone_.wait(lock, [this] { return streams_.empty(); });
}

grpc::Status DiscoveryServer::DeltaStream(
    grpc::ServerContext* context, grpc::ServerReaderWriter<weft::v1::DeltaResponse, weft::v1::DeltaRequest>* io) {
  uint64_t id = ++streamsStarted_;
  std::unique_ptr<DiscoveryStream> stream;
  {
    std::lock_guard lock(mutex_);
    if (shuttingDown_) return {grpc::StatusCode::UNAVAILABLE, "weftd is shutting down"};
    uint64_t sequenceNow = current_.snapshot ? current_.snapshot->sequence() : 0;
    stream = std::make_unique<DiscoveryStream>(
        id, context, io, metrics_, [this] { return published(); }, sequenceNow);
    streams_.insert(stream.get());
  }
  grpc::Status status = stream->run();
  {
    std::lock_guard lock(mutex_);
    streams_.erase(stream.get());
    if (streams_.empty()) streamsGone_.notify_all();
  }
  return status;
}

}  // namespace weft::control::discovery
