// The walkthrough's two installs, from its own files:
//   weft install -y -f samples/walkthrough/istio-operator.yaml --revision prod
//   weft install -y -f samples/walkthrough/global-ingress.yaml
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/file_io.h"
#include "install/install_plan.h"
#include "install/test_support.h"
#include "model/json_access.h"

namespace weft::install {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace testing;  // NOLINT: the helpers of this library's tests

std::vector<model::Object> walkthroughFile(const std::string& name) {
  auto text = readFile(std::string(WEFT_SAMPLES_DIR) + "/walkthrough/" + name);
  if (!text) {
    ADD_FAILURE() << text.error().message;
    return {};
  }
  return decode(*text, name);
}

std::string envOf(const model::Object& workload, std::string_view name) {
  for (const auto& entry :
       model::at(workload.value(), {"spec", "template", "spec", "containers"}).at(0).at("env").as_array()) {
    if (entry.at("name") == json::value(name) && entry.as_object().contains("value"))
      return std::string(entry.at("value").as_string());
  }
  return "<unset>";
}

TEST(Walkthrough, ControlPlaneWithRevisionProd) {
  auto p = plan(walkthroughFile("istio-operator.yaml"), {.revision = "prod"});
  EXPECT_EQ(p.profile, "minimal");
  EXPECT_EQ(p.revision, "prod");
  EXPECT_TRUE(p.controlPlane);
  EXPECT_TRUE(p.ztunnel);
  EXPECT_THAT(p.gateways, IsEmpty());
  EXPECT_THAT(p.componentNames(), ElementsAre("Istio core", "Istiod", "Ztunnel"));

  EXPECT_EQ(p.meshConfig.at("trustDomain"), json::value("acmellc.local"));
  EXPECT_EQ(model::at(json::value(p.meshConfig), {"outboundTrafficPolicy", "mode"}), json::value("REGISTRY_ONLY"));
  EXPECT_EQ(model::at(json::value(p.meshConfig), {"defaultConfig", "discoveryAddress"}),
            json::value("istiod-prod.istio-system.svc:15012"));

  EXPECT_THAT(objectNames(p),
              ElementsAre("ServiceAccount istio-system/istio-reader-service-account",
                          "ConfigMap istio-system/istio-prod", "ServiceAccount istio-system/istiod-prod",
                          "Service istio-system/istiod-prod", "Deployment istio-system/weftd-prod",
                          "ServiceAccount istio-system/ztunnel", "DaemonSet istio-system/ztunnel"));
  const auto& istiod = *findObject(p, "Deployment", "weftd-prod");
  EXPECT_EQ(istiod.label("istio.io/rev"), "prod");
  EXPECT_EQ(json::serialize(model::at(istiod.value(), {"spec", "template", "spec", "containers"}).at(0).at("args")),
            R"(["--revision","prod"])");
  const auto& ztunnel = *findObject(p, "DaemonSet", "ztunnel");
  EXPECT_EQ(ztunnel.label("istio.io/rev"), "prod");
  EXPECT_EQ(envOf(ztunnel, "XDS_ADDRESS"), "istiod-prod.istio-system.svc:15012");
  EXPECT_EQ(envOf(ztunnel, "REVISION"), "prod");
  EXPECT_EQ(installedState(p).name(), "installed-state-prod");
}

TEST(Walkthrough, GlobalIngressFollowsTheProdRevision) {
  for (const std::string& flag : {std::string(), std::string("prod")}) {
    auto p = plan(walkthroughFile("global-ingress.yaml"), {.revision = flag});
    EXPECT_EQ(p.profile, "empty");
    EXPECT_EQ(p.revision, "prod");
    EXPECT_FALSE(p.base || p.controlPlane || p.ztunnel);
    ASSERT_EQ(p.gateways.size(), 1u);
    const auto& gateway = p.gateways[0];
    EXPECT_EQ(gateway.name, "global-ingress");
    EXPECT_EQ(gateway.ns, "istio-system");
    EXPECT_TRUE(gateway.ingress);
    // Istio's chart defaults (app, istio) under the file's labels.
    EXPECT_EQ(json::serialize(gateway.labels),
              R"({"app":"istio-ingressgateway","istio":"ingressgateway","ingress":"global"})");
    EXPECT_THAT(p.componentNames(), ElementsAre("Ingress gateways"));
    EXPECT_THAT(objectNames(p),
                ElementsAre("ServiceAccount istio-system/global-ingress-service-account",
                            "Service istio-system/global-ingress", "Deployment istio-system/global-ingress"));

    const auto& service = *findObject(p, "Service", "global-ingress");
    EXPECT_EQ(model::at(service.value(), {"spec", "type"}), json::value("LoadBalancer"));
    EXPECT_EQ(json::serialize(model::at(service.value(), {"spec", "selector"})),
              R"({"app":"istio-ingressgateway","istio":"ingressgateway","ingress":"global"})");
    EXPECT_EQ(json::serialize(model::at(service.value(), {"spec", "ports"})),
              R"([{"name":"status-port","port":15021,"targetPort":15021,"protocol":"TCP"},)"
              R"({"name":"http2","port":80,"targetPort":8080,"protocol":"TCP"},)"
              R"({"name":"https","port":443,"targetPort":8443,"protocol":"TCP"}])");
    const auto& deployment = *findObject(p, "Deployment", "global-ingress");
    EXPECT_EQ(deployment.label("istio.io/rev"), "prod");
    EXPECT_EQ(deployment.label("ingress"), "global");
    EXPECT_EQ(model::at(deployment.value(), {"spec", "template", "metadata", "labels", "istio.io/rev"}),
              json::value("prod"));
    EXPECT_EQ(envOf(deployment, "XDS_ADDRESS"), "istiod-prod.istio-system.svc:15012");
  }
}

TEST(Walkthrough, GlobalIngressRefusesAnotherRevision) {
  EXPECT_EQ(planError(walkthroughFile("global-ingress.yaml"), {.revision = "canary"}),
            "--revision \"canary\" conflicts with spec.revision \"prod\" in global-ingress.yaml:8");
}

TEST(Walkthrough, BothFilesInOneInstall) {
  // One install of both: the later file's profile (empty) wins, as istioctl merges them, so
  // the control plane is left out and only the gateway is installed.
  std::vector<model::Object> both = walkthroughFile("istio-operator.yaml");
  for (auto& o : walkthroughFile("global-ingress.yaml")) both.push_back(o);
  auto p = plan(both);
  EXPECT_EQ(p.profile, "empty");
  EXPECT_EQ(p.revision, "prod");
  EXPECT_FALSE(p.controlPlane);
  EXPECT_EQ(p.meshConfig.at("trustDomain"), json::value("acmellc.local"));
  EXPECT_THAT(p.componentNames(), ElementsAre("Ingress gateways"));
}

}  // namespace
}  // namespace weft::install
