#include "analyze/analyzer.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace weft::analyze {

const std::vector<Analyzer>& allAnalyzers() {
  static const std::vector<Analyzer> analyzers = [] {
    std::vector<Analyzer> all;
    addVirtualServiceAnalyzers(all);
    addGatewayAnalyzers(all);
    addDestinationRuleAnalyzers(all);
    addServiceAnalyzers(all);
    addNamespaceAnalyzers(all);
    addAnnotationAnalyzers(all);
    addSecurityAnalyzers(all);
    addJwtClaimRouteAnalyzers(all);
    addAmbientAnalyzers(all);
    addRateLimitAnalyzers(all);
    return all;
  }();
  return analyzers;
}

// Runs the analyzers, then sorts and de-duplicates their messages.
std::vector<Message> runAnalyzers(std::vector<model::Object> objects, const AnalyzeOptions& options) {
  Context context(std::move(objects), options.istioNamespace);
  for (const auto& analyzer : allAnalyzers()) {
    if (options.onlyAnalyzer.empty() || analyzer.name == options.onlyAnalyzer) analyzer.run(context);
  }
  auto messages = context.takeMessages();
  std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
    return std::tie(a.origin, a.type->code) < std::tie(b.origin, b.type->code);
  });
  // Two analyzers may find the same thing (a gateway without workloads matters to both the
  // port and the secret analyzer); like istioctl, report it once.
  std::set<std::tuple<const MessageType*, std::string, std::string, std::string>> seen;
  std::vector<Message> unique;
  for (auto& m : messages) {
    if (seen.emplace(m.type, m.origin, m.location, m.text).second) unique.push_back(std::move(m));
  }
  return unique;
}

}  // namespace weft::analyze
