#include "store/object_cache.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace weft::store {
namespace {

model::Object pod(std::string name, std::string version, std::string uid = "u1") {
  return testing::objectsFrom(fmt::format("apiVersion: v1\nkind: Pod\nmetadata: {{name: {}, namespace: default, resourceVersion: \"{}\", "
                                     "uid: {}}}\nspec: {{containers: [{{name: c, image: x}}]}}\n",
                                     name, version, uid)).at(0);
}

TEST(ObjectCache, OlderEventsDoNotUndoNewerWrites) {
  ObjectCache cache;
  cache.put(pod("a", "5"));
  cache.apply({EventType::kModified, pod("a", "4"), 4});
  EXPECT_EQ(resourceVersionOf(*cache.get({"Pod", "default", "a"})), 5);
  cache.apply({EventType::kModified, pod("a", "6"), 6});
  EXPECT_EQ(resourceVersionOf(*cache.get({"Pod", "default", "a"})), 6);
}

TEST(ObjectCache, DeletesRemoveOnlyTheSameOrOlderObject) {
  ObjectCache cache;
  cache.put(pod("a", "9", "new-uid"));
  cache.apply({EventType::kDeleted, pod("a", "3", "old-uid"), 3});
  EXPECT_NE(cache.get({"Pod", "default", "a"}), nullptr) << "a recreated pod survives the old one's delete";
  cache.apply({EventType::kDeleted, pod("a", "9", "new-uid"), 9});
  EXPECT_EQ(cache.get({"Pod", "default", "a"}), nullptr);
}

TEST(ObjectCache, ListsByKind) {
  ObjectCache cache;
  cache.put(pod("b", "1"));
  cache.put(pod("a", "2"));
  auto pods = cache.list("Pod");
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(pods[0].name(), "a");
  EXPECT_TRUE(cache.list("Service").empty());
}

}  // namespace
}  // namespace weft::store
