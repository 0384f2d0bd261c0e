#pragma once
// The runtime's view of the store, kept current by watch events (an informer, in
// Kubernetes' terms). Its own writes go in at once, so the next reconcile never acts on
// a state older than what it just wrote; a late event carrying an older resourceVersion
// is ignored.

#include <map>
#include <vector>

#include "store/object_source.h"

namespace weft::store {

class ObjectCache {
 public:
  void apply(const WatchEvent& event);
  void put(const model::Object& object);
  void erase(const model::ObjectKey& key);

  // By qualified kind ("Pod", "Deployment"), sorted by namespace and name.
  std::vector<model::Object> list(const std::string& kind) const;
  const model::Object* get(const model::ObjectKey& key) const;

 private:
  std::map<model::ObjectKey, model::Object> objects_;
};

int64_t resourceVersionOf(const model::Object& object);

}  // namespace weft::store
