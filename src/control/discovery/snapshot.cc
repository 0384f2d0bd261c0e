#include "control/discovery/snapshot.h"

#include "control/discovery/resource_types.h"
#include "control/discovery/resource_version.h"

namespace weft::control::discovery {

Snapshot::Snapshot(uint64_t sequence, std::map<std::string, ResourceMap, std::less<>> types)
    : sequence_(sequence), version_(std::to_string(sequence)), types_(std::move(types)) {}

const ResourceMap* Snapshot::resources(std::string_view typeUrl) const {
  auto it = types_.find(typeUrl);
  return it == types_.end() ? nullptr : &it->second;
}

const weft::v1::Resource* Snapshot::find(std::string_view typeUrl, std::string_view name) const {
  const ResourceMap* map = resources(typeUrl);
  if (map == nullptr) return nullptr;
  auto it = map->find(name);
  return it == map->end() ? nullptr : &it->second;
}

size_t Snapshot::size() const {
  size_t total = 0;
  for (const auto& [type, map] : types_) total += map.size();
  return total;
}

Status SnapshotBuilder::add(weft::v1::Resource resource) {
  if (resource.name().empty()) return makeError("a resource must have a name");
  auto type = typeUrlOf(resource);
  if (!type) return type.error();
  resource.set_version(resourceVersion(resource));
  std::string name = resource.name();
  auto [it, inserted] = types_[*type].try_emplace(name, std::move(resource));
  if (!inserted) return makeError("{} \"{}\" is in the snapshot twice", *type, name);
  return {};
}

std::shared_ptr<const Snapshot> SnapshotBuilder::build(uint64_t sequence) && {
  // Not make_shared: the constructor is private to keep every snapshot built through here.
  return std::shared_ptr<const Snapshot>(new Snapshot(sequence, std::move(types_)));
}

}  // namespace weft::control::discovery
