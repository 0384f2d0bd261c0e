#include "hbone/hbone_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include "hbone/async_signal.h"
#include "hbone/authority.h"
#include "hbone/h2_connection.h"
#include "hbone/tls_handshake.h"

namespace weft::hbone {

namespace asio = boost::asio;

namespace {

// The stream coroutines of one connection; the connection waits for all of them.
struct StreamTasks {
  explicit StreamTasks(const asio::any_io_executor& executor) : allDone(executor) {}
  size_t live = 0;
  AsyncSignal allDone;
};

void takeRelayResult(StreamReport& outcome, const RelayResult& relayed) {
  outcome.bytesFromPeer = relayed.streamToSocket;
  outcome.bytesToPeer = relayed.socketToStream;
  outcome.firstClose = relayed.firstClose;
  outcome.error = relayed.error;
}

void report(const ConnectDecision& decision, const StreamReport& outcome) {
  if (decision.onFinished) decision.onFinished(outcome);
}

asio::awaitable<void> serveStream(std::unique_ptr<HboneStream> stream, Headers request, ConnectHandler handler,
                                  std::string peerIdentity, asio::ip::tcp::endpoint peerEndpoint,
                                  HboneCounters& counters) {
  const auto started = std::chrono::steady_clock::now();
  auto refuseBadRequest = [&] {
    HboneCounters::bump(counters.badConnects);
    HboneCounters::bump(counters.connectsRefused);
    (void)stream->respond(400, {}, true);
  };
  if (findHeader(request, ":method") != "CONNECT") {
    refuseBadRequest();
    co_return;
  }
  const auto authority = findHeader(request, ":authority");
  auto target = authority ? parseAuthority(*authority) : Result<asio::ip::tcp::endpoint>(Error{"no :authority"});
  if (!target) {
    refuseBadRequest();
    co_return;
  }

  ConnectRequest connect{*target, std::string(*authority), {}, std::move(peerIdentity), peerEndpoint, stream->id()};
  for (auto& header : request)
    if (!header.first.starts_with(':')) connect.headers.push_back(std::move(header));

  ConnectDecision decision = co_await handler(std::move(connect));
  StreamReport outcome;
  if (!decision.upstream && !decision.serve) {
    // A 200 without an upstream is a handler bug; the client must not think it connected.
    outcome.status = decision.status == 200 ? 503 : decision.status;
    HboneCounters::bump(counters.connectsRefused);
    if (auto answered = stream->respond(outcome.status, decision.responseHeaders, true); !answered)
      outcome.error = answered.error().message;
    outcome.duration = std::chrono::steady_clock::now() - started;
    report(decision, outcome);
    co_return;
  }

  outcome.status = 200;
  if (auto answered = stream->respond(200, decision.responseHeaders, false); !answered) {
    outcome.error = answered.error().message;
  } else if (decision.serve) {
    // Each result initialised from its own co_await: GCC 12 destroyed a co_await result
    // twice when it was assigned to an existing variable.
    RelayResult served = co_await decision.serve(*stream);
    takeRelayResult(outcome, served);
  } else {
    RelayResult relayed = co_await relay(*decision.upstream, *stream);
    takeRelayResult(outcome, relayed);
  }
  outcome.duration = std::chrono::steady_clock::now() - started;
  report(decision, outcome);
}

}  // namespace

asio::awaitable<void> serveHboneConnection(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls,
                                           ConnectHandler handler, ServerOptions options, HboneCounters& counters) {
  boost::system::error_code ec;
  const auto peerEndpoint = socket.remote_endpoint(ec);
  auto peer = co_await acceptHboneTls(std::move(socket), std::move(tls), options.trustDomain,
                                      options.handshakeTimeout, counters);
  if (!peer) co_return;  // counted by kind in acceptHboneTls
  auto codec = H2Codec::make(H2Role::kServer, options.h2);
  if (!codec) co_return;
  const std::string peerIdentity = peer->identity.uri();

  H2Connection::Options connectionOptions;
  connectionOptions.streamSendHighWater = options.streamSendHighWater;
  auto connection = H2Connection::make(std::move(*peer), std::move(codec.value()), connectionOptions, counters);
  if (options.open) options.open->add(connection);

  const auto executor = co_await asio::this_coro::executor;
  auto tasks = std::make_shared<StreamTasks>(executor);
  co_await connection->run([&](std::unique_ptr<HboneStream> stream, Headers request) {
    ++tasks->live;
    asio::co_spawn(executor,
                   serveStream(std::move(stream), std::move(request), handler, peerIdentity, peerEndpoint, counters),
                   [tasks](std::exception_ptr) {
                     // A throwing handler loses its stream (reset by the handle), not the process.
                     --tasks->live;
                     tasks->allDone.notify();
                   });
  });
  while (tasks->live > 0) co_await tasks->allDone.wait();
}

}  // namespace weft::hbone
