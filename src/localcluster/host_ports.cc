#include "localcluster/host_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "localcluster/netns.h"
#include "net/byte_relay.h"

namespace weft::localcluster {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

struct HostPortListener {
  HostPortListener(asio::io_context& io, HostPortTarget t) : acceptor(io), target(std::move(t)) {}
  tcp::acceptor acceptor;
  HostPortTarget target;
};

namespace {

asio::awaitable<void> relayToService(tcp::socket client, HostPortTarget target, Ipv4Address source) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket upstream(executor);
  boost::system::error_code ec;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    spdlog::warn("node port {}: socket: {}", target.nodePort, std::strerror(errno));
    co_return;
  }
  upstream.assign(tcp::v4(), fd, ec);
  if (ec) close(fd);
  if (!ec && source.value != 0) upstream.bind(tcp::endpoint(asio::ip::address_v4(source.value), 0), ec);
  if (!ec) {
    co_await upstream.async_connect(tcp::endpoint(asio::ip::address_v4(target.clusterIp.value), static_cast<uint16_t>(target.port)),
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    // A Service without ready endpoints refuses at once; the client sees its connection closed.
    spdlog::debug("node port {} -> {} {}:{}: {}", target.nodePort, target.service, target.clusterIp.str(), target.port, ec.message());
    co_return;
  }
  co_await net::relayBytes(client, upstream);
}

bool resourceShortage(int error) { return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM; }

// Accepts with accept4 rather than async_accept: Asio's accept does not set
// close-on-exec atomically, and the kubelet forks at any time.
asio::awaitable<void> acceptLoop(std::shared_ptr<HostPortListener> listener, Ipv4Address source) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  while (listener->acceptor.is_open()) {
    boost::system::error_code ec;
    co_await listener->acceptor.async_wait(tcp::acceptor::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !listener->acceptor.is_open()) co_return;  // closed: the port is gone
    int fd = accept4(listener->acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      // Out of descriptors or memory: back off instead of spinning on a ready listener.
      if (resourceShortage(errno)) {
        pause.expires_after(100ms);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    tcp::socket client(executor);
    client.assign(tcp::v4(), fd, ec);
    if (ec) {
      close(fd);
      continue;
    }
    asio::co_spawn(executor, relayToService(std::move(client), listener->target, source), asio::detached);
  }
}

}  // namespace

HostPortProxy::HostPortProxy(int hostNetns, Ipv4Address source)
    : hostNetns_(hostNetns), source_(source), work_(asio::make_work_guard(io_)) {
  // The runtime takes its signals from a signalfd: no signal may land on this thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { io_.run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

HostPortProxy::~HostPortProxy() {
  io_.stop();
  thread_.join();
  // The acceptors close here; connections in flight end with the io_context.
  listeners_.clear();
  close(hostNetns_);
}

Result<int> HostPortProxy::listenOnHost(int port) const {
  int fd = -1;
  int error = 0;
  const char* step = "";
  auto entered = runInNetns(hostNetns_, [&] {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      error = errno, step = "socket";
      return;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      error = errno, step = "bind";
    } else if (listen(fd, SOMAXCONN) != 0) {
      error = errno, step = "listen";
    }
    if (error != 0) {
      close(fd);
      fd = -1;
    }
  });
  if (!entered) return entered.error();
  if (fd < 0) return makeError("{} 127.0.0.1:{} on the host: {}", step, port, std::strerror(error));
  return fd;
}

void HostPortProxy::sync(const std::vector<HostPortTarget>& targets) {
  std::map<int, HostPortTarget> wanted;
  for (const auto& target : targets) wanted.emplace(target.nodePort, target);
  for (auto it = applied_.begin(); it != applied_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    int port = it->first;
    asio::post(io_, [this, port] {
      if (auto found = listeners_.find(port); found != listeners_.end()) {
        boost::system::error_code ec;
        found->second->acceptor.close(ec);
        listeners_.erase(found);
      }
    });
    spdlog::info("node port {}: closed on the host ({} is gone)", port, it->second.service);
    it = applied_.erase(it);
  }
  for (auto it = failed_.begin(); it != failed_.end();) it = wanted.contains(*it) ? std::next(it) : failed_.erase(it);
  for (const auto& [port, target] : wanted) {
    if (auto found = applied_.find(port); found != applied_.end()) {
      if (found->second == target) continue;
      asio::post(io_, [this, target] {
        if (auto l = listeners_.find(target.nodePort); l != listeners_.end()) l->second->target = target;
      });
      found->second = target;
      spdlog::info("node port {}: now relays to {} {}:{}", port, target.service, target.clusterIp.str(), target.port);
      continue;
    }
    auto fd = listenOnHost(port);
    if (!fd) {
      if (failed_.insert(port).second) spdlog::error("node port {} for {}: {}", port, target.service, fd.error().message);
      continue;
    }
    failed_.erase(port);
    asio::post(io_, [this, fd = *fd, target] {
      auto listener = std::make_shared<HostPortListener>(io_, target);
      boost::system::error_code ec;
      listener->acceptor.assign(tcp::v4(), fd, ec);
      if (ec) {
        close(fd);
        spdlog::error("node port {}: {}", target.nodePort, ec.message());
        return;
      }
      listeners_[target.nodePort] = listener;
      asio::co_spawn(io_, acceptLoop(listener, source_), asio::detached);
    });
    applied_[port] = target;
    spdlog::info("node port {}: 127.0.0.1:{} on the host relays to {} {}:{}", port, port, target.service, target.clusterIp.str(),
                 target.port);
  }
}

}  // namespace weft::localcluster
