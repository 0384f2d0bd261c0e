#include "hbone/h2_connection.h"

#include <nghttp2/nghttp2.h>

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace weft::hbone {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

constexpr size_t kReadBuffer = 64u << 10;
constexpr size_t kWriteBatch = 256u << 10;

int parseStatus(const Headers& headers) {
  auto text = findHeader(headers, ":status");
  int status = 0;
  if (!text || std::from_chars(text->data(), text->data() + text->size(), status).ec != std::errc{}) return 0;
  return status;
}

}  // namespace

std::shared_ptr<H2Connection> H2Connection::make(TlsPeer peer, std::unique_ptr<H2Codec> codec, Options options,
                                                 HboneCounters& counters) {
  return std::shared_ptr<H2Connection>(new H2Connection(std::move(peer), std::move(codec), options, counters));
}

H2Connection::H2Connection(TlsPeer peer, std::unique_ptr<H2Codec> codec, Options options, HboneCounters& counters)
    : peer_(std::move(peer)),
      codec_(std::move(codec)),
      options_(options),
      counters_(counters),
      writeWake_(peer_.stream->get_executor()),
      keepaliveTimer_(peer_.stream->get_executor()),
      goawayTimer_(peer_.stream->get_executor()),
      idleSince_(std::chrono::steady_clock::now()) {
  HboneCounters::bump(counters_.connectionsOpened);
}

H2Connection::~H2Connection() {
  if (!finished_) finish("connection destroyed");
}

asio::ip::tcp::endpoint H2Connection::remoteEndpoint() const {
  boost::system::error_code ec;
  return peer_.stream->lowest_layer().remote_endpoint(ec);
}

bool H2Connection::hasRoomFor(uint32_t limit) const {
  return !finished_ && !closing_ && !goingAway_ && codec_->canOpenStreams() && streamsInUse() < limit;
}

asio::awaitable<void> H2Connection::run(IncomingStream onIncoming) {
  auto self = shared_from_this();  // the loops below use `this` until they all end
  onIncoming_ = std::move(onIncoming);
  wakeWriter();  // our SETTINGS (and the client preface) go out first
  co_await (readLoop() && writeLoop() && keepaliveLoop());
  onIncoming_ = nullptr;
}

asio::awaitable<void> H2Connection::readLoop() {
  std::vector<uint8_t> buffer(kReadBuffer);
  std::string reason = "peer closed the connection";
  while (!finished_ && !closing_) {
    auto [ec, n] = co_await peer_.stream->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated) reason = "connection lost: " + ec.message();
      break;
    }
    const H2Failure failure = codec_->receive({buffer.data(), n});
    dispatchEvents();
    wakeWriter();
    if (failure != H2Failure::kNone) {
      HboneCounters::bump(failure == H2Failure::kBadPreface   ? counters_.badPrefaces
                          : failure == H2Failure::kRapidReset ? counters_.rapidResetGoaways
                                                              : counters_.h2ProtocolErrors);
      reason = std::string(describe(failure));
      break;
    }
    if (!codec_->wantsRead()) {
      if (auto code = codec_->sentGoawayCode(); code && *code != NGHTTP2_NO_ERROR)
        HboneCounters::bump(counters_.h2ProtocolErrors);
      reason = "HTTP/2 session ended";
      break;
    }
  }
  readerDone_ = true;
  // Fail the streams now; the writer still flushes what is queued (a GOAWAY, say).
  for (auto& [id, core] : streams_) {
    core->closed = true;
    if (core->failure.empty()) core->failure = reason;
    core->readable.notify();
    core->writable.notify();
  }
  wakeWriter();
}

asio::awaitable<void> H2Connection::writeLoop() {
  std::string reason = "HTTP/2 session ended";
  while (true) {
    std::string out = codec_->takeOutput(kWriteBatch);
    for (auto& [id, core] : streams_) core->writable.notify();  // their queues may have drained
    if (out.empty()) {
      if (readerDone_ || closing_ || codec_->finished()) break;
      co_await writeWake_.wait();
      continue;
    }
    auto [ec, n] = co_await asio::async_write(*peer_.stream, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      reason = "write failed: " + ec.message();
      break;
    }
  }
  finish(reason);
}

asio::awaitable<void> H2Connection::keepaliveLoop() {
  using namespace std::chrono;
  const auto ping = options_.pingInterval;
  const auto idle = options_.idleTimeout;
  if (ping.count() <= 0 && idle.count() <= 0) co_return;
  const milliseconds tick = ping.count() <= 0 ? idle : idle.count() <= 0 ? ping : std::min(ping, idle);
  while (!finished_) {
    keepaliveTimer_.expires_after(tick);
    co_await keepaliveTimer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (finished_) break;
    const auto now = steady_clock::now();
    if (ping.count() > 0) {
      if (pingOutstanding_ && now - pingSentAt_ >= options_.pingTimeout) {
        HboneCounters::bump(counters_.pingTimeouts);
        close();
        break;
      }
      if (!pingOutstanding_) {
        codec_->submitPing();
        pingOutstanding_ = true;
        pingSentAt_ = now;
        wakeWriter();
      }
    }
    if (idle.count() > 0 && streamsInUse() == 0 && !goingAway_ && now - idleSince_ >= idle) {
      HboneCounters::bump(counters_.idleCloses);
      shutdown();
    }
  }
}

void H2Connection::dispatchEvents() {
  for (auto& event : codec_->takeEvents()) {
    std::visit(Overloaded{
                   [&](StreamHeadersEvent& e) {
                     if (auto it = streams_.find(e.streamId); it != streams_.end()) {
                       detail::StreamCore& core = *it->second;
                       if (!core.answered) {  // client: the answer; later blocks are trailers
                         core.answered = true;
                         core.responseHeaders = std::move(e.headers);
                         core.readable.notify();
                       }
                       return;
                     }
                     if (!onIncoming_ || closing_) {
                       codec_->submitReset(e.streamId, NGHTTP2_REFUSED_STREAM);
                       return;
                     }
                     auto core = std::make_shared<detail::StreamCore>(e.streamId, executor());
                     streams_[e.streamId] = core;
                     HboneCounters::bump(counters_.streamsOpened);
                     onIncoming_(std::make_unique<HboneStream>(shared_from_this(), core), std::move(e.headers));
                   },
                   [&](StreamDataEvent& e) {
                     HboneCounters::bump(counters_.bytesIn, e.data.size());
                     auto it = streams_.find(e.streamId);
                     if (it == streams_.end() || it->second->closed) {
                       codec_->consume(e.streamId, e.data.size());  // nobody will read it
                       return;
                     }
                     it->second->inbound.push_back(std::move(e.data));
                     it->second->readable.notify();
                   },
                   [&](StreamEndEvent& e) {
                     if (auto it = streams_.find(e.streamId); it != streams_.end()) {
                       it->second->peerEnded = true;
                       it->second->readable.notify();
                     }
                   },
                   [&](StreamClosedEvent& e) {
                     auto it = streams_.find(e.streamId);
                     if (it == streams_.end()) return;
                     auto core = std::move(it->second);
                     streams_.erase(it);
                     core->closed = true;
                     core->resetCode = e.errorCode;
                     core->readable.notify();
                     core->writable.notify();
                     HboneCounters::bump(counters_.streamsClosed);
                   },
                   [&](GoawayEvent&) { goingAway_ = true; },
                   [&](PingAckEvent&) { pingOutstanding_ = false; },
                   [&](SettingsEvent&) {},
               },
               event);
  }
}

asio::awaitable<ConnectResult> H2Connection::openStream(std::string authority, Headers headers) {
  auto self = shared_from_this();
  struct Reservation {  // given back on every path; from the handle on, the handle counts
    H2Connection* connection;
    void release() {
      if (!connection) return;
      --connection->reserved_;
      if (connection->streamsInUse() == 0) connection->idleSince_ = std::chrono::steady_clock::now();
      connection = nullptr;
    }
    ~Reservation() { release(); }
  } reservation{this};

  if (finished_ || closing_ || goingAway_) co_return Error{"HBONE connection is closing"};
  auto id = codec_->submitConnect(authority, headers);
  if (!id) co_return id.error();
  auto core = std::make_shared<detail::StreamCore>(*id, executor());
  streams_[*id] = core;
  HboneCounters::bump(counters_.streamsOpened);
  wakeWriter();
  auto stream = std::make_unique<HboneStream>(self, core);  // resets the stream if we bail out
  reservation.release();

  // The answer's wait is bounded: a timer marks it given up and wakes us.
  auto gaveUp = std::make_shared<bool>(false);
  asio::steady_timer answerTimer(executor());
  if (options_.connectAnswerTimeout.count() > 0) {
    answerTimer.expires_after(options_.connectAnswerTimeout);
    answerTimer.async_wait([gaveUp, weak = std::weak_ptr<detail::StreamCore>(core)](const boost::system::error_code& ec) {
      auto waiting = weak.lock();
      if (ec || !waiting) return;
      *gaveUp = true;
      waiting->readable.notify();
    });
  }
  while (!core->answered && !core->closed && !*gaveUp) co_await core->readable.wait();
  answerTimer.cancel();
  if (!core->answered && !core->closed) {
    // Dropping the handle resets the stream, so a late answer finds nobody. A peer that
    // leaves streams unanswered gets no more of them: GOAWAY, so the pool opens the next
    // stream on a new connection, while streams already open here finish.
    HboneCounters::bump(counters_.connectTimeouts);
    shutdown();
    co_return makeError("CONNECT {}: no answer within {} ms", authority, options_.connectAnswerTimeout.count());
  }
  if (!core->answered) {
    if (!core->failure.empty()) co_return makeError("CONNECT {}: {}", authority, core->failure);
    co_return makeError("CONNECT {}: stream reset before an answer (HTTP/2 error {})", authority, core->resetCode);
  }
  const int status = parseStatus(core->responseHeaders);
  if (status != 200) {
    HboneCounters::bump(counters_.connectsRefused);
    co_return ConnectResult(makeError("CONNECT {}: peer answered {}", authority, status), status);
  }
  co_return std::move(stream);
}

void H2Connection::close() {
  if (finished_ || closing_) return;
  closing_ = true;
  boost::system::error_code ignored;
  peer_.stream->lowest_layer().close(ignored);
  keepaliveTimer_.cancel();
  goawayTimer_.cancel();
  wakeWriter();
}

void H2Connection::shutdown() {
  if (finished_ || closing_ || goingAway_) return;
  goingAway_ = true;
  if (codec_->role() == H2Role::kClient) {
    codec_->submitGoaway(NGHTTP2_NO_ERROR);
    wakeWriter();
    return;
  }
  codec_->submitShutdownNotice();
  wakeWriter();
  goawayTimer_.expires_after(kGoawayGrace);
  goawayTimer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->finished_ || self->closing_) return;
    self->codec_->submitGoaway(NGHTTP2_NO_ERROR);
    self->wakeWriter();
  });
}

void H2Connection::finish(const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  boost::system::error_code ignored;
  peer_.stream->lowest_layer().close(ignored);
  keepaliveTimer_.cancel();
  goawayTimer_.cancel();
  for (auto& [id, core] : streams_) {
    core->closed = true;
    if (core->failure.empty()) core->failure = reason;
    core->readable.notify();
    core->writable.notify();
  }
  streams_.clear();
  HboneCounters::bump(counters_.connectionsClosed);
}

void H2Connection::consume(detail::StreamCore& core, size_t bytes) {
  if (finished_ || bytes == 0) return;
  codec_->consume(core.id, bytes);
  wakeWriter();
}

void H2Connection::releaseHandle(detail::StreamCore& core) {
  // Credit back everything the reader never took, so the connection window recovers.
  size_t unread = core.handedOut;
  for (const auto& chunk : core.inbound) unread += chunk.size();
  unread -= core.frontOffset;
  core.inbound.clear();
  core.frontOffset = 0;
  core.handedOut = 0;
  consume(core, unread);
  if (!core.closed && !finished_) {
    // After our END_STREAM (or a final answer, which the codec follows with RST NO_ERROR
    // once sent) a RST now could overtake frames still queued; the stream closes when the
    // peer half-closes or the connection ends.
    if (!core.localEnded) codec_->submitReset(core.id, NGHTTP2_CANCEL);
    core.closed = true;
    wakeWriter();
  }
  --handles_;
  if (streamsInUse() == 0) idleSince_ = std::chrono::steady_clock::now();
}

}  // namespace weft::hbone
