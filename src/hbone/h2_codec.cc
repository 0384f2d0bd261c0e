#include "hbone/h2_codec.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

namespace weft::hbone {

namespace {

nghttp2_nv makeNv(std::string_view name, std::string_view value) {
  // nghttp2 copies names and values during submit_*; the casts never lead to writes.
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

// HTTP/2 forbids upper case field names and connection-specific fields; a header we send
// that breaks this would get the whole stream reset by a strict peer, so refuse it here.
Status checkOutgoingHeaders(const Headers& extra) {
  for (const auto& [name, value] : extra) {
    if (name.empty() || name[0] == ':') return makeError("header '{}': pseudo-headers are set by the codec", name);
    if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      return makeError("header '{}': HTTP/2 field names must be lower case", name);
    if (name == "connection" || name == "transfer-encoding" || name == "keep-alive" || name == "upgrade")
      return makeError("header '{}': connection-specific fields are not allowed in HTTP/2", name);
  }
  return {};
}

}  // namespace

std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

std::string_view describe(H2Failure failure) {
  switch (failure) {
    case H2Failure::kNone: return "none";
    case H2Failure::kBadPreface: return "bad HTTP/2 connection preface";
    case H2Failure::kRapidReset: return "too many stream resets (rapid reset)";
    case H2Failure::kFlood: return "too many queued acknowledgements (flood)";
    case H2Failure::kProtocol: return "HTTP/2 protocol error";
  }
  return "unknown";
}

H2Settings H2Settings::client() {
  H2Settings settings;
  settings.maxHeaderList = 16u << 10;
  return settings;
}

H2Settings H2Settings::server() { return H2Settings{}; }

// nghttp2's C callbacks, forwarding to the codec passed as user_data.
struct H2Callbacks {
  static H2Codec& codec(void* user) { return *static_cast<H2Codec*>(user); }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    codec(user).inbound_[frame->hd.stream_id] = H2Codec::Inbound{};
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t nameLen,
                      const uint8_t* value, size_t valueLen, uint8_t, void* user) {
    H2Codec& self = codec(user);
    auto it = self.inbound_.find(frame->hd.stream_id);
    if (it == self.inbound_.end()) return 0;
    // RFC 9113 §6.5.2 counts 32 bytes of overhead per field.
    it->second.headerBytes += nameLen + valueLen + 32;
    if (it->second.headerBytes > self.settings_.maxHeaderList) {
      self.inbound_.erase(it);
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream only
    }
    it->second.headers.emplace_back(std::string(reinterpret_cast<const char*>(name), nameLen),
                                    std::string(reinterpret_cast<const char*>(value), valueLen));
    return 0;
  }

  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Codec& self = codec(user);
    const int32_t id = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (auto it = self.inbound_.find(id); it != self.inbound_.end()) {
          self.events_.emplace_back(StreamHeadersEvent{id, std::move(it->second.headers)});
          self.inbound_.erase(it);
        }
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) self.events_.emplace_back(StreamEndEvent{id});
        break;
      case NGHTTP2_DATA:
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) self.events_.emplace_back(StreamEndEvent{id});
        break;
      case NGHTTP2_RST_STREAM:
        self.noteReset();
        break;
      case NGHTTP2_GOAWAY:
        self.events_.emplace_back(GoawayEvent{frame->goaway.last_stream_id, frame->goaway.error_code});
        break;
      case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) self.events_.emplace_back(PingAckEvent{});
        break;
      case NGHTTP2_SETTINGS:
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) self.events_.emplace_back(SettingsEvent{});
        break;
      default:
        break;
    }
    return 0;
  }

  static int onDataChunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    codec(user).events_.emplace_back(StreamDataEvent{id, std::string(reinterpret_cast<const char*>(data), len)});
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* user) {
    H2Codec& self = codec(user);
    self.outbound_.erase(id);
    self.inbound_.erase(id);
    self.resetAfterAnswer_.erase(id);
    self.events_.emplace_back(StreamClosedEvent{id, errorCode});
    return 0;
  }

  static int onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    H2Codec& self = codec(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) self.sentGoawayCode_ = frame->goaway.error_code;
    // A final answer went out while the peer may still send: RFC 9113 §8.1 lets a server
    // end the stream with RST_STREAM(NO_ERROR). Resetting only now, after the frame that
    // ends the answer left, keeps the RST from overtaking it.
    const bool ends = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (ends && self.resetAfterAnswer_.erase(frame->hd.stream_id) > 0 &&
        nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0)
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    return 0;
  }

  static ssize_t readData(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source*, void* user) {
    H2Codec& self = codec(user);
    auto it = self.outbound_.find(id);
    if (it == self.outbound_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    H2Codec::Outbound& out = it->second;
    const size_t available = out.bytes.size() - out.offset;
    if (available == 0 && !out.endRequested) {
      out.deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    const size_t n = std::min(length, available);
    if (n > 0) std::memcpy(buf, out.bytes.data() + out.offset, n);
    out.offset += n;
    if (out.offset == out.bytes.size()) {
      out.bytes.clear();
      out.offset = 0;
      if (out.endRequested) *flags |= NGHTTP2_DATA_FLAG_EOF;
      // nghttp2 lets the read callback submit trailers; they carry END_STREAM instead.
      if (out.endRequested && !out.trailers.empty()) {
        std::vector<nghttp2_nv> nva;
        nva.reserve(out.trailers.size());
        for (const auto& [name, value] : out.trailers) nva.push_back(makeNv(name, value));
        if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) == 0) *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        out.trailers.clear();
      }
    } else if (out.offset > (64u << 10) && out.offset * 2 > out.bytes.size()) {
      out.bytes.erase(0, out.offset);
      out.offset = 0;
    }
    return static_cast<ssize_t>(n);
  }
};

H2Codec::H2Codec(H2Role role, H2Settings settings, SteadyNow now)
    : role_(role), settings_(settings), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::steady_clock::now(); };
}

H2Codec::~H2Codec() { nghttp2_session_del(session_); }

Result<std::unique_ptr<H2Codec>> H2Codec::make(H2Role role, H2Settings settings, SteadyNow now) {
  std::unique_ptr<H2Codec> self(new H2Codec(role, settings, std::move(now)));

  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return Error{"nghttp2: out of memory"};
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &H2Callbacks::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &H2Callbacks::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &H2Callbacks::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &H2Callbacks::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &H2Callbacks::onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &H2Callbacks::onFrameSend);

  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return Error{"nghttp2: out of memory"};
  }
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_outbound_ack(option, settings.maxOutboundAck);
  nghttp2_option_set_max_settings(option, 32);

  int rv = role == H2Role::kServer ? nghttp2_session_server_new2(&self->session_, callbacks, self.get(), option)
                                   : nghttp2_session_client_new2(&self->session_, callbacks, self.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return makeError("nghttp2: cannot create session: {}", nghttp2_strerror(rv));

  std::vector<nghttp2_settings_entry> entries = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.streamWindow},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings.maxFrameSize},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.maxHeaderList},
  };
  if (role == H2Role::kServer)
    entries.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.maxConcurrentStreams});
  else
    entries.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  rv = nghttp2_submit_settings(self->session_, NGHTTP2_FLAG_NONE, entries.data(), entries.size());
  if (rv != 0) return makeError("nghttp2: cannot submit SETTINGS: {}", nghttp2_strerror(rv));
  rv = nghttp2_session_set_local_window_size(self->session_, NGHTTP2_FLAG_NONE, 0,
                                             static_cast<int32_t>(settings.connectionWindow));
  if (rv != 0) return makeError("nghttp2: cannot set the connection window: {}", nghttp2_strerror(rv));
  return self;
}

H2Failure H2Codec::receive(std::span<const uint8_t> bytes) {
  if (failure_ != H2Failure::kNone) return failure_;
  const ssize_t rv = nghttp2_session_mem_recv(session_, bytes.data(), bytes.size());
  if (rv < 0 && failure_ == H2Failure::kNone) {
    failure_ = rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC ? H2Failure::kBadPreface
               : rv == NGHTTP2_ERR_FLOODED        ? H2Failure::kFlood
                                                  : H2Failure::kProtocol;
  }
  return failure_;
}

void H2Codec::noteReset() {
  const auto now = now_();
  resets_.push_back(now);
  while (!resets_.empty() && resets_.front() + settings_.resetWindow < now) resets_.pop_front();
  if (resets_.size() > settings_.maxResetsPerWindow && failure_ == H2Failure::kNone) {
    failure_ = H2Failure::kRapidReset;
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  }
}

std::vector<H2Event> H2Codec::takeEvents() { return std::exchange(events_, {}); }

std::string H2Codec::takeOutput(size_t limit) {
  std::string out;
  while (out.size() < limit) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      if (failure_ == H2Failure::kNone) failure_ = H2Failure::kProtocol;
      break;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return out;
}

bool H2Codec::wantsRead() const { return failure_ == H2Failure::kNone && nghttp2_session_want_read(session_) != 0; }
bool H2Codec::wantsWrite() const { return nghttp2_session_want_write(session_) != 0; }

Status H2Codec::attachDataSource(int32_t streamId) {
  outbound_.try_emplace(streamId);
  return {};
}

Result<int32_t> H2Codec::submitConnect(std::string_view authority, const Headers& extra) {
  if (role_ != H2Role::kClient) return Error{"only a client opens CONNECT streams"};
  WEFT_TRY(checkOutgoingHeaders(extra));
  std::vector<nghttp2_nv> nva = {makeNv(":method", "CONNECT"), makeNv(":authority", authority)};
  for (const auto& [name, value] : extra) nva.push_back(makeNv(name, value));
  nghttp2_data_provider provider{};
  provider.read_callback = &H2Callbacks::readData;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, nullptr);
  if (id < 0) return makeError("cannot open a CONNECT stream: {}", nghttp2_strerror(id));
  WEFT_TRY(attachDataSource(id));
  return id;
}

Result<int32_t> H2Codec::submitRequest(const RequestHead& head, const Headers& extra, bool endStream) {
  if (role_ != H2Role::kClient) return Error{"only a client opens request streams"};
  WEFT_TRY(checkOutgoingHeaders(extra));
  std::vector<nghttp2_nv> nva = {makeNv(":method", head.method), makeNv(":scheme", head.scheme),
                                 makeNv(":authority", head.authority), makeNv(":path", head.path)};
  for (const auto& [name, value] : extra) nva.push_back(makeNv(name, value));
  nghttp2_data_provider provider{};
  provider.read_callback = &H2Callbacks::readData;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), endStream ? nullptr : &provider, nullptr);
  if (id < 0) return makeError("cannot open a request stream: {}", nghttp2_strerror(id));
  if (!endStream) WEFT_TRY(attachDataSource(id));
  return id;
}

Status H2Codec::submitResponse(int32_t streamId, int status, const Headers& extra, bool endStream) {
  if (role_ != H2Role::kServer) return Error{"only a server answers streams"};
  WEFT_TRY(checkOutgoingHeaders(extra));
  const std::string statusText = std::to_string(status);
  std::vector<nghttp2_nv> nva = {makeNv(":status", statusText)};
  for (const auto& [name, value] : extra) nva.push_back(makeNv(name, value));
  nghttp2_data_provider provider{};
  provider.read_callback = &H2Callbacks::readData;
  const int rv = nghttp2_submit_response(session_, streamId, nva.data(), nva.size(), endStream ? nullptr : &provider);
  if (rv != 0) return makeError("cannot answer stream {}: {}", streamId, nghttp2_strerror(rv));
  if (!endStream) return attachDataSource(streamId);
  resetAfterAnswer_.insert(streamId);
  return {};
}

Status H2Codec::submitData(int32_t streamId, std::span<const uint8_t> bytes) {
  auto it = outbound_.find(streamId);
  if (it == outbound_.end()) return makeError("stream {} cannot carry data (closed or never opened)", streamId);
  if (it->second.endRequested) return makeError("stream {}: data after END_STREAM", streamId);
  it->second.bytes.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (it->second.deferred && !bytes.empty()) {
    it->second.deferred = false;
    nghttp2_session_resume_data(session_, streamId);
  }
  return {};
}

Status H2Codec::submitEnd(int32_t streamId, const Headers& trailers) {
  auto it = outbound_.find(streamId);
  if (it == outbound_.end()) return makeError("stream {} cannot be half-closed (closed or never opened)", streamId);
  WEFT_TRY(checkOutgoingHeaders(trailers));
  it->second.trailers = trailers;
  it->second.endRequested = true;
  if (it->second.deferred) {
    it->second.deferred = false;
    nghttp2_session_resume_data(session_, streamId);
  }
  return {};
}

void H2Codec::submitReset(int32_t streamId, uint32_t errorCode) {
  outbound_.erase(streamId);
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, streamId, errorCode);
}

void H2Codec::consume(int32_t streamId, size_t bytes) {
  if (bytes > 0 && streamId > 0) nghttp2_session_consume(session_, streamId, bytes);
}

void H2Codec::submitPing() { nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr); }

void H2Codec::submitGoaway(uint32_t errorCode) {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_), errorCode,
                        nullptr, 0);
}

void H2Codec::submitShutdownNotice() { nghttp2_submit_shutdown_notice(session_); }

size_t H2Codec::queuedToSend(int32_t streamId) const {
  auto it = outbound_.find(streamId);
  return it == outbound_.end() ? 0 : it->second.bytes.size() - it->second.offset;
}

uint32_t H2Codec::peerMaxConcurrentStreams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool H2Codec::canOpenStreams() const {
  return failure_ == H2Failure::kNone && nghttp2_session_check_request_allowed(session_) != 0 &&
         nghttp2_session_get_next_stream_id(session_) < (1u << 30);
}

}  // namespace weft::hbone
