#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(VirtualServiceRuleAnalyzers, ConflictingMeshGatewayHosts) {
  std::vector<AnalyzerCase> cases{
      {"mesh host conflicts", {"virtualservice_mesh_host_conflicts.yaml"}, "virtualservice.ConflictingMeshGatewayHostsAnalyzer",
       {"IST0109 VirtualService shop/cart", "IST0109 VirtualService shop/cart-canary", "IST0109 VirtualService shop/payments",
        "IST0109 VirtualService billing/payments", "IST0109 VirtualService audit/payments-wild",
        "IST0109 VirtualService edge/catalog-all", "IST0109 VirtualService store/catalog-local"}},
      {"mesh hosts distinct", {"virtualservice_mesh_host_distinct.yaml"}, "virtualservice.ConflictingMeshGatewayHostsAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(VirtualServiceRuleAnalyzers, GatewayHosts) {
  std::vector<AnalyzerCase> cases{
      {"hosts not on gateway", {"virtualservice_gateway_hosts.yaml"}, "virtualservice.GatewayHostAnalyzer",
       {"IST0132 VirtualService default/shop-typo", "IST0132 VirtualService default/apps-outside-wildcard",
        "IST0132 VirtualService default/split-one-missing", "IST0132 VirtualService default/internal",
        "IST0132 VirtualService team-b/team"}},
      {"walkthrough host on gateway", {"walkthrough.yaml"}, "virtualservice.GatewayHostAnalyzer", {}},
      {"gateway references", {"virtualservice_gateways.yaml"}, "virtualservice.GatewayHostAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(VirtualServiceRuleAnalyzers, Matches) {
  std::vector<AnalyzerCase> cases{
      {"unreachable rules", {"virtualservice_dupmatches_rules.yaml"}, "virtualservice.MatchesAnalyzer",
       {"IST0130 VirtualService shop/two-catch-alls", "IST0130 VirtualService default/catch-all-first",
        "IST0130 VirtualService default/duplicate-rule", "IST0131 VirtualService default/duplicate-rule",
        "IST0131 VirtualService default/partly-duplicate", "IST0131 VirtualService default/same-rule-repeat",
        "IST0131 VirtualService default/shadowed-prefix", "IST0130 VirtualService default/duplicate-tcp",
        "IST0131 VirtualService default/duplicate-tcp", "IST0130 VirtualService default/tcp-two-catch-alls",
        "IST0131 VirtualService egress/duplicate-tls"}},
      {"reachable rules", {"virtualservice_rules_reachable.yaml"}, "virtualservice.MatchesAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

std::vector<std::string> textsOf(const std::string& file, const std::string& analyzer, const std::string& origin) {
  auto decoded = model::decodeYaml(*readFile(std::string(WEFT_ANALYZE_TESTDATA) + "/" + file), file, {});
  EXPECT_TRUE(decoded.ok());
  std::vector<std::string> out;
  for (const auto& m : runAnalyzers(std::move(decoded.objects), {.onlyAnalyzer = analyzer})) {
    if (m.origin == origin) out.push_back(m.text);
  }
  return out;
}

TEST(VirtualServiceRuleAnalyzers, MessageTexts) {
  EXPECT_THAT(textsOf("virtualservice_mesh_host_conflicts.yaml", "virtualservice.ConflictingMeshGatewayHostsAnalyzer",
                      "VirtualService billing/payments"),
              ::testing::ElementsAre("The VirtualServices billing/payments,shop/payments,audit/payments-wild associated with mesh "
                                     "gateway define the same host payments.shop.svc.cluster.local,ledger.example.org which can "
                                     "lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices "
                                     "into a single resource."));
  EXPECT_THAT(textsOf("virtualservice_dupmatches_rules.yaml", "virtualservice.MatchesAnalyzer", "VirtualService default/duplicate-rule"),
              ::testing::UnorderedElementsAre(
                  "VirtualService rule \"v1 to green\" not used (all matches used by prior rules).",
                  "VirtualService rule \"v1 to green\" match #0 is not used (duplicate/overlapping match in rule \"v1 to blue\")."));
  EXPECT_THAT(textsOf("virtualservice_gateway_hosts.yaml", "virtualservice.GatewayHostAnalyzer",
                      "VirtualService default/apps-outside-wildcard"),
              ::testing::ElementsAre("one or more host [billing.example.com billing.apps.example.org] defined in VirtualService "
                                     "default/apps-outside-wildcard not found in Gateway istio-system/wildcard-gateway."));
}

TEST(VirtualServiceRuleAnalyzers, JwtClaimRoutesNeedRequestAuthentication) {
  std::vector<AnalyzerCase> cases{
      {"claim routes without authentication", {"virtualservice_jwtclaimroute.yaml"}, "virtualservice.JWTClaimRouteAnalyzer",
       {"IST0149 VirtualService default/foo", "IST0149 VirtualService default/foo"}},
      {"claim routes with authentication", {"virtualservice_jwtclaimroute_ok.yaml"}, "virtualservice.JWTClaimRouteAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

}  // namespace
}  // namespace weft::analyze
