#pragma once
// Idle upstream HTTP/1.1 connections by endpoint ("ip:port"), reused for the next request
// to that endpoint. io thread only, so no locks. A pooled connection may have been closed
// by the peer meanwhile: the caller retries once on a fresh one when a reused connection
// fails before any response byte.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace weft::proxy {

// A connection with its read buffer (kept for its capacity; always empty when pooled), the
// string its request heads are rendered into (kept for its capacity too) and the number of
// requests it has carried (for maxRequestsPerConnection).
struct PooledConnection {
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer{};
  std::string head{};
  uint32_t requests = 0;
};

class UpstreamPool {
 public:
  // Envoy keeps every idle connection; a cap below the requests in flight would close
  // connections that are needed again at once, and churn through ephemeral ports.
  static constexpr size_t kMaxIdlePerEndpoint = 1024;

  std::optional<PooledConnection> take(const std::string& endpoint) {
    auto found = idle_.find(endpoint);
    if (found == idle_.end() || found->second.empty()) return std::nullopt;
    PooledConnection connection = std::move(found->second.back());
    found->second.pop_back();
    return connection;
  }

  void put(const std::string& endpoint, PooledConnection connection) {
    auto& list = idle_[endpoint];
    if (list.size() >= kMaxIdlePerEndpoint) return;  // closed as it goes out of scope
    connection.stream.expires_never();
    list.push_back(std::move(connection));
  }

  void clear() { idle_.clear(); }

 private:
  std::map<std::string, std::vector<PooledConnection>> idle_;
};

}  // namespace weft::proxy
