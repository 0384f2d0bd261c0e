#pragma once
// A network namespace for one test, named weft-nettest-<pid>-<n> and deleted when the test
// ends however it ends. Tests that need one skip unless they run as root.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "base/subprocess.h"
#include "net/netns_socket.h"

namespace weft::net::testing {

inline bool isRoot() { return geteuid() == 0; }

#define WEFT_REQUIRE_ROOT() \
  if (!::weft::net::testing::isRoot()) GTEST_SKIP() << "needs root (network namespaces)"

class ScopedNetns {
 public:
  ScopedNetns() {
    static std::atomic<int> counter{0};
    name_ = "weft-nettest-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    if (auto s = runChecked({"ip", "netns", "add", name_}); !s) {
      ADD_FAILURE() << s.error().message;
      return;
    }
    created_ = true;
    if (auto fd = openNetns("/var/run/netns/" + name_)) {
      fd_ = std::move(*fd);
    } else {
      ADD_FAILURE() << fd.error().message;
    }
    ip("link set lo up");
  }
  ~ScopedNetns() {
    fd_.reset();
    if (created_) (void)runCommand({"ip", "netns", "delete", name_});
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

  const std::string& name() const { return name_; }
  int fd() const { return fd_.get(); }
  bool ok() const { return fd_.valid(); }

  // `ip -n NAME <command>`; a failure fails the test.
  void ip(const std::string& command) {
    std::vector<std::string> argv{"ip", "-n", name_};
    size_t start = 0;
    while (start < command.size()) {
      size_t end = command.find(' ', start);
      if (end == std::string::npos) end = command.size();
      if (end > start) argv.push_back(command.substr(start, end - start));
      start = end + 1;
    }
    if (auto s = runChecked(argv); !s) ADD_FAILURE() << s.error().message;
  }

  // A pod-like interface: eth0 (one end of a veth pair whose other end stays inside too)
  // with a /32 and the default route, as the local cluster gives every pod.
  void addPodInterface(const std::string& address) {
    ip("link add eth0 type veth peer name eth0-peer");
    ip("addr add " + address + "/32 dev eth0");
    ip("link set eth0 up");
    ip("link set eth0-peer up");
    ip("route add default dev eth0");
  }

  // Runs a program inside the namespace and returns its output.
  std::string run(const std::vector<std::string>& argv, std::string_view input = {}) {
    std::string output;
    auto status = runInNetns(fd(), [&] {
      auto result = runCommand(argv, input);
      if (!result) {
        ADD_FAILURE() << result.error().message;
      } else {
        output = result->output;
      }
    });
    if (!status) ADD_FAILURE() << status.error().message;
    return output;
  }

 private:
  std::string name_;
  bool created_ = false;
  UniqueFd fd_;
};

}  // namespace weft::net::testing
