#include "store/store_watch.h"

#include <boost/json.hpp>

#include "store/store_test_util.h"

namespace weft::store {
namespace {

using testing::objectsFrom;
using testing::StoreTest;
using namespace std::chrono_literals;

// Collects events until `count` arrived or two seconds passed (a bound, not a timing claim).
std::vector<WatchEvent> collect(Watch& watch, size_t count) {
  std::vector<WatchEvent> all;
  for (int i = 0; i < 40 && all.size() < count; ++i) {
    auto events = watch.next(50ms);
    EXPECT_TRUE(events) << events.error().message;
    for (auto& e : *events) all.push_back(std::move(e));
  }
  return all;
}

std::vector<std::string> describe(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(fmt::format("{} {}", eventTypeName(e.type), e.object.friendlyName()));
  return out;
}

TEST_F(StoreTest, WatchListsThenFollowsChanges) {
  auto watch = store_->watch();
  ASSERT_TRUE(watch) << watch.error().message;
  EXPECT_EQ(describe(collect(**watch, 3)),
            (std::vector<std::string>{"ADDED Namespace default", "ADDED Namespace kube-public", "ADDED Namespace kube-system"}));

  // A kind the store has never held: its directory appears with the file already in it.
  ASSERT_TRUE(store_->apply(objectsFrom("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {k: v}\n")));
  auto added = collect(**watch, 1);
  ASSERT_EQ(describe(added), std::vector<std::string>{"ADDED ConfigMap default/c"});
  EXPECT_EQ(added[0].resourceVersion, store_->currentResourceVersion());

  ASSERT_TRUE(store_->apply(objectsFrom("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {k: w}\n")));
  EXPECT_EQ(describe(collect(**watch, 1)), std::vector<std::string>{"MODIFIED ConfigMap default/c"});

  ASSERT_TRUE(store_->apply(objectsFrom("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {k: w}\n")));
  EXPECT_TRUE(collect(**watch, 1).empty()) << "an unchanged apply writes nothing and reports nothing";

  ASSERT_TRUE(store_->remove({{"ConfigMap", "default", "c"}}));
  auto deleted = collect(**watch, 1);
  ASSERT_EQ(describe(deleted), std::vector<std::string>{"DELETED ConfigMap default/c"});
  EXPECT_EQ(deleted[0].object.field("data").at("k"), boost::json::value("w")) << "the last state seen";
}

}  // namespace
}  // namespace weft::store
