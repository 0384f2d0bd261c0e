#pragma once
// The async half of HBONE: one HTTP/2 session (an H2Codec) over one TLS stream, driven by a
// reader, a writer and a keepalive coroutine on the stream's io_context. Client and server
// share it; the server hands new streams to a callback, the client opens them.
//
// Invariants:
//  - Everything runs on one io_context; no locks. The codec is touched only from there.
//  - The reader always reads, so PINGs, SETTINGS and WINDOW_UPDATEs keep flowing; what it
//    buffers is bounded by the windows we advertise, because DATA is credited back only when
//    a stream's reader has taken it (see hbone_stream.h).
//  - The writer writes at most one batch (~256 KiB) at a time; streams stop queueing above
//    Options::streamSendHighWater, so a peer that never reads costs bounded memory.
//  - Once finished (socket closed) every stream fails; handles stay valid but inert.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "hbone/async_signal.h"
#include "hbone/h2_codec.h"
#include "hbone/hbone_counters.h"
#include "hbone/hbone_stream.h"
#include "hbone/tls_handshake.h"

namespace weft::hbone {

namespace detail {
// A stream's state, shared by the connection (which fills it) and its HboneStream handle.
struct StreamCore {
  StreamCore(int32_t streamId, const boost::asio::any_io_executor& executor)
      : id(streamId), readable(executor), writable(executor) {}

  int32_t id;
  std::deque<std::string> inbound;  // received, not yet read
  size_t frontOffset = 0;           // bytes of inbound.front() already read
  size_t handedOut = 0;             // read but not yet credited back to the peer
  Headers responseHeaders;          // client: the answer
  bool answered = false;
  bool peerEnded = false;   // END_STREAM received
  bool localEnded = false;  // END_STREAM (or a final answer) sent
  bool closed = false;      // reset, fully closed or connection gone
  uint32_t resetCode = 0;
  std::string failure;      // set when the connection was lost
  uint64_t bytesRead = 0;
  uint64_t bytesWritten = 0;
  AsyncSignal readable;
  AsyncSignal writable;
};
}  // namespace detail

class H2Connection : public std::enable_shared_from_this<H2Connection> {
 public:
  struct Options {
    std::chrono::milliseconds pingInterval{0};  // 0: no keepalive PINGs
    std::chrono::milliseconds pingTimeout{20000};
    std::chrono::milliseconds idleTimeout{0};   // 0: never closed for idleness
    size_t streamSendHighWater = 256u << 10;
    // Client: how long openStream() waits for the CONNECT's answer (0: for ever). PINGs
    // keep a connection alive whose peer never answers a stream; this does not.
    std::chrono::milliseconds connectAnswerTimeout{0};
  };
  // Server: a new stream and its request headers (pseudo-headers included).
  using IncomingStream = std::function<void(std::unique_ptr<HboneStream>, Headers)>;

  static std::shared_ptr<H2Connection> make(TlsPeer peer, std::unique_ptr<H2Codec> codec, Options options,
                                            HboneCounters& counters);
  ~H2Connection();

  // Runs until the connection ends; streams from the peer go to `onIncoming` (server).
  boost::asio::awaitable<void> run(IncomingStream onIncoming = {});

  // Client: reserveStream() counts a stream against this connection at once (so concurrent
  // callers see it full); openStream() must follow and opens it with a CONNECT.
  void reserveStream() { ++reserved_; }
  boost::asio::awaitable<ConnectResult> openStream(std::string authority, Headers headers);

  void close();     // abort now: streams fail
  // GOAWAY; ends once the open streams end. A server sends it in two steps (RFC 9113
  // §6.8): a notice at once, the GOAWAY naming the last stream it took kGoawayGrace later,
  // so a CONNECT the client sent before it saw the notice is still served, not refused.
  void shutdown();
  static constexpr std::chrono::milliseconds kGoawayGrace{1000};

  bool finished() const { return finished_; }
  // Can take one more stream: alive, no GOAWAY either way, ids left, under `limit`.
  bool hasRoomFor(uint32_t limit) const;
  size_t streamsInUse() const { return handles_ + reserved_; }
  uint32_t peerStreamLimit() const { return codec_->peerMaxConcurrentStreams(); }
  const tls::SpiffeId& peerIdentity() const { return peer_.identity; }
  boost::asio::ip::tcp::endpoint remoteEndpoint() const;
  boost::asio::any_io_executor executor() { return peer_.stream->get_executor(); }

 private:
  friend class HboneStream;
  H2Connection(TlsPeer peer, std::unique_ptr<H2Codec> codec, Options options, HboneCounters& counters);

  boost::asio::awaitable<void> readLoop();
  boost::asio::awaitable<void> writeLoop();
  boost::asio::awaitable<void> keepaliveLoop();
  void dispatchEvents();
  void finish(const std::string& reason);
  void wakeWriter() { writeWake_.notify(); }

  // Used by HboneStream.
  void consume(detail::StreamCore& core, size_t bytes);
  void releaseHandle(detail::StreamCore& core);

  TlsPeer peer_;
  std::unique_ptr<H2Codec> codec_;
  Options options_;
  HboneCounters& counters_;
  IncomingStream onIncoming_;
  std::map<int32_t, std::shared_ptr<detail::StreamCore>> streams_;
  AsyncSignal writeWake_;
  boost::asio::steady_timer keepaliveTimer_;
  boost::asio::steady_timer goawayTimer_;
  size_t handles_ = 0;
  size_t reserved_ = 0;
  bool readerDone_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool goingAway_ = false;
  bool pingOutstanding_ = false;
  std::chrono::steady_clock::time_point pingSentAt_{};
  std::chrono::steady_clock::time_point idleSince_;
};

}  // namespace weft::hbone
