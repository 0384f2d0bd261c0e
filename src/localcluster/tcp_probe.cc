#include "localcluster/tcp_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cctype>
#include <cstring>
#include <string_view>

#include "admin/http_endpoints.h"
#include "model/json_access.h"

namespace weft::localcluster {

namespace {

// A connected blocking socket with send/receive timeouts, or -1.
int connectWithin(const std::string& ip, int port, std::chrono::milliseconds timeout) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{0, static_cast<suseconds_t>(std::chrono::microseconds(timeout).count())};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The value of header `name` (lower case) in a response head, or "".
std::string headerValue(const std::string& head, std::string_view name) {
  size_t at = 0;
  while ((at = head.find("\r\n", at)) != std::string::npos) {
    at += 2;
    size_t colon = head.find(':', at);
    size_t end = head.find("\r\n", at);
    if (colon == std::string::npos || end == std::string::npos || colon > end) continue;
    std::string field = head.substr(at, colon - at);
    for (auto& ch : field) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (field != name) continue;
    size_t from = head.find_first_not_of(' ', colon + 1);
    return from == std::string::npos || from > end ? std::string() : head.substr(from, end - from);
  }
  return {};
}

bool httpGetOk(const std::string& ip, int port, const std::string& path, const std::string& podName, std::chrono::milliseconds timeout) {
  int fd = connectWithin(ip, port, timeout);
  if (fd < 0) return false;
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + ip + ":" + std::to_string(port) + "\r\nUser-Agent: kube-probe/1.31\r\n\r\n";
  bool ok = false;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    // The head, up to 4 KiB (HTTP/1.0: the server closes after its answer).
    std::string head;
    char buffer[1024];
    while (head.size() < 4096 && head.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      head.append(buffer, static_cast<size_t>(n));
    }
    // "HTTP/1.x NNN ..."
    if (head.size() >= 12 && head.compare(0, 7, "HTTP/1.") == 0) {
      int status = std::atoi(head.c_str() + 9);
      std::string answering = headerValue(head, admin::kAnsweringPodHeader);
      ok = status >= 200 && status < 400 && (answering.empty() || answering == podName);
    }
  }
  close(fd);
  return ok;
}

}  // namespace

std::optional<ReadinessProbe> readinessProbeOf(const boost::json::value& container) {
  const auto& probe = model::at(container, {"readinessProbe"});
  if (!probe.is_object()) return std::nullopt;
  ReadinessProbe out;
  const boost::json::value* port = nullptr;
  if (const auto& http = model::at(probe, {"httpGet"}); http.is_object()) {
    out.http = true;
    port = &model::at(http, {"port"});
    if (auto path = model::stringAt(http, {"path"}); !path.empty()) out.path = path;
  } else if (const auto& tcp = model::at(probe, {"tcpSocket"}); tcp.is_object()) {
    port = &model::at(tcp, {"port"});
  } else {
    return std::nullopt;
  }
  if (port->is_int64()) {
    out.port = static_cast<int>(port->get_int64());
  } else if (port->is_string()) {
    const auto& ports = model::at(container, {"ports"});
    for (const auto& p : ports.is_array() ? ports.get_array() : boost::json::array()) {
      if (model::stringAt(p, {"name"}) == port->get_string() && model::at(p, {"containerPort"}).is_int64()) {
        out.port = static_cast<int>(model::at(p, {"containerPort"}).get_int64());
      }
    }
  }
  if (out.port <= 0) return std::nullopt;
  return out;
}

bool probeSucceeds(const ReadinessProbe& probe, const std::string& ip, const std::string& podName, std::chrono::milliseconds timeout) {
  return probe.http ? httpGetOk(ip, probe.port, probe.path, podName, timeout) : tcpAccepts(ip, probe.port, timeout);
}

bool tcpAccepts(const std::string& ip, int port, std::chrono::milliseconds timeout) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool accepted = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    accepted = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int error = 0;
      socklen_t length = sizeof error;
      accepted = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
    }
  }
  close(fd);
  return accepted;
}

}  // namespace weft::localcluster
