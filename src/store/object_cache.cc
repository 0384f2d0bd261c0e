#include "store/object_cache.h"

#include <charconv>

#include "model/json_access.h"

namespace weft::store {

int64_t resourceVersionOf(const model::Object& object) {
  std::string text = model::stringAt(object.value(), {"metadata", "resourceVersion"});
  int64_t version = 0;
  std::from_chars(text.data(), text.data() + text.size(), version);
  return version;
}

void ObjectCache::apply(const WatchEvent& event) {
  auto key = event.object.key();
  auto found = objects_.find(key);
  if (event.type == EventType::kDeleted) {
    // A delete of an older incarnation must not remove a newer object of the same name.
    if (found == objects_.end()) return;
    bool sameObject = model::stringAt(found->second.value(), {"metadata", "uid"}) ==
                      model::stringAt(event.object.value(), {"metadata", "uid"});
    if (sameObject || resourceVersionOf(found->second) <= resourceVersionOf(event.object)) objects_.erase(found);
    return;
  }
  if (found != objects_.end() && resourceVersionOf(found->second) > resourceVersionOf(event.object)) return;
  put(event.object);
}

void ObjectCache::put(const model::Object& object) { objects_.insert_or_assign(object.key(), object); }

void ObjectCache::erase(const model::ObjectKey& key) { objects_.erase(key); }

std::vector<model::Object> ObjectCache::list(const std::string& kind) const {
  std::vector<model::Object> out;
  for (auto it = objects_.lower_bound(model::ObjectKey{kind, "", ""}); it != objects_.end() && it->first.kind == kind; ++it) {
    out.push_back(it->second);
  }
  return out;
}

const model::Object* ObjectCache::get(const model::ObjectKey& key) const {
  auto found = objects_.find(key);
  return found == objects_.end() ? nullptr : &found->second;
}

}  // namespace weft::store
