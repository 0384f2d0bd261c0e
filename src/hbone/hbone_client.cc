#include "hbone/hbone_client.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "hbone/h2_connection.h"
#include "hbone/tls_handshake.h"

namespace weft::hbone {

namespace asio = boost::asio;

namespace {

// Opening attempts per connect(): each wait for, or opening of, a connection is one. A
// burst needing k new connections takes about k rounds; past this the caller gets an error.
constexpr int kMaxAttempts = 32;

}  // namespace

SocketFactory plainSocketFactory() {
  return [](const asio::any_io_executor& executor, const asio::ip::tcp::endpoint& peer)
             -> Result<asio::ip::tcp::socket> {
    asio::ip::tcp::socket socket(executor);
    boost::system::error_code ec;
    socket.open(peer.protocol(), ec);
    if (ec) return makeError("cannot open a socket: {}", ec.message());
    return socket;
  };
}

HbonePool::HbonePool(asio::any_io_executor executor, PoolOptions options, HboneCounters& counters)
    : executor_(std::move(executor)), options_(std::move(options)), counters_(counters) {}

HbonePool::~HbonePool() { closeAll(); }

void HbonePool::closeAll() {
  for (auto& [key, entry] : entries_) {
    for (auto& connection : entry->connections) connection->close();
    entry->connections.clear();
    entry->opened.cancel();
  }
}

size_t HbonePool::connectionCount() const {
  size_t count = 0;
  for (const auto& [key, entry] : entries_)
    count += std::count_if(entry->connections.begin(), entry->connections.end(),
                           [](const auto& connection) { return !connection->finished(); });
  return count;
}

std::shared_ptr<H2Connection> HbonePool::connectionWithRoom(Entry& entry) const {
  std::erase_if(entry.connections, [](const auto& connection) { return connection->finished(); });
  for (auto& connection : entry.connections) {
    const uint32_t limit = std::min(options_.maxStreamsPerConnection, connection->peerStreamLimit());
    if (connection->hasRoomFor(limit)) return connection;
  }
  return nullptr;
}

void HbonePool::sweep() {
  std::erase_if(entries_, [](const auto& item) {
    const auto& entry = item.second;
    return entry.use_count() == 1 && !entry->opening &&
           std::none_of(entry->connections.begin(), entry->connections.end(),
                        [](const auto& connection) { return !connection->finished(); });
  });
}

asio::awaitable<ConnectResult> HbonePool::connect(ConnectTarget target) {
  sweep();
  Key key{target.sourceIdentity, target.destinationIdentity, target.destinationIp};
  auto& slot = entries_[key];
  if (!slot) slot = std::make_shared<Entry>(executor_);
  auto entry = slot;  // keeps the entry while we wait, even if the pool sweeps it

  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (auto connection = connectionWithRoom(*entry)) {
      connection->reserveStream();
      co_return co_await connection->openStream(target.authority, target.headers);
    }
    if (entry->opening) {
      // Someone is opening a connection for this key: wait for it rather than open another.
      const uint64_t generation = entry->generation;
      co_await entry->opened.async_wait(asio::as_tuple(asio::use_awaitable));
      if (entry->generation != generation && entry->openError) co_return *entry->openError;
      continue;
    }
    entry->opening = true;
    entry->opened.expires_at(std::chrono::steady_clock::time_point::max());
    auto opened = co_await openConnection(target);
    entry->opening = false;
    ++entry->generation;
    entry->opened.cancel();
    if (!opened) {
      entry->openError = opened.error();
      co_return opened.error();
    }
    entry->openError.reset();
    auto connection = std::move(opened.value());
    entry->connections.push_back(connection);
    asio::co_spawn(executor_, [connection]() -> asio::awaitable<void> { co_await connection->run(); },
                   asio::detached);
    connection->reserveStream();
    co_return co_await connection->openStream(target.authority, target.headers);
  }
  co_return makeError("HBONE pool: no connection to {} after {} attempts", target.peer.address().to_string(),
                      kMaxAttempts);
}

asio::awaitable<Result<std::shared_ptr<H2Connection>>> HbonePool::openConnection(ConnectTarget target) {
  auto factory = target.makeSocket ? target.makeSocket : plainSocketFactory();
  auto socket = factory(executor_, target.peer);
  if (!socket) co_return socket.error();

  // A silent peer (dropped SYNs) is cut off by closing the socket under the connect.
  asio::steady_timer timer(executor_);
  timer.expires_after(options_.connectTimeout);
  auto finished = std::make_shared<bool>(false);
  timer.async_wait([finished, raw = &socket.value()](boost::system::error_code ec) {
    if (!ec && !*finished) raw->close(ec);
  });
  auto [ec] = co_await socket->async_connect(target.peer, asio::as_tuple(asio::use_awaitable));
  *finished = true;
  timer.cancel();
  if (ec) {
    co_return makeError("HBONE connect to {}:{} failed: {} (is a NetworkPolicy blocking port {}?)",
                        target.peer.address().to_string(), target.peer.port(), ec.message(), target.peer.port());
  }

  auto peer = co_await connectHboneTls(std::move(socket.value()), target.tls, target.expectedServerIds,
                                       options_.handshakeTimeout, counters_);
  if (!peer) co_return peer.error();
  auto codec = H2Codec::make(H2Role::kClient, options_.h2);
  if (!codec) co_return codec.error();

  H2Connection::Options connectionOptions;
  connectionOptions.pingInterval = options_.pingInterval;
  connectionOptions.pingTimeout = options_.pingTimeout;
  connectionOptions.idleTimeout = options_.idleTimeout;
  connectionOptions.connectAnswerTimeout = options_.connectAnswerTimeout;
  connectionOptions.streamSendHighWater = options_.streamSendHighWater;
  co_return H2Connection::make(std::move(peer.value()), std::move(codec.value()), connectionOptions, counters_);
}

}  // namespace weft::hbone
