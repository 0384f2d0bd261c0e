#include "net/netns_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>
#include <thread>

#include "net/inpod_capture.h"
#include "net/original_destination.h"
#include "net/test_netns.h"

namespace weft::net {
namespace {

using testing::ScopedNetns;

Ipv4Address ip(const char* text) { return Ipv4Address::parse(text).value(); }

ino_t threadNetnsInode() {
  struct stat st{};
  EXPECT_EQ(stat("/proc/thread-self/ns/net", &st), 0);
  return st.st_ino;
}

UniqueFd acceptOne(int listener) {
  pollfd p{listener, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 5000), 1) << "nothing connected";
  return UniqueFd(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

// Connects a non-blocking socket, waiting at most a few seconds.
Status connectTo(int fd, Ipv4Endpoint to) {
  sockaddr_in address = toSockaddr(to);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return {};
  if (errno != EINPROGRESS) return makeError("connect: {}", std::strerror(errno));
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 5000) != 1) return makeError("connect: timed out");
  int error = 0;
  socklen_t length = sizeof error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) return makeError("connect: {}", std::strerror(error));
  return {};
}

TEST(NetnsSocket, ReportsANamespaceThatCannotBeEntered) {
  auto socket = socketInNetns(-1, AF_INET, SOCK_STREAM);
  ASSERT_FALSE(socket);
  EXPECT_NE(socket.error().message.find("entering network namespace"), std::string::npos);
  EXPECT_FALSE(openNetns("/var/run/netns/weft-nettest-does-not-exist"));
}

TEST(NetnsSocket, RunsInsideAndComesBack) {
  WEFT_REQUIRE_ROOT();
  ScopedNetns netns;
  ASSERT_TRUE(netns.ok());
  ino_t home = threadNetnsInode();
  struct stat target{};
  ASSERT_EQ(fstat(netns.fd(), &target), 0);
  ino_t inside = 0;
  ASSERT_TRUE(runInNetns(netns.fd(), [&] { inside = threadNetnsInode(); }));
  EXPECT_EQ(inside, target.st_ino);
  EXPECT_EQ(threadNetnsInode(), home);
}

TEST(NetnsSocket, ListenerBelongsToTheNamespace) {
  WEFT_REQUIRE_ROOT();
  ScopedNetns netns;
  ASSERT_TRUE(netns.ok());
  netns.addPodInterface("198.18.250.7");

  // Only the test namespace has this address: binding here fails, there it works.
  UniqueFd outside(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = toSockaddr({ip("198.18.250.7"), 0});
  EXPECT_NE(bind(outside.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);

  auto listener = listenInNetns(netns.fd(), {.bind = {ip("198.18.250.7"), 0}, .transparent = Transparency::kRequired});
  ASSERT_TRUE(listener) << listener.error().message;
  auto bound = localEndpoint(listener->get());
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->address, ip("198.18.250.7"));
  EXPECT_NE(bound->port, 0);

  int mark = 0, transparent = 0, reusePort = 0;
  socklen_t length = sizeof mark;
  getsockopt(listener->get(), SOL_SOCKET, SO_MARK, &mark, &length);
  getsockopt(listener->get(), SOL_IP, IP_TRANSPARENT, &transparent, &length);
  getsockopt(listener->get(), SOL_SOCKET, SO_REUSEPORT, &reusePort, &length);
  EXPECT_EQ(mark, 0x539);
  EXPECT_EQ(transparent, 1);
  EXPECT_EQ(reusePort, 1);

  // A second listener on the same port works (SO_REUSEPORT: the upgrade overlap).
  auto second = listenInNetns(netns.fd(), {.bind = *bound});
  EXPECT_TRUE(second) << second.error().message;

  // A client made in the namespace (ztunnel's inbound upstream socket) reaches it with the
  // original client's address as its source.
  auto client = connectSocketInNetns(netns.fd(), {.mark = kInpodMark, .source = ip("198.18.77.5")});
  ASSERT_TRUE(client) << client.error().message;
  // Packets to a foreign source address come back only through the capture routing.
  ASSERT_TRUE(applyCapture(netns.fd(), {}));
  ASSERT_TRUE(connectTo(client->get(), *bound));
  // The kernel hands the connection to either listener of the port.
  pollfd p[2] = {{listener->get(), POLLIN, 0}, {second->get(), POLLIN, 0}};
  ASSERT_GT(poll(p, 2, 5000), 0) << "nothing connected";
  int accepted = accept4((p[0].revents & POLLIN) ? listener->get() : second->get(), nullptr, nullptr, SOCK_CLOEXEC);
  UniqueFd server(accepted);
  ASSERT_TRUE(server);
  sockaddr_in peer{};
  socklen_t peerLength = sizeof peer;
  ASSERT_EQ(getpeername(server.get(), reinterpret_cast<sockaddr*>(&peer), &peerLength), 0);
  EXPECT_EQ(fromSockaddr(peer).address, ip("198.18.77.5"));
  EXPECT_TRUE(removeCapture(netns.fd()));
}

TEST(OriginalDestination, ReadsTheAddressBeforeTheRedirect) {
  WEFT_REQUIRE_ROOT();
  ScopedNetns netns;
  ASSERT_TRUE(netns.ok());
  netns.addPodInterface("198.18.3.4");
  ASSERT_TRUE(applyCapture(netns.fd(), {}));

  // ztunnel's outbound listener; the app connects to a remote Service address.
  auto listener = listenInNetns(netns.fd(), {.bind = {ip("0.0.0.0"), kOutboundPort}, .nonBlocking = false});
  ASSERT_TRUE(listener) << listener.error().message;
  auto app = connectSocketInNetns(netns.fd(), {.mark = 0, .source = std::nullopt});
  ASSERT_TRUE(app);
  ASSERT_TRUE(connectTo(app->get(), {ip("198.18.100.9"), 8000}));
  UniqueFd accepted = acceptOne(listener->get());
  ASSERT_TRUE(accepted);
  auto original = originalDestination(accepted.get());
  ASSERT_TRUE(original) << original.error().message;
  EXPECT_EQ(original->str(), "198.18.100.9:8000");

  // Data flows through.
  ASSERT_EQ(write(app->get(), "hi", 2), 2);
  char buffer[2];
  ASSERT_EQ(read(accepted.get(), buffer, 2), 2);

  // A socket that was never NATed has no original destination in conntrack terms other
  // than itself, and a non-TCP fd is an error.
  UniqueFd notASocket(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(originalDestination(notASocket.get()));
}

}  // namespace
}  // namespace weft::net
