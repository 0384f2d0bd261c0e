#include "store/local_store.h"

#include <boost/json.hpp>

#include <thread>

#include "base/file_io.h"
#include "store/store_test_util.h"

namespace weft::store {
namespace {

using testing::objectsFrom;
using testing::StoreTest;

constexpr const char* kConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n";

TEST_F(StoreTest, SeedsTheStandardNamespaces) {
  auto namespaces = store_->list("ns", "");
  ASSERT_TRUE(namespaces);
  std::vector<std::string> names;
  for (const auto& n : *namespaces) names.push_back(n.name());
  EXPECT_EQ(names, (std::vector<std::string>{"default", "kube-public", "kube-system"}));
}

TEST_F(StoreTest, CreateSetsSystemMetadata) {
  auto applied = store_->apply(objectsFrom(kConfigMap));
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_EQ(applied->size(), 1u);
  EXPECT_EQ((*applied)[0].outcome, ApplyOutcome::kCreated);
  const auto& meta = (*applied)[0].object.metadata();
  EXPECT_EQ(meta.at("uid").as_string().size(), 36u);
  EXPECT_EQ(meta.at("creationTimestamp"), boost::json::value("2026-11-27T00:00:00Z"));
  EXPECT_EQ(meta.at("generation"), boost::json::value(1));
  EXPECT_EQ(meta.at("resourceVersion"), boost::json::value(std::to_string(store_->currentResourceVersion())));
  auto file = readFile(root_ / "objects/configmaps.core/default/c.yaml");
  ASSERT_TRUE(file);
  EXPECT_NE(file->find("data:\n  k: v\n"), std::string::npos) << *file;
}

TEST_F(StoreTest, ReapplyIsUnchangedThenConfigured) {
  auto first = store_->apply(objectsFrom(kConfigMap));
  ASSERT_TRUE(first);
  int64_t version = store_->currentResourceVersion();
  auto again = store_->apply(objectsFrom(kConfigMap));
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0].outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(store_->currentResourceVersion(), version);

  auto labelled = store_->apply(objectsFrom("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {a: b}\ndata:\n  k: v\n"));
  ASSERT_TRUE(labelled);
  EXPECT_EQ((*labelled)[0].outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ((*labelled)[0].object.metadata().at("generation"), boost::json::value(1)) << "metadata changes keep generation";
  auto changed = store_->apply(objectsFrom("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: w\n"));
  ASSERT_TRUE(changed);
  EXPECT_EQ((*changed)[0].object.metadata().at("generation"), boost::json::value(2));
  EXPECT_EQ((*changed)[0].object.metadata().at("uid"), (*first)[0].object.metadata().at("uid"));
  EXPECT_GT(store_->currentResourceVersion(), version + 1);
}

TEST_F(StoreTest, StoresTheStorageVersion) {
  auto applied = store_->apply(objectsFrom(
      "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  selector: {istio: ingressgateway}\n"
      "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"));
  ASSERT_TRUE(applied && applied->size() == 1);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ((*applied)[0].object.apiVersion(), "networking.istio.io/v1");
}

TEST_F(StoreTest, AllOrNothingWhenANamespaceIsMissing) {
  std::string two = std::string(kConfigMap) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  namespace: nowhere\n";
  auto refused = store_->apply(objectsFrom(two));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "namespaces \"nowhere\" not found");
  EXPECT_TRUE(store_->list("cm", "")->empty()) << "the first object was not written either";
  // The same call may create the namespace first.
  auto withNs = store_->apply(objectsFrom("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: nowhere\n---\n" + two));
  ASSERT_TRUE(withNs) << withNs.error().message;
  EXPECT_EQ(store_->list("cm", "")->size(), 2u);
}

TEST_F(StoreTest, GetListRemove) {
  ASSERT_TRUE(store_->apply(objectsFrom(std::string(kConfigMap) + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n")));
  ASSERT_TRUE(store_->apply(objectsFrom(kConfigMap, "other")));
  EXPECT_EQ(store_->list("configmaps", "")->size(), 2u);
  EXPECT_EQ(store_->list("configmap", "other")->size(), 1u);
  auto got = store_->get({"ConfigMap", "other", "c"});
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->ns(), "other");
  EXPECT_FALSE(store_->get({"ConfigMap", "other", "nope"})->has_value());

  auto missing = store_->remove({{"ConfigMap", "default", "c"}, {"ConfigMap", "default", "nope"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "configmaps \"nope\" not found");
  EXPECT_EQ(store_->list("cm", "")->size(), 2u) << "nothing removed on refusal";

  auto removed = store_->remove({{"Namespace", "", "other"}});
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->size(), 2u) << "the namespace and its config map";
  EXPECT_EQ(store_->list("cm", "")->size(), 1u);
}

TEST_F(StoreTest, RefusesACorruptStoredObject) {
  ASSERT_TRUE(store_->apply(objectsFrom(kConfigMap)));
  ASSERT_TRUE(writeFileAtomically(root_ / "objects/configmaps.core/default/c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\nbogus: 1\n"));
  auto listed = store_->list("cm", "default");
  ASSERT_FALSE(listed);
  EXPECT_NE(listed.error().message.find("c.yaml:5:1: bogus: unknown field"), std::string::npos) << listed.error().message;
}

TEST_F(StoreTest, RefusesNamesThatWouldEscapeTheStore) {
  // A victim file outside the store that decodes as a valid object.
  auto victim = root_.parent_path() / fmt::format("weft-victim-{}", ::getpid());
  std::filesystem::create_directories(victim);
  ASSERT_TRUE(writeFileAtomically(victim / "v.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: v}\n"));
  std::string escape = "../../../" + victim.filename().string() + "/v";
  auto removed = store_->remove({{"Namespace", "", escape}});
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().message.rfind("invalid name: ", 0), 0u) << removed.error().message;
  EXPECT_FALSE(store_->get({"Namespace", "", escape}));
  EXPECT_FALSE(store_->get({"ConfigMap", "..", "c"}));
  EXPECT_FALSE(store_->list("cm", "../x"));
  EXPECT_TRUE(std::filesystem::exists(victim / "v.yaml"));
  std::filesystem::remove_all(victim);
}

TEST_F(StoreTest, TheLastCopyOfAnObjectInOneApplyWins) {
  std::string twice = std::string(kConfigMap) + "---\n" + kConfigMap;
  auto created = store_->apply(objectsFrom(twice));
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_EQ(created->size(), 1u);
  EXPECT_EQ((*created)[0].outcome, ApplyOutcome::kCreated);
  ASSERT_TRUE(store_->get({"ConfigMap", "default", "c"})->has_value());
  std::string updated = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: w\n";
  auto configured = store_->apply(objectsFrom(updated + "---\n" + updated));
  ASSERT_TRUE(configured);
  EXPECT_EQ((*configured)[0].outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ((*configured)[0].object.metadata().at("generation"), boost::json::value(2));
  EXPECT_EQ((*store_->get({"ConfigMap", "default", "c"}))->field("data").at("k"), boost::json::value("w"));
}

TEST_F(StoreTest, StoresTheLongestValidNames) {
  std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(name.size(), 253u);
  auto applied = store_->apply(objectsFrom("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"));
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_TRUE(store_->get({"ConfigMap", "default", name})->has_value());
}

TEST_F(StoreTest, UnprintableCharactersRoundTrip) {
  std::string text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  del: \"x\\x7fy\"\n  nel: \"a\\Nb\"\n  ls: \"m\\Ln\"\n";
  ASSERT_TRUE(store_->apply(objectsFrom(text)));
  auto listed = store_->list("cm", "default");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->front().field("data").at("del"), boost::json::value("x\x7fy"));
  auto again = store_->apply(objectsFrom(text));
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0].outcome, ApplyOutcome::kUnchanged);
}

TEST_F(StoreTest, CreateRefusesAnExistingObject) {
  auto first = store_->create(objectsFrom(kConfigMap).front());
  ASSERT_TRUE(first) << first.error().message;
  auto second = store_->create(objectsFrom(kConfigMap).front());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message, "configmaps \"c\" already exists");
}

TEST_F(StoreTest, UpdateValidatesTheEditAndRefusesMissingObjects) {
  ASSERT_TRUE(store_->apply(objectsFrom(kConfigMap)));
  auto bad = store_->update({"ConfigMap", "default", "c"}, [](boost::json::value& v) -> Status {
    v.as_object()["data"].as_object()["k"] = 5;
    return {};
  });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "<edit>: data[k]: must be a string, not integer 5");
  auto refused = store_->update({"ConfigMap", "default", "c"}, [](boost::json::value&) -> Status { return makeError("no"); });
  EXPECT_EQ(refused.error().message, "no");
  EXPECT_EQ(store_->update({"ConfigMap", "default", "x"}, [](boost::json::value&) { return Status{}; }).error().message,
            "configmaps \"x\" not found");
}

// Concurrent edits each hold the store's lock from read to write: none is lost. (Two
// threads with their own lock descriptors contend exactly as two processes do.)
TEST_F(StoreTest, ConcurrentUpdatesAreNotLost) {
  ASSERT_TRUE(store_->apply(objectsFrom(kConfigMap)));
  auto worker = [this](int id) {
    for (int i = 0; i < 20; ++i) {
      auto updated = store_->update({"ConfigMap", "default", "c"}, [&](boost::json::value& v) -> Status {
        v.as_object()["data"].as_object()[fmt::format("w{}-{}", id, i)] = "x";
        return {};
      });
      EXPECT_TRUE(updated) << updated.error().message;
    }
  };
  std::thread a(worker, 1), b(worker, 2);
  a.join();
  b.join();
  EXPECT_EQ((*store_->get({"ConfigMap", "default", "c"}))->field("data").as_object().size(), 41u);
}

}  // namespace
}  // namespace weft::store
