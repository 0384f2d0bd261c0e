#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(NamespaceAnalyzers, Injection) {
  std::vector<AnalyzerCase> cases{
      {"namespace enrolment", {"namespace_injection.yaml"}, "injection.Analyzer",
       {"IST0102 Namespace forgotten", "IST0102 Namespace deployed", "IST0123 Namespace both-labels",
        "IST0123 Namespace both-labels-idle"}},
      {"namespaces enrolled", {"namespace_injection_ok.yaml"}, "injection.Analyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(NamespaceAnalyzers, NotInjectedTextSuggestsAmbient) {
  auto decoded =
      model::decodeYaml(*readFile(std::string(WEFT_ANALYZE_TESTDATA) + "/namespace_injection.yaml"), "namespace_injection.yaml", {});
  ASSERT_TRUE(decoded.ok());
  std::vector<std::string> texts;
  for (const auto& m : runAnalyzers(std::move(decoded.objects), {.onlyAnalyzer = "injection.Analyzer"})) {
    if (m.origin == "Namespace forgotten") texts.push_back(m.format());
  }
  EXPECT_THAT(texts, ::testing::ElementsAre(
                         "Info [IST0102] (Namespace forgotten namespace_injection.yaml:5) The namespace is not enabled for Istio "
                         "injection. Run 'weft label namespace forgotten istio.io/dataplane-mode=ambient' to enroll it in the "
                         "mesh, or 'weft label namespace forgotten istio.io/dataplane-mode=none' to explicitly mark it as not "
                         "needing it."));
}

}  // namespace
}  // namespace weft::analyze
