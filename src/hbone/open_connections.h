#pragma once
// The HBONE connections one listener has accepted and that are still running, kept so a
// draining server can tell each of them to go away. A GOAWAY (NO_ERROR) lets the streams
// already open finish while the client's pool stops opening new ones there and dials
// again, which reaches a successor or another replica instead of a closed listener.
// Weak references: a connection that ends is simply skipped.
//
// Threads: the io_context's thread only.

#include <memory>
#include <vector>

namespace weft::hbone {

class H2Connection;

class OpenConnections {
 public:
  // A connection accepted after goAway() is told to go away at once.
  void add(const std::shared_ptr<H2Connection>& connection);
  void goAway();
  size_t tracked() const { return connections_.size(); }

 private:
  std::vector<std::weak_ptr<H2Connection>> connections_;
  bool goingAway_ = false;
};

}  // namespace weft::hbone
