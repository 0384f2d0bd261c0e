#pragma once
// Sans-I/O HTTP/2 for HBONE over nghttp2: peer bytes go in through receive(), frames to send
// come out of takeOutput(), and what happened comes out of takeEvents(). No sockets, no
// timers of its own (time is injected for the rapid-reset window), so tests wire two codecs
// to each other in memory.
//
// Invariants:
//  - Flow control is manual (no_auto_window_update). Received DATA is credited back to the
//    peer only by consume(), which callers do once the bytes have left on the other side.
//    So a peer that sends faster than we can forward is held by its windows (4 MiB per
//    stream, 16 MiB per connection), never by our memory.
//  - Outbound data waits in a per-stream queue that nghttp2 frames as the peer's window
//    allows; queuedToSend() reports it so the caller can stop reading its source.
//  - After receive() reports a failure the session is finished: flush takeOutput() (it may
//    hold a GOAWAY) and close the transport.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.h"

struct nghttp2_session;

namespace weft::hbone {

using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

// Value of the first header called `name` (pseudo-headers included), or nullopt.
std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name);

enum class H2Role { kClient, kServer };

// Defaults from ztunnel (reference §1.4, §1.5).
struct H2Settings {
  uint32_t streamWindow = 4u << 20;
  uint32_t connectionWindow = 16u << 20;
  uint32_t maxFrameSize = 1u << 20;
  uint32_t maxConcurrentStreams = 200;  // what a server advertises; unused by a client
  uint32_t maxHeaderList = 64u << 10;   // received header block, per stream
  // Rapid reset (CVE-2023-44487): more RST_STREAM frames than this from the peer within
  // resetWindow ends the connection with GOAWAY ENHANCE_YOUR_CALM.
  uint32_t maxResetsPerWindow = 100;
  std::chrono::steady_clock::duration resetWindow = std::chrono::seconds(10);
  // SETTINGS/PING acknowledgements we queue before calling the peer a flooder.
  size_t maxOutboundAck = 1000;

  static H2Settings client();  // 16 KiB header list
  static H2Settings server();
};

struct StreamHeadersEvent {  // a request (server) or a response (client); trailers too
  int32_t streamId = 0;
  Headers headers;  // pseudo-headers first, as received
};
struct StreamDataEvent {
  int32_t streamId = 0;
  std::string data;  // must be consume()d once forwarded
};
struct StreamEndEvent {  // the peer half-closed (END_STREAM)
  int32_t streamId = 0;
};
struct StreamClosedEvent {  // nghttp2 forgot the stream; errorCode 0 = clean close
  int32_t streamId = 0;
  uint32_t errorCode = 0;
};
struct GoawayEvent {
  int32_t lastStreamId = 0;
  uint32_t errorCode = 0;
};
struct PingAckEvent {};
struct SettingsEvent {};  // the peer's SETTINGS arrived (stream limit may have changed)

using H2Event = std::variant<StreamHeadersEvent, StreamDataEvent, StreamEndEvent, StreamClosedEvent, GoawayEvent,
                             PingAckEvent, SettingsEvent>;

// Why a session ended on our side; each has its own counter upstream.
enum class H2Failure {
  kNone,
  kBadPreface,  // the client did not start with the HTTP/2 connection preface
  kRapidReset,  // too many RST_STREAM in the window; GOAWAY ENHANCE_YOUR_CALM queued
  kFlood,       // too many queued acks (nghttp2 NGHTTP2_ERR_FLOODED)
  kProtocol,    // any other fatal nghttp2 error
};
std::string_view describe(H2Failure failure);

class H2Codec {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

  // Queues our SETTINGS and the connection window update; a client also queues the preface.
  static Result<std::unique_ptr<H2Codec>> make(H2Role role, H2Settings settings, SteadyNow now = {});
  ~H2Codec();
  H2Codec(const H2Codec&) = delete;
  H2Codec& operator=(const H2Codec&) = delete;

  // Feeds bytes read from the peer. Returns kNone or why the session must end.
  H2Failure receive(std::span<const uint8_t> bytes);
  std::vector<H2Event> takeEvents();
  // Serialises pending frames until about `limit` bytes are ready (at least one frame).
  std::string takeOutput(size_t limit = 256u << 10);

  bool wantsRead() const;
  bool wantsWrite() const;
  // Neither side has anything more to say: the transport can close.
  bool finished() const { return !wantsRead() && !wantsWrite(); }
  H2Failure failure() const { return failure_; }
  // Error code of the GOAWAY we sent, if any.
  std::optional<uint32_t> sentGoawayCode() const { return sentGoawayCode_; }

  // Client: opens a CONNECT stream to `authority` with extra (non-pseudo) headers.
  Result<int32_t> submitConnect(std::string_view authority, const Headers& extra);
  // Client: opens a request stream (an L7 proxy's upstream request). Without endStream the
  // body follows through submitData()/submitEnd().
  struct RequestHead {
    std::string method, scheme, authority, path;
  };
  Result<int32_t> submitRequest(const RequestHead& head, const Headers& extra, bool endStream);
  // Server: answers a request. Without endStream the stream stays open for data; with it,
  // the stream is reset (NO_ERROR) once the answer is sent if the peer has not half-closed.
  Status submitResponse(int32_t streamId, int status, const Headers& extra, bool endStream);
  // Queues body bytes; END_STREAM follows the queue once submitEnd() was called.
  Status submitData(int32_t streamId, std::span<const uint8_t> bytes);
  // With `trailers`, END_STREAM goes on a trailing HEADERS frame after the data (gRPC's
  // grpc-status) instead of on the last DATA frame.
  Status submitEnd(int32_t streamId, const Headers& trailers = {});
  void submitReset(int32_t streamId, uint32_t errorCode);
  // Server: once this stream's END_STREAM has been sent (HEADERS, DATA or trailers), reset
  // it with NO_ERROR if the peer is still sending (RFC 9113 §8.1). submitResponse with
  // endStream does this by itself.
  void resetOnceAnswered(int32_t streamId) { resetAfterAnswer_.insert(streamId); }
  // Credits `bytes` of received DATA back to the peer (stream and connection windows).
  void consume(int32_t streamId, size_t bytes);
  void submitPing();
  void submitGoaway(uint32_t errorCode);
  // Server: a GOAWAY naming the highest possible stream id, so streams already on their
  // way are still taken; the real GOAWAY (submitGoaway) follows a round trip later.
  void submitShutdownNotice();
  H2Role role() const { return role_; }

  size_t queuedToSend(int32_t streamId) const;
  // The peer's SETTINGS_MAX_CONCURRENT_STREAMS (nghttp2 assumes 100 until SETTINGS arrive).
  uint32_t peerMaxConcurrentStreams() const;
  // Client: false once stream ids are nearly exhausted and a new connection is needed.
  bool canOpenStreams() const;

 private:
  struct Outbound {
    std::string bytes;
    size_t offset = 0;
    bool endRequested = false;
    bool deferred = false;
    Headers trailers;  // sent after the data, ending the stream, when not empty
  };
  struct Inbound {
    Headers headers;
    size_t headerBytes = 0;
  };
  friend struct H2Callbacks;

  H2Codec(H2Role role, H2Settings settings, SteadyNow now);
  Status attachDataSource(int32_t streamId);
  void noteReset();

  H2Role role_;
  H2Settings settings_;
  SteadyNow now_;
  nghttp2_session* session_ = nullptr;
  std::vector<H2Event> events_;
  std::map<int32_t, Outbound> outbound_;
  std::map<int32_t, Inbound> inbound_;
  std::set<int32_t> resetAfterAnswer_;  // final answers not yet sent
  std::deque<std::chrono::steady_clock::time_point> resets_;
  H2Failure failure_ = H2Failure::kNone;
  std::optional<uint32_t> sentGoawayCode_;
};

}  // namespace weft::hbone
