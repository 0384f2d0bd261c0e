#include "localcluster/tcp_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace weft::localcluster {
namespace {

using namespace std::chrono_literals;

// A one-shot HTTP server on 127.0.0.1: answers the first request with `answer`, closes.
class OneAnswer {
 public:
  explicit OneAnswer(std::string answer) : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd_, 4);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char request[1024];
      (void)recv(client, request, sizeof request, 0);
      (void)send(client, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      close(client);
    });
  }
  ~OneAnswer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

bool probe(const std::string& answer, const std::string& podName) {
  OneAnswer server(answer);
  ReadinessProbe readiness{true, server.port(), "/healthz/ready"};
  return probeSucceeds(readiness, "127.0.0.1", podName, 2000ms);
}

TEST(ReadinessProbe, HttpStatusDecides) {
  EXPECT_TRUE(probe("HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nready\n", "ztunnel-new"));
  EXPECT_FALSE(probe("HTTP/1.0 503 Service Unavailable\r\n\r\n", "ztunnel-new"));
}

TEST(ReadinessProbe, AnAnswerFromAnotherPodSharingTheAddressIsNotReady) {
  // The old ztunnel, still listening on the shared port during a rollout, answers the new
  // pod's probe: its "ready" is not the new pod's.
  EXPECT_FALSE(probe("HTTP/1.0 200 OK\r\nX-Weft-Pod: ztunnel-old\r\n\r\nready\n", "ztunnel-new"));
  EXPECT_TRUE(probe("HTTP/1.0 200 OK\r\nx-weft-pod: ztunnel-new\r\n\r\nready\n", "ztunnel-new"));
}

}  // namespace
}  // namespace weft::localcluster
