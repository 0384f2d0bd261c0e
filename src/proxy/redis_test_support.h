#pragma once
// Test support for the rate-limit tests against sockets: running a coroutine to the end on
// an io_context, a scripted fake Redis, and a real redis-server on a free loopback port.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace weft::proxy::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Runs `work` on `io` until it finishes (other coroutines, such as fake servers, stay).
template <class T>
T runToEnd(asio::io_context& io, asio::awaitable<T> work) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result = std::move(value);
    io.stop();
  });
  io.restart();
  io.run();
  return std::move(*result);
}

// A server on 127.0.0.1 that answers each read with `reply` (or nothing, or closes).
class FakeRedis {
 public:
  enum class Mode { kReply, kSilent, kClose };

  FakeRedis(asio::io_context& io, Mode mode, std::string reply = "")
      : acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), mode_(mode), reply_(std::move(reply)) {
    asio::co_spawn(io, acceptLoop(), asio::detached);
  }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  int accepted() const { return accepted_; }
  void setReply(std::string reply) { reply_ = std::move(reply); }

 private:
  asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++accepted_;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(tcp::socket socket) {
    char buffer[4096];
    while (true) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (mode_ == Mode::kClose) co_return;  // the socket closes as it goes
      if (mode_ == Mode::kSilent) continue;
      co_await asio::async_write(socket, asio::buffer(reply_), asio::as_tuple(asio::use_awaitable));
    }
  }

  tcp::acceptor acceptor_;
  Mode mode_;
  std::string reply_;
  int accepted_ = 0;
};

// A loopback port nothing listens on (bound, then closed).
inline std::string closedPort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return std::to_string(a.local_endpoint().port());
}

// redis-server on a free loopback port, without persistence; stopped on destruction.
class RedisServer {
 public:
  static constexpr const char* kPath = "/usr/bin/redis-server";
  static bool available() { return std::filesystem::exists(kPath); }

  RedisServer() {
    port_ = closedPort();
    pid_ = fork();
    if (pid_ == 0) {
      freopen("/dev/null", "w", stdout);
      execl(kPath, kPath, "--port", port_.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", "/tmp", static_cast<char*>(nullptr));
      _exit(127);
    }
    // Waiting for a process to start listening is the one wait here; it is bounded.
    for (int i = 0; i < 250 && !accepts(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ~RedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& port() const { return port_; }
  bool accepts() const {
    asio::io_context io;
    tcp::socket s(io);
    boost::system::error_code ec;
    s.connect(tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(std::stoi(port_))), ec);
    return !ec;
  }

 private:
  std::string port_;
  pid_t pid_ = -1;
};

}  // namespace weft::proxy::testing
