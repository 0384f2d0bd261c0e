#include "hbone/hbone_stream.h"

#include <nghttp2/nghttp2.h>

#include "hbone/h2_connection.h"

namespace weft::hbone {

namespace asio = boost::asio;

HboneStream::HboneStream(std::shared_ptr<H2Connection> connection, std::shared_ptr<detail::StreamCore> core)
    : connection_(std::move(connection)), core_(std::move(core)) {
  ++connection_->handles_;
}

HboneStream::~HboneStream() { connection_->releaseHandle(*core_); }

int32_t HboneStream::id() const { return core_->id; }

asio::awaitable<Result<std::string>> HboneStream::read(size_t maxBytes) {
  auto connection = connection_;  // the handle may go away while we wait; these may not
  auto core = core_;
  // The caller has forwarded what the previous read() returned: credit it back now.
  connection->consume(*core, std::exchange(core->handedOut, 0));
  if (maxBytes == 0) maxBytes = 1;
  while (true) {
    if (!core->inbound.empty()) {
      std::string& front = core->inbound.front();
      std::string chunk;
      if (core->frontOffset == 0 && front.size() <= maxBytes) {
        chunk = std::move(front);
        core->inbound.pop_front();
      } else {
        const size_t n = std::min(maxBytes, front.size() - core->frontOffset);
        chunk = front.substr(core->frontOffset, n);
        core->frontOffset += n;
        if (core->frontOffset == front.size()) {
          core->inbound.pop_front();
          core->frontOffset = 0;
        }
      }
      core->handedOut = chunk.size();
      core->bytesRead += chunk.size();
      co_return chunk;
    }
    if (core->peerEnded) co_return std::string{};
    if (core->closed) {
      if (!core->failure.empty()) co_return makeError("stream {}: {}", core->id, core->failure);
      if (core->resetCode == NGHTTP2_NO_ERROR) co_return std::string{};  // RST(NO_ERROR): the peer is done
      co_return makeError("stream {} reset by peer (HTTP/2 error {})", core->id, core->resetCode);
    }
    co_await core->readable.wait();
  }
}

asio::awaitable<Status> HboneStream::write(std::string bytes) {
  auto connection = connection_;
  auto core = core_;
  while (true) {
    if (core->closed) {
      if (!core->failure.empty()) co_return makeError("stream {}: {}", core->id, core->failure);
      co_return makeError("stream {} closed (HTTP/2 error {})", core->id, core->resetCode);
    }
    if (core->localEnded) co_return makeError("stream {}: write after half-close", core->id);
    const size_t queued = connection->codec_->queuedToSend(core->id);
    if (queued < connection->options_.streamSendHighWater) {
      const std::span<const uint8_t> view(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      if (auto queuedOk = connection->codec_->submitData(core->id, view); !queuedOk) co_return queuedOk.error();
      core->bytesWritten += bytes.size();
      HboneCounters::bump(connection->counters_.bytesOut, bytes.size());
      HboneCounters::raise(connection->counters_.maxStreamSendQueue, queued + bytes.size());
      connection->wakeWriter();
      co_return Status{};
    }
    co_await core->writable.wait();
  }
}

Status HboneStream::closeWrite() {
  if (core_->localEnded) return {};
  if (core_->closed) return makeError("stream {} already closed", core_->id);
  WEFT_TRY(connection_->codec_->submitEnd(core_->id));
  core_->localEnded = true;
  connection_->wakeWriter();
  return {};
}

void HboneStream::reset(uint32_t errorCode) {
  if (!core_->closed && !connection_->finished()) connection_->codec_->submitReset(core_->id, errorCode);
  core_->closed = true;
  if (core_->failure.empty()) core_->failure = fmt::format("reset locally (HTTP/2 error {})", errorCode);
  core_->readable.notify();
  core_->writable.notify();
  connection_->wakeWriter();
}

Status HboneStream::respond(int status, const Headers& headers, bool endStream) {
  if (core_->closed) return makeError("stream {} already closed", core_->id);
  WEFT_TRY(connection_->codec_->submitResponse(core_->id, status, headers, endStream));
  if (endStream) core_->localEnded = true;
  connection_->wakeWriter();
  return {};
}

const Headers& HboneStream::responseHeaders() const { return core_->responseHeaders; }
uint64_t HboneStream::bytesRead() const { return core_->bytesRead; }
uint64_t HboneStream::bytesWritten() const { return core_->bytesWritten; }

}  // namespace weft::hbone
