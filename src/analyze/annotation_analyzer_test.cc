#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(AnnotationAnalyzers, UnknownAnnotations) {
  std::vector<AnalyzerCase> cases{
      {"unknown annotations", {"annotations_unknown.yaml"}, "annotations.K8sAnalyzer",
       {"IST0108 Service default/httpbin", "IST0108 Pod default/httpbin-1", "IST0108 Pod default/httpbin-1",
        "IST0108 Deployment default/fortio", "IST0108 Namespace staging"}},
      {"known annotations", {"annotations_known.yaml"}, "annotations.K8sAnalyzer", {}},
      {"walkthrough annotations", {"walkthrough.yaml"}, "annotations.K8sAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

}  // namespace
}  // namespace weft::analyze
