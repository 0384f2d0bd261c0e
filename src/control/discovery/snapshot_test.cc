// Snapshots and resource versions: what makes "only what changed is sent" possible.

#include "control/discovery/snapshot.h"

#include <gtest/gtest.h>

#include "control/discovery/resource_types.h"
#include "control/discovery/resource_version.h"
#include "control/discovery/test_resources.h"

namespace weft::control::discovery {
namespace {

using testing::service;
using testing::workload;

TEST(ResourceTypes, TypeUrlIsTheBodysProtobufName) {
  EXPECT_EQ(*typeUrlOf(workload("a", "198.18.0.1")), kWorkloadType);
  EXPECT_EQ(*typeUrlOf(service("a", "198.19.0.1")), kServiceType);
  weft::v1::Resource mesh;
  mesh.mutable_mesh_config();
  EXPECT_EQ(*typeUrlOf(mesh), kMeshConfigType);
  weft::v1::Resource authorization;
  authorization.mutable_authorization();
  EXPECT_EQ(*typeUrlOf(authorization), kAuthorizationType);
  weft::v1::Resource empty;
  empty.set_name("x");
  EXPECT_EQ(typeUrlOf(empty).error().message, "resource \"x\" has no body");
}

TEST(ResourceVersion, EqualBodiesHaveEqualVersionsWhateverTheMapOrder) {
  auto a = workload("a", "198.18.0.1");
  auto b = workload("a", "198.18.0.1");
  // Insert map entries in opposite orders: deterministic serialization sorts them.
  (*a.mutable_workload()->mutable_labels())["x"] = "1";
  (*a.mutable_workload()->mutable_labels())["y"] = "2";
  (*b.mutable_workload()->mutable_labels())["y"] = "2";
  (*b.mutable_workload()->mutable_labels())["x"] = "1";
  EXPECT_EQ(resourceVersion(a), resourceVersion(b));
  EXPECT_EQ(resourceVersion(a).size(), 32u);
  b.set_version("ignored: the version is not part of what it hashes");
  EXPECT_EQ(resourceVersion(a), resourceVersion(b));
}

TEST(ResourceVersion, AnyChangeChangesTheVersion) {
  auto base = workload("a", "198.18.0.1");
  auto moved = workload("a", "198.18.0.2");
  auto unhealthy = workload("a", "198.18.0.1");
  unhealthy.mutable_workload()->set_healthy(false);
  EXPECT_NE(resourceVersion(base), resourceVersion(moved));
  EXPECT_NE(resourceVersion(base), resourceVersion(unhealthy));
}

TEST(Snapshot, HoldsResourcesByTypeAndNameWithVersionsSet) {
  SnapshotBuilder builder;
  ASSERT_TRUE(builder.add(workload("a", "198.18.0.1")));
  ASSERT_TRUE(builder.add(workload("b", "198.18.0.2")));
  ASSERT_TRUE(builder.add(service("httpbin", "198.19.0.1")));
  auto snapshot = std::move(builder).build(7);
  EXPECT_EQ(snapshot->sequence(), 7u);
  EXPECT_EQ(snapshot->version(), "7");
  EXPECT_EQ(snapshot->size(), 3u);
  ASSERT_NE(snapshot->resources(kWorkloadType), nullptr);
  EXPECT_EQ(snapshot->resources(kWorkloadType)->size(), 2u);
  EXPECT_EQ(snapshot->resources(kAuthorizationType), nullptr);
  const auto* a = snapshot->find(kWorkloadType, "default/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->version(), resourceVersion(workload("a", "198.18.0.1")));
  EXPECT_EQ(snapshot->find(kServiceType, "default/a"), nullptr);
}

TEST(Snapshot, UnchangedResourcesKeepTheirVersionAcrossSnapshots) {
  SnapshotBuilder first;
  ASSERT_TRUE(first.add(workload("a", "198.18.0.1")));
  ASSERT_TRUE(first.add(workload("b", "198.18.0.2")));
  SnapshotBuilder second;
  ASSERT_TRUE(second.add(workload("a", "198.18.0.1")));
  ASSERT_TRUE(second.add(workload("b", "198.18.0.3")));
  auto one = std::move(first).build(1);
  auto two = std::move(second).build(2);
  EXPECT_EQ(one->find(kWorkloadType, "default/a")->version(), two->find(kWorkloadType, "default/a")->version());
  EXPECT_NE(one->find(kWorkloadType, "default/b")->version(), two->find(kWorkloadType, "default/b")->version());
}

TEST(Snapshot, RefusesNamelessBodilessAndDuplicateResources) {
  SnapshotBuilder builder;
  auto nameless = workload("a", "198.18.0.1");
  nameless.clear_name();
  EXPECT_EQ(builder.add(nameless).error().message, "a resource must have a name");
  weft::v1::Resource bodiless;
  bodiless.set_name("x");
  EXPECT_FALSE(builder.add(bodiless));
  ASSERT_TRUE(builder.add(workload("a", "198.18.0.1")));
  EXPECT_EQ(builder.add(workload("a", "198.18.0.9")).error().message,
            "weft.v1.Workload \"default/a\" is in the snapshot twice");
  // The same name under another type is another resource.
  weft::v1::Resource sameName = service("x", "198.19.0.1");
  sameName.set_name("default/a");
  EXPECT_TRUE(builder.add(sameName));
}

}  // namespace
}  // namespace weft::control::discovery
