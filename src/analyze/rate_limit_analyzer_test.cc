#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(RateLimitAnalyzers, Targets) {
  std::vector<AnalyzerCase> cases{
      {"targets", {"ratelimitpolicy_targets.yaml"}, "policy.RateLimitTargetAnalyzer",
       {"WFT0001 RateLimitPolicy istio-system/missing", "WFT0001 RateLimitPolicy istio-system/missing",
        "WFT0001 RateLimitPolicy istio-system/missing", "WFT0002 RateLimitPolicy istio-system/gateway-api",
        "WFT0001 RateLimitPolicy default/other-namespace"}},
      {"redis file has only present targets", {"ratelimitpolicy_redis.yaml"}, "policy.RateLimitTargetAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(RateLimitAnalyzers, RedisAddresses) {
  std::vector<AnalyzerCase> cases{
      {"redis", {"ratelimitpolicy_redis.yaml"}, "policy.RateLimitRedisAnalyzer",
       {"WFT0003 RateLimitPolicy istio-system/no-such-service", "WFT0003 RateLimitPolicy istio-system/wrong-port"}},
      {"no global policies", {"ratelimitpolicy_targets.yaml"}, "policy.RateLimitRedisAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(RateLimitAnalyzers, MessagesNameTheFieldAndWeftsDocs) {
  std::vector<model::Object> objects;
  auto decoded = model::decodeYaml(*readFile(std::string(WEFT_ANALYZE_TESTDATA) + "/ratelimitpolicy_targets.yaml"),
                                   "ratelimitpolicy_targets.yaml", {});
  for (auto& o : decoded.objects) objects.push_back(std::move(o));
  auto messages = runAnalyzers(std::move(objects), {.onlyAnalyzer = "policy.RateLimitTargetAnalyzer"});
  ASSERT_FALSE(messages.empty());
  const Message* missing = nullptr;
  for (const auto& m : messages) {
    if (m.text.find("no-such-gateway") != std::string::npos) missing = &m;
  }
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->format(),
            "Error [WFT0001] (RateLimitPolicy istio-system/missing ratelimitpolicy_targets.yaml:31) Referenced "
            "networking.istio.io/Gateway not found: \"istio-system/no-such-gateway\"");
  EXPECT_EQ(documentationUrl(*missing->type), "docs/analysis.md#wft0001");
}

}  // namespace
}  // namespace weft::analyze
