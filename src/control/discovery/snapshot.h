#pragma once
// Snapshot: everything weftd serves at one instant, immutable once built, shared by every
// stream through shared_ptr<const Snapshot>. Streams diff what a client holds against it;
// nothing ever mutates it, so streams read it without locks.
//
// Invariants: every resource has a non-empty name and body, its `version` is
// resourceVersion() of its body, and it sits under the type URL of its body.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control::discovery {

// One type's resources by name. Ordered, so responses list resources in a stable order
// and a diff against a client's (also ordered) versions is a single merge walk.
using ResourceMap = std::map<std::string, weft::v1::Resource, std::less<>>;

class Snapshot {
 public:
  // A strictly increasing sequence, starting at 1; DiscoveryServer::publish refuses one
  // that does not grow, so `version()` orders snapshots for people reading logs too.
  uint64_t sequence() const { return sequence_; }
  const std::string& version() const { return version_; }

  // The resources of `typeUrl`, or null when the snapshot has none of that type.
  const ResourceMap* resources(std::string_view typeUrl) const;
  const weft::v1::Resource* find(std::string_view typeUrl, std::string_view name) const;
  size_t size() const;

 private:
  friend class SnapshotBuilder;
  Snapshot(uint64_t sequence, std::map<std::string, ResourceMap, std::less<>> types);

  uint64_t sequence_;
  std::string version_;
  std::map<std::string, ResourceMap, std::less<>> types_;
};

class SnapshotBuilder {
 public:
  // Adds `resource` under its body's type and sets its version. Refuses a resource without
  // a name or body, and a second resource of the same type and name.
  Status add(weft::v1::Resource resource);

  std::shared_ptr<const Snapshot> build(uint64_t sequence) &&;

 private:
  std::map<std::string, ResourceMap, std::less<>> types_;
};

}  // namespace weft::control::discovery
