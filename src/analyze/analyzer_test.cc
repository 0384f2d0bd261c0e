#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

// The walkthrough's objects at its step 13: httpbin in default, my-gateway in
// istio-system, the traffic-rules VirtualService naming a host and subset that do not
// exist. Exactly two errors.
TEST(Analyzers, WalkthroughStep13) {
  std::vector<AnalyzerCase> cases{
      {"walkthrough host", {"walkthrough.yaml"}, "virtualservice.DestinationHostAnalyzer",
       {"IST0101 VirtualService istio-system/traffic-rules"}},
      {"walkthrough subset", {"walkthrough.yaml"}, "virtualservice.DestinationRuleAnalyzer",
       {"IST0101 VirtualService istio-system/traffic-rules"}},
      {"walkthrough gateway", {"walkthrough.yaml"}, "virtualservice.GatewayAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(Analyzers, VirtualServiceReferences) {
  std::vector<AnalyzerCase> cases{
      {"destination hosts", {"virtualservice_destinationhosts.yaml"}, "virtualservice.DestinationHostAnalyzer",
       {"IST0101 VirtualService default/reviews-bogushost", "IST0101 VirtualService default/reviews-bogushost",
        "IST0101 VirtualService default/reviews-mirror-bogushost", "IST0101 VirtualService default/reviews-bogusport",
        "IST0112 VirtualService default/reviews-2port-missing"}},
      {"destination subsets", {"virtualservice_destinationrules.yaml"}, "virtualservice.DestinationRuleAnalyzer",
       {"IST0101 VirtualService default/reviews-bogussubset", "IST0101 VirtualService default/reviews-mirror-bogussubset"}},
      {"gateway references", {"virtualservice_gateways.yaml"}, "virtualservice.GatewayAnalyzer",
       {"IST0101 VirtualService default/httpbin-bogus"}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(Analyzers, MessagesCarryTextAndLocation) {
  // The walkthrough's step 13 also has the ingress gateway of step 10 running.
  std::string text = *readFile(std::string(WEFT_ANALYZE_TESTDATA) + "/walkthrough.yaml");
  std::string ingress = testing::kIngressGatewayDefaults;
  auto decoded = model::decodeYaml(text, "walkthrough.yaml", {});
  auto defaults = model::decodeYaml(ingress.substr(ingress.find("---") + 3), "defaults.yaml", {});
  ASSERT_TRUE(decoded.ok() && defaults.ok());
  for (auto& o : defaults.objects) decoded.objects.push_back(std::move(o));
  auto messages = runAnalyzers(std::move(decoded.objects));
  std::vector<std::string> errors;
  for (const auto& m : messages) {
    if (m.type->level == Level::kError) errors.push_back(m.format());
  }
  EXPECT_THAT(errors, ::testing::ElementsAre(
                          "Error [IST0101] (VirtualService istio-system/traffic-rules walkthrough.yaml:75) Referenced host not found: \"my-service\"",
                          "Error [IST0101] (VirtualService istio-system/traffic-rules walkthrough.yaml:76) Referenced host+subset in destinationrule not found: \"my-service+v1\""));
}

}  // namespace
}  // namespace weft::analyze
