#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(GatewayAnalyzers, IngressGatewayPorts) {
  std::vector<AnalyzerCase> cases{
      {"gateway ports", {"gateway_ports.yaml"}, "gateway.IngressGatewayPortAnalyzer",
       {"IST0162 Gateway default/ingress-badport", "IST0101 Gateway default/no-workload", "IST0162 Gateway edge/edge-targetport",
        "IST0162 Gateway edge/edge-udp", "IST0162 Gateway edge/edge-elsewhere", "IST0162 Gateway edge/edge-two-servers"}},
      {"gateway ports exposed", {"gateway_ports_ok.yaml"}, "gateway.IngressGatewayPortAnalyzer", {}},
      {"walkthrough gateway", {"walkthrough.yaml"}, "gateway.IngressGatewayPortAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(GatewayAnalyzers, ConflictingGateways) {
  std::vector<AnalyzerCase> cases{
      {"conflicting gateways", {"gateway_conflicts.yaml"}, "gateway.ConflictingGatewayAnalyzer",
       {"IST0145 Gateway istio-system/alpha", "IST0145 Gateway default/beta", "IST0145 Gateway edge/delta",
        "IST0145 Gateway edge/epsilon", "IST0145 Gateway edge/zeta", "IST0145 Gateway edge/eta"}},
      {"gateways apart", {"gateway_conflicts_none.yaml"}, "gateway.ConflictingGatewayAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(GatewayAnalyzers, Secrets) {
  std::vector<AnalyzerCase> cases{
      {"gateway secrets", {"gateway_secrets.yaml"}, "gateway.SecretAnalyzer",
       {"IST0101 Gateway default/missing-secret", "IST0101 Gateway default/wrong-namespace", "IST0101 Gateway default/no-workload",
        "IST0161 Gateway default/missing-key", "IST0161 Gateway default/garbled", "IST0161 Gateway default/expired",
        "IST0161 Gateway default/mutual-no-ca"}},
      {"gateway secrets valid", {"gateway_secrets_ok.yaml"}, "gateway.SecretAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(GatewayAnalyzers, CredentialProblemIsExplained) {
  // The fixture plus the harness's ingress gateway workload in istio-system.
  auto decoded = model::decodeYaml(*readFile(std::string(WEFT_ANALYZE_TESTDATA) + "/gateway_secrets.yaml"), "gateway_secrets.yaml", {});
  auto defaults = model::decodeYaml(testing::kIngressGatewayDefaults, "defaults.yaml", {});
  ASSERT_TRUE(decoded.ok() && defaults.ok());
  for (auto& o : defaults.objects) decoded.objects.push_back(std::move(o));
  std::vector<std::string> texts;
  for (const auto& m : runAnalyzers(std::move(decoded.objects), {.onlyAnalyzer = "gateway.SecretAnalyzer"})) {
    if (m.origin == "Gateway default/expired" || m.origin == "Gateway default/missing-secret") texts.push_back(m.text);
  }
  EXPECT_THAT(texts, ::testing::UnorderedElementsAre(
                         "The credential referenced by the Gateway expired in namespace default is invalid, which can cause the "
                         "traffic not to work as expected (Secret istio-system/expired-cert: the certificate expired on 2021-01-01).",
                         "Referenced credential not found: \"no-such-cert\""));
}

}  // namespace
}  // namespace weft::analyze
