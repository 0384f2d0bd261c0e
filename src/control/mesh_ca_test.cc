#include "control/mesh_ca.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/base64.h"
#include "store/store_test_util.h"
#include "tls/x509_info.h"

namespace weft::control {
namespace {

class MeshCaTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto ns = store_->apply(store::testing::objectsFrom("apiVersion: v1\nkind: Namespace\nmetadata: {name: istio-system}\n"));
    ASSERT_TRUE(ns);
  }
  void putCacerts(const ca::CaFiles& files) {
    std::string yaml = "apiVersion: v1\nkind: Secret\nmetadata: {name: cacerts, namespace: istio-system}\ndata:\n";
    for (const auto& [name, contents] : files) yaml += fmt::format("  {}: {}\n", name, base64Encode(contents));
    ASSERT_TRUE(store_->apply(store::testing::objectsFrom(yaml)));
  }
};

TEST_F(MeshCaTest, WithoutCacertsASelfSignedRootIsMadeOnceAndKept) {
  auto first = loadMeshCa(*store_, "acmellc.local", systemClock());
  ASSERT_TRUE(first) << first.error().message;
  auto stored = store_->get({"Secret", "istio-system", "istio-ca-secret"});
  ASSERT_TRUE(stored && *stored);
  auto second = loadMeshCa(*store_, "acmellc.local", systemClock());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->rootPem(), first->rootPem()) << "one root for the life of the mesh";
}

TEST_F(MeshCaTest, PluginCacertsWins) {
  auto plugin = ca::makeSelfSignedCa("plugin.local", systemClock());
  ASSERT_TRUE(plugin);
  putCacerts(ca::toIstioFiles(*plugin));
  auto loaded = loadMeshCa(*store_, "acmellc.local", systemClock());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->rootPem(), plugin->rootPem());
  auto selfSigned = store_->get({"Secret", "istio-system", "istio-ca-secret"});
  EXPECT_FALSE(selfSigned && *selfSigned) << "no self-signed root is made when a plug-in CA exists";
}

TEST_F(MeshCaTest, MalformedCacertsIsAnErrorNotAFallback) {
  auto plugin = ca::makeSelfSignedCa("plugin.local", systemClock());
  auto files = ca::toIstioFiles(*plugin);
  files["ca-key.pem"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  putCacerts(files);
  auto loaded = loadMeshCa(*store_, "acmellc.local", systemClock());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("secret istio-system/cacerts"), std::string::npos) << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("ca-key.pem"), std::string::npos) << loaded.error().message;
}

}  // namespace
}  // namespace weft::control
