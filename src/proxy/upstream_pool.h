#pragma once
// Idle upstream HTTP/1.1 connections by endpoint ("ip:port"), reused for the next request
// to that endpoint. io thread only, so no locks. A pooled connection may have been closed
// by the peer meanwhile: the caller retries once on a fresh one when a reused connection
// fails before any response byte.
//
// Three kinds of connection share the code: plain TCP, TLS over TCP (DestinationRule tls,
// upstream_tls.h), and one end of a socket pair whose other end is relayed into an HBONE
// stream (a waypoint's tunnel to a mesh endpoint, tunnel_upstream.h). All have Beast's
// deadline vocabulary on their lowest layer (TimedSocket for TCP, the proxy's hottest path;
// a Beast stream for the socket pair). Keys are the caller's: an endpoint, or for TLS the
// endpoint with the rule and SNI (UpstreamTls::poolKey), so connections made with different
// settings are never shared.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/timed_socket.h"

namespace weft::proxy {

// A connection with its read buffer (kept for its capacity; always empty when pooled), the
// string its request heads are rendered into (kept for its capacity too), the number of
// requests it has carried (for maxRequestsPerConnection) and when it was opened (for
// maxConnectionDuration).
template <class Stream>
struct BasicPooledConnection {
  Stream stream;
  boost::beast::flat_buffer buffer{};
  std::string head{};
  uint32_t requests = 0;
  std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
};

using TunnelStream = boost::beast::basic_stream<boost::asio::local::stream_protocol>;
using TlsStream = boost::beast::ssl_stream<TimedSocket>;
using PooledConnection = BasicPooledConnection<TimedSocket>;
using PooledTlsConnection = BasicPooledConnection<TlsStream>;
using PooledTunnel = BasicPooledConnection<TunnelStream>;

// Bounds, in three ways, what idle connections can hold on to:
// - an idle connection is closed after its cluster's idle timeout (DestinationRule
//   connectionPool.http.idleTimeout, Istio's default 1 h), found at take() or by a sweep
//   every few seconds;
// - at most kMaxIdlePerEndpoint per key, and `maxIdle` over all keys: past it the oldest
//   eighth goes at once. Keys are many when they carry a client's choice (auto SNI: one per
//   Host), and each idle connection is a descriptor;
// - keys left without connections are forgotten by the sweep.
// The sweep runs from take() and put(), and, given an executor, from a timer armed while
// anything is idle, so a proxy that gets no request at all still closes its expired idle
// connections (the timer stops when the pool is empty: an idle proxy does not wake for it).
// take() and put() cost a clock read more than a bare map; the sweep walks everything once.
template <class Connection>
class BasicUpstreamPool {
 public:
  using Clock = std::chrono::steady_clock;
  // Envoy keeps every idle connection; a cap below the requests in flight would close
  // connections that are needed again at once, and churn through ephemeral ports.
  static constexpr size_t kMaxIdlePerEndpoint = 1024;
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout = std::chrono::hours(1);
  static constexpr size_t kDefaultMaxIdle = 4096;

  explicit BasicUpstreamPool(size_t maxIdle = kDefaultMaxIdle, Clock::duration sweepEvery = std::chrono::seconds(5))
      : maxIdle_(std::max<size_t>(maxIdle, 8)), sweepEvery_(sweepEvery), nextSweep_(Clock::now() + sweepEvery) {}
  // Sweeps on a timer of `executor` too (the io thread's).
  BasicUpstreamPool(const boost::asio::any_io_executor& executor, size_t maxIdle = kDefaultMaxIdle,
                    Clock::duration sweepEvery = std::chrono::seconds(5))
      : BasicUpstreamPool(maxIdle, sweepEvery) {
    timer_.emplace(executor);
  }

  // The newest idle connection under `key` whose idle timeout has not passed.
  std::optional<Connection> take(const std::string& key) {
    const auto now = Clock::now();
    if (now >= nextSweep_) sweep(now);
    auto found = idle_.find(key);
    if (found == idle_.end()) return std::nullopt;
    auto& list = found->second;
    while (!list.empty()) {
      Idle newest = std::move(list.back());
      list.pop_back();
      --total_;
      if (newest.closeAt > now) return std::move(newest.connection);
    }
    return std::nullopt;
  }

  // `idleTimeout` zero means the default.
  void put(const std::string& key, Connection connection, std::chrono::milliseconds idleTimeout = kDefaultIdleTimeout) {
    const auto now = Clock::now();
    if (now >= nextSweep_) sweep(now);
    if (total_ >= maxIdle_) shed(now);
    auto& list = idle_[key];
    if (list.size() >= kMaxIdlePerEndpoint) return;  // closed as it goes out of scope
    boost::beast::get_lowest_layer(connection.stream).expires_never();
    if (idleTimeout.count() <= 0) idleTimeout = kDefaultIdleTimeout;
    list.push_back(Idle{std::move(connection), now, now + idleTimeout});
    ++total_;
    armSweep();
  }

  void clear() {
    idle_.clear();
    total_ = 0;
  }
  size_t idleCount() const { return total_; }
  size_t keyCount() const { return idle_.size(); }

 private:
  struct Idle {
    Connection connection;
    Clock::time_point since;
    Clock::time_point closeAt;
  };

  // Closes what has been idle past its timeout or, with `before`, since before it; forgets
  // keys left empty. Survivors are moved into new lists, oldest first as before.
  void dropWhere(Clock::time_point now, std::optional<Clock::time_point> before) {
    for (auto it = idle_.begin(); it != idle_.end();) {
      std::vector<Idle> kept;
      for (auto& entry : it->second) {
        if (entry.closeAt > now && !(before && entry.since <= *before)) kept.push_back(std::move(entry));
      }
      total_ -= it->second.size() - kept.size();
      if (kept.empty()) {
        it = idle_.erase(it);
      } else {
        it->second = std::move(kept);
        ++it;
      }
    }
  }

  void sweep(Clock::time_point now) {
    nextSweep_ = now + sweepEvery_;
    dropWhere(now, std::nullopt);
  }

  void armSweep() {
    if (!timer_ || sweepArmed_) return;
    sweepArmed_ = true;
    timer_->expires_after(sweepEvery_);
    // The token tells a handler already queued when the pool went that it is gone.
    timer_->async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
      if (ec || alive.expired()) return;
      sweepArmed_ = false;
      sweep(Clock::now());
      if (total_ > 0) armSweep();
    });
  }

  // Full: the expired go, then the oldest eighth of the rest, so this runs once per
  // maxIdle/8 puts, not on every one.
  void shed(Clock::time_point now) {
    sweep(now);
    if (total_ < maxIdle_) return;
    std::vector<Clock::time_point> since;
    since.reserve(total_);
    for (const auto& [key, list] : idle_) {
      for (const auto& entry : list) since.push_back(entry.since);
    }
    auto cut = since.begin() + static_cast<std::ptrdiff_t>(since.size() / 8);
    std::nth_element(since.begin(), cut, since.end());
    dropWhere(now, *cut);
  }

  std::map<std::string, std::vector<Idle>> idle_;
  size_t total_ = 0;
  size_t maxIdle_;
  Clock::duration sweepEvery_;
  Clock::time_point nextSweep_;
  std::optional<boost::asio::steady_timer> timer_;
  bool sweepArmed_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

using UpstreamPool = BasicUpstreamPool<PooledConnection>;
using TlsPool = BasicUpstreamPool<PooledTlsConnection>;
using TunnelPool = BasicUpstreamPool<PooledTunnel>;

}  // namespace weft::proxy
