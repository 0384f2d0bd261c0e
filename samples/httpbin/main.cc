// weft-httpbin: a go-httpbin compatible HTTP server, the local cluster's stand-in for the
// mccutchen/go-httpbin and kong/httpbin images. main() reads the arguments, binds, prints
// the ready line, and drains on SIGTERM/SIGINT, then exits 0 as go-httpbin does.

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include "httpbin/access_log.h"
#include "httpbin/config.h"
#include "httpbin/server.h"

namespace {

using namespace weft::httpbin;

constexpr unsigned kMaxThreads = 4;

// The pod's name under the local runtime, which gives each pod its own UTS namespace.
std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "go-httpbin";
  return name;
}

std::string url(const boost::asio::ip::tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  return endpoint.address().is_v6() ? fmt::format("http://[{}]:{}", address, endpoint.port())
                                     : fmt::format("http://{}:{}", address, endpoint.port());
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout must not kill the server through SIGPIPE; write() just fails.
  std::signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string> args(argv + 1, argv + argc);
  auto config = parseConfig(args, [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
  if (!config) {
    fmt::print(stderr, "error: {}\n\n{}", config.error().message, usage());
    return 2;
  }
  if (config->help) {
    fmt::print(stderr, "{}", usage());
    return 0;
  }

  ServerOptions options;
  options.host = config->host;
  options.port = config->port;
  options.threads = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
  options.settings.hostname = hostname();
  options.settings.maxBodyBytes = config->maxBodyBytes;
  options.settings.maxDuration = config->maxDuration;

  // Signals are caught before any thread starts, and handled on this thread.
  boost::asio::io_context control;
  boost::asio::signal_set signals(control, SIGINT, SIGTERM);

  auto server = Server::listen(options);
  if (!server) {
    writeLogLine(formatMessageLine(std::chrono::system_clock::now(), "ERROR", server.error().message));
    return 1;
  }
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    writeLogLine(formatMessageLine(std::chrono::system_clock::now(), "INFO", "shutting down ..."));
    (*server)->drain();
  });
  (*server)->start();
  writeLogLine(formatMessageLine(std::chrono::system_clock::now(), "INFO",
                                 fmt::format("weft-httpbin (go-httpbin compatible) listening on {}",
                                             url((*server)->endpoint()))));

  control.run();     // returns once the first SIGTERM/SIGINT has been handled
  (*server)->join();  // workers finish the requests in flight, then stop
  return 0;
}
