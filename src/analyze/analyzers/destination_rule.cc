// DestinationRules: TLS origination that never verifies the server (IST0128, IST0129),
// subsets that select no pod (IST0173) and hosts that name no service (IST0174).
#include <boost/json.hpp>

#include <algorithm>

#include "analyze/analyzer.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

const char* const kDestinationRule = "DestinationRule.networking.istio.io";

// --- IST0128, IST0129: no server certificate verification ---------------------------------

// SIMPLE and MUTUAL originate TLS; without a CA the server's certificate is never checked.
// A credentialName brings its CA from a Secret, but only proxies picked by a
// workloadSelector can read it; insecureSkipVerify says the user chose not to verify.
bool verifiesServer(const json::value& tls, bool hasWorkloadSelector) {
  if (!stringAt(tls, {"caCertificates"}).empty()) return true;
  if (at(tls, {"insecureSkipVerify"}) == json::value(true)) return true;
  return hasWorkloadSelector && !stringAt(tls, {"credentialName"}).empty();
}

bool originatesTls(const json::value& tls) {
  std::string mode = stringAt(tls, {"mode"});
  return mode == "SIMPLE" || mode == "MUTUAL";
}

void caCertificates(Context& ctx) {
  for (const auto* dr : ctx.ofKind(kDestinationRule)) {
    const auto& spec = dr->field("spec");
    std::string host = stringAt(spec, {"host"});
    bool selector = at(spec, {"workloadSelector"}).is_object();
    const auto& tls = at(spec, {"trafficPolicy", "tls"});
    if (originatesTls(tls) && !verifiesServer(tls, selector)) {
      ctx.report(makeMessage(msg::kNoServerCertificateVerificationDestinationLevel, *dr, "/spec/trafficPolicy/tls/mode",
                             fmt::format("DestinationRule {}/{} in namespace {} has TLS mode set to {} but no caCertificates are "
                                         "set to validate server identity for host: {}",
                                         dr->ns(), dr->name(), dr->ns(), stringAt(tls, {"mode"}), host)));
    }
    const auto& ports = at(spec, {"trafficPolicy", "portLevelSettings"});
    if (!ports.is_array()) continue;
    for (size_t i = 0; i < ports.get_array().size(); ++i) {
      const auto& setting = ports.get_array()[i];
      const auto& portTls = at(setting, {"tls"});
      if (!originatesTls(portTls) || verifiesServer(portTls, selector)) continue;
      ctx.report(makeMessage(msg::kNoServerCertificateVerificationPortLevel, *dr, fmt::format("/spec/trafficPolicy/portLevelSettings/{}/tls/mode", i),
                             fmt::format("DestinationRule {}/{} in namespace {} has TLS mode set to {} but no caCertificates are "
                                         "set to validate server identity for host: {} at port {}",
                                         dr->ns(), dr->name(), dr->ns(), stringAt(portTls, {"mode"}), host,
                                         json::serialize(at(setting, {"port", "number"})))));
    }
  }
}

// --- IST0173: subsets that select no pod --------------------------------------------------

// Only Kubernetes Services are judged: a ServiceEntry's endpoints are not pods we can see.
std::vector<const model::Object*> podsOfService(const Context& ctx, const model::Object& service) {
  const auto& selector = at(service.value(), {"spec", "selector"});
  if (!selector.is_object() || selector.get_object().empty()) return {};
  return ctx.podsMatching(service.ns(), selector.get_object());
}

void subsetsSelectPods(Context& ctx) {
  for (const auto* dr : ctx.ofKind(kDestinationRule)) {
    const auto& spec = dr->field("spec");
    const auto* service = ctx.serviceByFqdn(Context::fqdn(stringAt(spec, {"host"}), dr->ns()));
    const auto& subsets = at(spec, {"subsets"});
    if (service == nullptr || !subsets.is_array()) continue;
    auto pods = podsOfService(ctx, *service);
    for (size_t i = 0; i < subsets.get_array().size(); ++i) {
      const auto& subset = subsets.get_array()[i];
      const auto& labels = at(subset, {"labels"});
      static const json::object none;
      const auto& selector = labels.is_object() ? labels.get_object() : none;
      bool selects = std::any_of(pods.begin(), pods.end(), [&](const auto* pod) { return labelsMatch(pod->labels(), selector); });
      if (selects) continue;
      ctx.report(makeMessage(msg::kDestinationRuleSubsetNotSelectPods, *dr, fmt::format("/spec/subsets/{}", i),
                             fmt::format("The Subset {} defined in DestinationRule does not select any pods, which may lead to "
                                         "503 UH (NoHealthyUpstream).",
                                         stringAt(subset, {"name"}))));
    }
  }
}

// --- IST0174: hosts that match no service -------------------------------------------------

void unknownHosts(Context& ctx) {
  for (const auto* dr : ctx.ofKind(kDestinationRule)) {
    std::string host = stringAt(dr->value(), {"spec", "host"});
    if (host.empty() || host.find('*') != std::string::npos) continue;  // a wildcard may cover hosts added later
    if (ctx.hostKnown(Context::fqdn(host, dr->ns()))) continue;
    ctx.report(makeMessage(msg::kUnknownDestinationRuleHost, *dr, "/spec/host",
                           fmt::format("The host {} defined in the DestinationRule does not match any services in the mesh.", host)));
  }
}

}  // namespace

void addDestinationRuleAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"destinationrule.CaCertificateAnalyzer", caCertificates});
  out.push_back({"destinationrule.PodNotSelectedAnalyzer", subsetsSelectPods});
  out.push_back({"destinationrule.UnknownHostAnalyzer", unknownHosts});
}

}  // namespace weft::analyze
