#pragma once
// Idle upstream HTTP/1.1 connections by endpoint ("ip:port"), reused for the next request
// to that endpoint. io thread only, so no locks. A pooled connection may have been closed
// by the peer meanwhile: the caller retries once on a fresh one when a reused connection
// fails before any response byte.

#include <boost/beast/core/tcp_stream.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace weft::proxy {

class UpstreamPool {
 public:
  static constexpr size_t kMaxIdlePerEndpoint = 16;

  std::optional<boost::beast::tcp_stream> take(const std::string& endpoint) {
    auto found = idle_.find(endpoint);
    if (found == idle_.end() || found->second.empty()) return std::nullopt;
    boost::beast::tcp_stream stream = std::move(found->second.back());
    found->second.pop_back();
    return stream;
  }

  void put(const std::string& endpoint, boost::beast::tcp_stream stream) {
    auto& list = idle_[endpoint];
    if (list.size() >= kMaxIdlePerEndpoint) return;  // closed as it goes out of scope
    stream.expires_never();
    list.push_back(std::move(stream));
  }

  void clear() { idle_.clear(); }

 private:
  std::map<std::string, std::vector<boost::beast::tcp_stream>> idle_;
};

}  // namespace weft::proxy
