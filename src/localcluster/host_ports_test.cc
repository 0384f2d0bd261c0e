#include "localcluster/host_ports.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

namespace weft::localcluster {
namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

int listenOnLoopback() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback(0);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(listen(fd, 8), 0);
  return fd;
}

int portOf(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string readAll(int fd) {
  std::string data;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
  return data;
}

// The host namespace is this test's own: what matters is the relay, the half-close and
// that a port goes when its Service does.
TEST(HostPortProxy, RelaysAConnectionAndClosesThePortWhenItsServiceGoes) {
  if (geteuid() != 0) GTEST_SKIP() << "setns needs root";
  int upstream = listenOnLoopback();
  // Answers only after the client's EOF arrived: the half-close must be passed on.
  std::thread server([upstream] {
    int c = accept4(upstream, nullptr, nullptr, SOCK_CLOEXEC);
    std::string got = readAll(c);
    std::string answer = "got " + std::to_string(got.size()) + " bytes";
    (void)!write(c, answer.data(), answer.size());
    close(c);
  });
  int probe = listenOnLoopback();
  int nodePort = portOf(probe);
  close(probe);

  HostPortProxy proxy(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), Ipv4Address{});
  proxy.sync({{nodePort, Ipv4Address{INADDR_LOOPBACK}, portOf(upstream), "default/echo:80"}});
  int client = connectTo(nodePort);
  ASSERT_GE(client, 0);
  std::string body(100000, 'x');  // several times the relay's buffer
  size_t sent = 0;
  while (sent < body.size()) {
    ssize_t n = write(client, body.data() + sent, body.size() - sent);
    ASSERT_GT(n, 0);
    sent += static_cast<size_t>(n);
  }
  shutdown(client, SHUT_WR);
  EXPECT_EQ(readAll(client), "got 100000 bytes");
  close(client);
  server.join();
  close(upstream);

  proxy.sync({});
  int after = -1;
  for (int i = 0; i < 100; ++i) {
    after = connectTo(nodePort);
    if (after < 0) break;
    close(after);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_LT(after, 0) << "127.0.0.1:" << nodePort << " still accepts after its Service went away";
}

}  // namespace
}  // namespace weft::localcluster
