#pragma once
// One HBONE tunnel: an HTTP/2 CONNECT stream seen as a byte pipe with half-close. Client and
// server sides use the same handle. All calls happen on the connection's io_context.
//
// Flow control: bytes returned by read() are credited back to the peer on the next read()
// (the caller has forwarded them by then) or when the handle goes away, so the peer can
// never get more than one stream window ahead of where the bytes are actually delivered.
// write() returns once the bytes are queued, but waits first while the stream's queue is
// above the connection's high-water mark, so a peer that never reads stops our reading too.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "base/result.h"
#include "hbone/h2_codec.h"

namespace weft::hbone {

class H2Connection;
namespace detail {
struct StreamCore;
}

class HboneStream {
 public:
  HboneStream(std::shared_ptr<H2Connection> connection, std::shared_ptr<detail::StreamCore> core);
  // Resets the stream (CANCEL) unless both sides already ended it.
  ~HboneStream();
  HboneStream(const HboneStream&) = delete;
  HboneStream& operator=(const HboneStream&) = delete;

  int32_t id() const;

  // Up to `maxBytes` of the peer's data; an empty string means the peer half-closed.
  // Fails when the stream was reset or the connection was lost.
  boost::asio::awaitable<Result<std::string>> read(size_t maxBytes = 64u << 10);
  boost::asio::awaitable<Status> write(std::string bytes);
  // END_STREAM after everything written so far.
  Status closeWrite();
  // RST_STREAM; pending reads and writes fail.
  void reset(uint32_t errorCode);

  // Server side: answers the CONNECT. A non-200 answer should end the stream.
  Status respond(int status, const Headers& headers, bool endStream);
  // Client side: the server's answer headers (":status" first).
  const Headers& responseHeaders() const;

  uint64_t bytesRead() const;     // DATA bytes handed out by read()
  uint64_t bytesWritten() const;  // bytes accepted by write()

 private:
  std::shared_ptr<H2Connection> connection_;
  std::shared_ptr<detail::StreamCore> core_;
};

// The outcome of opening a stream: the stream, or why not. status() is the peer's HTTP
// status when it answered (200 on success, e.g. 401 or 503 on refusal) and 0 when it never
// did (TCP, TLS or HTTP/2 failure, reset before an answer).
class [[nodiscard]] ConnectResult {
 public:
  ConnectResult(std::unique_ptr<HboneStream> stream) : stream_(std::move(stream)), status_(200) {}  // NOLINT
  ConnectResult(Error error, int status = 0) : error_(std::move(error)), status_(status) {}        // NOLINT

  bool ok() const { return stream_ != nullptr; }
  explicit operator bool() const { return ok(); }
  int status() const { return status_; }
  const Error& error() const { return error_; }
  std::unique_ptr<HboneStream>& value() { return stream_; }
  std::unique_ptr<HboneStream>& operator*() { return stream_; }
  HboneStream* operator->() { return stream_.get(); }

 private:
  std::unique_ptr<HboneStream> stream_;
  Error error_;
  int status_ = 0;
};

}  // namespace weft::hbone
