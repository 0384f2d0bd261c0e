#pragma once
// Analyzer tests in the form Istio's analyzers_test.go uses: input files, one analyzer,
// and the exact multiset of (code, origin) pairs expected; nothing else may be reported.
// Like Istio's harness it adds an ingress gateway Service and Pod (istio=ingressgateway,
// ports 80, 443, 31400, 15443) to istio-system, and files without a namespace take
// "default", as `istioctl analyze` gives them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analyze/analyzer.h"
#include "base/file_io.h"
#include "model/decoder.h"

namespace weft::analyze::testing {

struct AnalyzerCase {
  std::string name;
  std::vector<std::string> inputFiles;  // under src/analyze/testdata
  std::string analyzer;
  std::vector<std::string> expected;  // "IST0101 VirtualService default/reviews-bogushost"
};

inline constexpr const char* kIngressGatewayDefaults = R"(
apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  ports:
  - name: http2
    port: 80
    targetPort: 8080
  - name: https
    port: 443
    targetPort: 8443
  - name: tcp
    port: 31400
  - name: tls
    port: 15443
---
apiVersion: v1
kind: Pod
metadata:
  name: istio-ingressgateway-dummypod
  namespace: istio-system
  labels:
    istio: ingressgateway
spec:
  containers:
  - name: istio-proxy
    image: proxyv2
    ports:
    - containerPort: 8080
    - containerPort: 8443
    - containerPort: 31400
    - containerPort: 15443
)";

inline std::vector<std::string> runCase(const AnalyzerCase& c) {
  std::vector<model::Object> objects;
  auto load = [&](std::string_view text, const std::string& name) {
    auto decoded = model::decodeYaml(text, name, {});
    for (const auto& e : decoded.errors) ADD_FAILURE() << c.name << ": " << e;
    for (auto& o : decoded.objects) objects.push_back(std::move(o));
  };
  bool hasIstioSystem = false;
  for (const auto& file : c.inputFiles) {
    auto text = readFile(std::string(WEFT_ANALYZE_TESTDATA) + "/" + file);
    if (!text) {
      ADD_FAILURE() << text.error().message;
      continue;
    }
    hasIstioSystem = hasIstioSystem || text->find("name: istio-system\n") != std::string::npos;
    load(*text, file);
  }
  std::string defaults = kIngressGatewayDefaults;
  if (hasIstioSystem) defaults = defaults.substr(defaults.find("---") + 3);  // the case brings its own namespace
  load(defaults, "defaults.yaml");
  std::vector<std::string> got;
  for (const auto& m : runAnalyzers(std::move(objects), {.onlyAnalyzer = c.analyzer})) {
    got.push_back(fmt::format("{} {}", m.type->code, m.origin));
  }
  return got;
}

inline void expectCase(const AnalyzerCase& c) {
  bool known = false;
  for (const auto& a : allAnalyzers()) known = known || a.name == c.analyzer;
  ASSERT_TRUE(known) << c.name << ": no analyzer named " << c.analyzer;
  EXPECT_THAT(runCase(c), ::testing::UnorderedElementsAreArray(c.expected)) << c.name;
}

}  // namespace weft::analyze::testing
