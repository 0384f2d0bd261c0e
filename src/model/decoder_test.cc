#include "model/decoder.h"

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/file_io.h"

namespace weft::model {
namespace {

using ::testing::ElementsAre;

std::string walkthroughFile(const char* name) {
  return *readFile(std::string(WEFT_MODEL_TESTDATA) + "/../../../samples/walkthrough/" + name);
}

TEST(Decoder, DecodesTheWalkthroughFiles) {
  for (const char* file : {"httpbin.yaml", "istio-gateway.yaml", "virtual-service.yaml", "istio-operator.yaml", "global-ingress.yaml"}) {
    auto result = decodeYaml(walkthroughFile(file), file, {});
    EXPECT_TRUE(result.ok()) << file << ": " << (result.errors.empty() ? "" : result.errors.front());
  }
  auto httpbin = decodeYaml(walkthroughFile("httpbin.yaml"), "httpbin.yaml", {});
  ASSERT_EQ(httpbin.objects.size(), 3u);
  EXPECT_EQ(httpbin.objects[0].kind(), "ServiceAccount");
  EXPECT_EQ(httpbin.objects[1].friendlyName(), "Service default/httpbin");
  EXPECT_EQ(httpbin.objects[2].kind(), "Deployment");
  EXPECT_EQ(httpbin.objects[2].sourceLocation(), "httpbin.yaml:22");
}

TEST(Decoder, NamespaceDefaultingAndConflicts) {
  std::string vs =
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: a\n  namespace: prod\nspec:\n  hosts: [a]\n"
      "  http:\n  - route:\n    - destination: {host: a}\n";
  std::string bare = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
  EXPECT_EQ(decodeYaml(bare, "c.yaml", {}).objects.at(0).ns(), "default");
  EXPECT_EQ(decodeYaml(bare, "c.yaml", {.ns = "istio-system", .nsExplicit = true}).objects.at(0).ns(), "istio-system");
  EXPECT_EQ(decodeYaml(vs, "vs.yaml", {.ns = "prod", .nsExplicit = true}).objects.size(), 1u);
  EXPECT_THAT(decodeYaml(vs, "vs.yaml", {.ns = "dev", .nsExplicit = true}).errors,
              ElementsAre("vs.yaml:5:14: metadata.namespace: the namespace from the provided object \"prod\" does not match the namespace \"dev\""));
  auto ns = decodeYaml("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n", "ns.yaml", {.ns = "y", .nsExplicit = true});
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns.objects[0].ns(), "") << "cluster-scoped kinds have no namespace";
}

TEST(Decoder, ReportsEveryErrorOfEveryDocument) {
  std::string text =
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\nspec:\n  ports:\n  - port: 0\n---\n"
      "apiVersion: v9\nkind: Service\nmetadata:\n  name: s\n---\n"
      "kind: Pod\nmetadata:\n  name: p\n---\n"
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels: {app: a}\n"
      "  template:\n    metadata:\n      labels: {app: b}\n    spec:\n      containers: [{name: c, image: x}]\n";
  auto result = decodeYaml(text, "many.yaml", {});
  EXPECT_TRUE(result.objects.empty());
  EXPECT_THAT(result.errors,
              ElementsAre("many.yaml:4:9: metadata.name: \"Bad_Name\" must consist of lower case alphanumeric characters or '-'",
                          "many.yaml:7:11: spec.ports[0].port: must be between 1 and 65535",
                          "many.yaml:10:7: kind: no matches for kind \"Service\" in version \"v9\"",
                          "many.yaml:14:1: apiVersion: required value is missing",
                          "many.yaml:27:15: spec.template.metadata.labels: `selector` does not match template `labels`"));
}

TEST(Decoder, RefusesNonObjectsAndMissingNames) {
  EXPECT_THAT(decodeYaml("- a\n- b\n", "l.yaml", {}).errors,
              ElementsAre("l.yaml:1:1: a document must be a mapping with apiVersion, kind and metadata"));
  EXPECT_THAT(decodeYaml("apiVersion: v1\nkind: Secret\nmetadata:\n  labels: {a: b}\n", "s.yaml", {}).errors,
              ElementsAre("s.yaml:4:3: metadata.name: required value is missing"));
  EXPECT_THAT(decodeYaml("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: \"not base64!\"\n", "s.yaml", {}).errors,
              ElementsAre("s.yaml:6:6: data[k]: illegal base64 data at input byte 3"));
}

}  // namespace
}  // namespace weft::model
