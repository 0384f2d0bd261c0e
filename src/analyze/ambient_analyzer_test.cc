#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(AmbientAnalyzers, Waypoints) {
  std::vector<AnalyzerCase> cases{
      {"missing waypoints", {"ambient_waypoints.yaml"}, "ambient.WaypointAnalyzer",
       {"IST0101 Namespace orders", "IST0101 Service orders/payments", "IST0101 Pod shared/reports-1"}},
      {"waypoints present", {"ambient_waypoints_ok.yaml"}, "ambient.WaypointAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(AmbientAnalyzers, IneffectivePolicies) {
  std::vector<AnalyzerCase> cases{
      {"l7 policies on ztunnel", {"ambient_policies.yaml"}, "ambient.IneffectivePolicyAnalyzer",
       {"IST0167 AuthorizationPolicy shop/get-only", "IST0167 AuthorizationPolicy shop/jwt-required"}},
      {"no ambient namespaces", {"authorizationpolicies_ok.yaml"}, "ambient.IneffectivePolicyAnalyzer", {}},
      {"waypoint bindings only", {"ambient_waypoints_ok.yaml"}, "ambient.IneffectivePolicyAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

}  // namespace
}  // namespace weft::analyze
