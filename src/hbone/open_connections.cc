#include "hbone/open_connections.h"

#include <algorithm>

#include "hbone/h2_connection.h"

namespace weft::hbone {

void OpenConnections::add(const std::shared_ptr<H2Connection>& connection) {
  if (goingAway_) {
    connection->shutdown();
    return;
  }
  // Forget the ended ones here, so the list stays as long as the open connections.
  std::erase_if(connections_, [](const std::weak_ptr<H2Connection>& c) { return c.expired(); });
  connections_.push_back(connection);
}

void OpenConnections::goAway() {
  goingAway_ = true;
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& weak : connections) {
    if (auto connection = weak.lock()) connection->shutdown();
  }
}

}  // namespace weft::hbone
