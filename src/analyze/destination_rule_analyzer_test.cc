#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(DestinationRuleAnalyzers, CaCertificates) {
  std::vector<AnalyzerCase> cases{
      {"tls without ca", {"destinationrule_tls_unverified.yaml"}, "destinationrule.CaCertificateAnalyzer",
       {"IST0128 DestinationRule default/db-simple", "IST0128 DestinationRule default/db-mutual",
        "IST0129 DestinationRule default/db-port", "IST0128 DestinationRule default/db-credential",
        "IST0128 DestinationRule data/db-compound", "IST0129 DestinationRule data/db-compound"}},
      {"tls verified", {"destinationrule_tls_verified.yaml"}, "destinationrule.CaCertificateAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(DestinationRuleAnalyzers, SubsetsSelectPods) {
  std::vector<AnalyzerCase> cases{
      {"subsets without pods", {"destinationrule_subsets.yaml"}, "destinationrule.PodNotSelectedAnalyzer",
       {"IST0173 DestinationRule default/reviews", "IST0173 DestinationRule default/reviews-stable"}},
      {"subsets with pods", {"destinationrule_subsets_ok.yaml"}, "destinationrule.PodNotSelectedAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(DestinationRuleAnalyzers, UnknownHosts) {
  std::vector<AnalyzerCase> cases{
      {"unknown hosts", {"destinationrule_hosts.yaml"}, "destinationrule.UnknownHostAnalyzer",
       {"IST0174 DestinationRule default/fake-host", "IST0174 DestinationRule other/reviews-wrong-namespace"}},
      {"known hosts", {"destinationrule_subsets_ok.yaml"}, "destinationrule.UnknownHostAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

}  // namespace
}  // namespace weft::analyze
