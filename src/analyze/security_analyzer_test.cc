#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(SecurityAnalyzers, AuthorizationPolicies) {
  std::vector<AnalyzerCase> cases{
      {"authorization policies", {"authorizationpolicies.yaml"}, "auth.AuthorizationPoliciesAnalyzer",
       {"IST0127 AuthorizationPolicy httpbin/httpbin-v2", "IST0127 AuthorizationPolicy frontend/httpbin-elsewhere",
        "IST0127 AuthorizationPolicy istio-system/meshwide-ghost", "IST0127 AuthorizationPolicy frontend/allow-frontend",
        "IST0101 AuthorizationPolicy httpbin/bogus-namespaces", "IST0101 AuthorizationPolicy httpbin/bogus-namespaces",
        "IST0101 AuthorizationPolicy httpbin/bogus-namespaces"}},
      {"authorization policies valid", {"authorizationpolicies_ok.yaml"}, "auth.AuthorizationPoliciesAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

// One message per istiod Deployment without BLOCKED_CIDRS_IN_JWKS_URIS (another revision's
// setting it does not hide it), whatever the RequestAuthentications' rules are.
TEST(SecurityAnalyzers, JwksFetchesWithoutBlockedRanges) {
  std::vector<AnalyzerCase> cases{
      {"unrestricted", {"requestauthentication_jwks_unrestricted.yaml"}, "authn.BlockedCIDRsAnalyzer",
       {"IST0175 Deployment istio-system/istiod", "IST0175 Deployment istio-system/istiod-canary"}},
      {"blocked ranges set", {"requestauthentication_jwks_blocked.yaml"}, "authn.BlockedCIDRsAnalyzer", {}},
      // Files without the control plane's Deployment say nothing of its environment.
      {"no istiod among the files", {"requestauthentication_jwks_alone.yaml"}, "authn.BlockedCIDRsAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

}  // namespace
}  // namespace weft::analyze
