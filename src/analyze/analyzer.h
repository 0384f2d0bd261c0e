#pragma once
// The analyzer registry and runner. Each analyzer is a function over the Context that
// reports Messages; analyzers/*.cc hold them, one file per area, as Istio groups them.

#include <functional>
#include <string>
#include <vector>

#include "analyze/context.h"

namespace weft::analyze {

struct Analyzer {
  std::string name;  // Istio's name, e.g. "virtualservice.DestinationHostAnalyzer"
  std::function<void(Context&)> run;
};

const std::vector<Analyzer>& allAnalyzers();

struct AnalyzeOptions {
  std::string onlyAnalyzer;  // empty: all
  std::string istioNamespace = "istio-system";
};

// Runs the analyzers over `objects` and returns their messages sorted by origin, then code.
std::vector<Message> runAnalyzers(std::vector<model::Object> objects, const AnalyzeOptions& options = {});

// Registration, one function per area (analyzers/*.cc).
void addVirtualServiceAnalyzers(std::vector<Analyzer>& out);
void addVirtualServiceRuleAnalyzers(std::vector<Analyzer>& out);  // IST0109, IST0130, IST0131, IST0132
void addGatewayAnalyzers(std::vector<Analyzer>& out);
void addDestinationRuleAnalyzers(std::vector<Analyzer>& out);
void addServiceAnalyzers(std::vector<Analyzer>& out);
void addNamespaceAnalyzers(std::vector<Analyzer>& out);
void addAnnotationAnalyzers(std::vector<Analyzer>& out);
void addSecurityAnalyzers(std::vector<Analyzer>& out);
void addJwtClaimRouteAnalyzers(std::vector<Analyzer>& out);  // IST0149
void addAmbientAnalyzers(std::vector<Analyzer>& out);
void addRateLimitAnalyzers(std::vector<Analyzer>& out);  // WFT0001-WFT0003 (policy.weft.dev RateLimitPolicy)

}  // namespace weft::analyze
