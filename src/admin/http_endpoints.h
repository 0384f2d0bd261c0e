#pragma once
// A small HTTP/1.1 server for the plain endpoints of weftd and weft-ztunnel (readiness, Prometheus
// metrics, admin): a path -> handler table, served on its own thread. Not for traffic.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <thread>

#include "base/result.h"

namespace weft::admin {

// The header a health answer names its pod in, for pods that share an address (see
// localcluster/tcp_probe.h). Lower case.
inline constexpr std::string_view kAnsweringPodHeader = "x-weft-pod";

struct HttpAnswer {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // extra response headers
};

using HttpHandler = std::function<HttpAnswer()>;

class HttpEndpoints {
 public:
  // Binds now (so a taken port is an error at start-up), serves once start() is called.
  // `shared`: SO_REUSEPORT, so a successor process can bind beside this one during a
  // restart (ztunnel's upgrade overlap) instead of failing until this one is gone.
  static Result<std::unique_ptr<HttpEndpoints>> bind(const std::string& address, int port, std::map<std::string, HttpHandler> handlers,
                                                    bool shared = false);
  ~HttpEndpoints();
  void start();
  void stop();
  int port() const;

  struct State;

 private:
  explicit HttpEndpoints(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace weft::admin
