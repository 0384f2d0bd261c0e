// Annotations in Istio's domains (*.istio.io) that Istio does not define (IST0108): usually a
// typo that silently leaves a setting at its default.
#include <boost/json.hpp>

#include <set>

#include "analyze/analyzer.h"
#include "model/document.h"
#include "model/kinds.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

// Istio's annotation catalogue (istio/api annotation/annotations.yaml), plus retired names
// that older installations still write; those are known, merely deprecated.
const std::set<std::string, std::less<>>& knownAnnotations() {
  static const std::set<std::string, std::less<>> known{
      // sidecar injection and the proxy container
      "sidecar.istio.io/inject", "sidecar.istio.io/status", "sidecar.istio.io/rewriteAppHTTPProbers",
      "sidecar.istio.io/discoveryAddress", "sidecar.istio.io/proxyImage", "sidecar.istio.io/proxyImageType",
      "sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyCPULimit", "sidecar.istio.io/proxyMemory",
      "sidecar.istio.io/proxyMemoryLimit", "sidecar.istio.io/interceptionMode", "sidecar.istio.io/bootstrapOverride",
      "sidecar.istio.io/statsInclusionPrefixes", "sidecar.istio.io/statsInclusionSuffixes",
      "sidecar.istio.io/statsInclusionRegexps", "sidecar.istio.io/statsHistogramBuckets", "sidecar.istio.io/statsFlushInterval",
      "sidecar.istio.io/statsEvictionInterval", "sidecar.istio.io/statsHistogramBins", "sidecar.istio.io/statsCompression",
      "sidecar.istio.io/userVolume", "sidecar.istio.io/userVolumeMount", "sidecar.istio.io/logLevel",
      "sidecar.istio.io/componentLogLevel", "sidecar.istio.io/agentLogLevel", "sidecar.istio.io/nativeSidecar",
      "sidecar.istio.io/extraStatTags", "sidecar.istio.io/controlPlaneAuthPolicy", "sidecar.istio.io/enableCoreDump",
      "status.sidecar.istio.io/port", "readiness.status.sidecar.istio.io/initialDelaySeconds",
      "readiness.status.sidecar.istio.io/periodSeconds", "readiness.status.sidecar.istio.io/failureThreshold",
      "readiness.status.sidecar.istio.io/applicationPorts", "inject.istio.io/templates", "proxy.istio.io/config",
      "proxy.istio.io/overrides",
      // traffic capture
      "traffic.istio.io/nodeSelector", "traffic.sidecar.istio.io/includeOutboundIPRanges",
      "traffic.sidecar.istio.io/excludeOutboundIPRanges", "traffic.sidecar.istio.io/includeInboundPorts",
      "traffic.sidecar.istio.io/excludeInboundPorts", "traffic.sidecar.istio.io/excludeInterfaces",
      "traffic.sidecar.istio.io/includeOutboundPorts", "traffic.sidecar.istio.io/excludeOutboundPorts",
      "traffic.sidecar.istio.io/kubevirtInterfaces", "istio.io/reroute-virtual-interfaces",
      // ambient
      "ambient.istio.io/redirection", "ambient.istio.io/waypoint-inbound-binding", "ambient.istio.io/bypass-inbound-capture",
      "ambient.istio.io/dns-capture", "istio.io/use-waypoint-canary-weight",
      // networking and gateways
      "networking.istio.io/exportTo", "networking.istio.io/service-type", "networking.istio.io/traffic-distribution",
      "gateway.istio.io/controller-version", "gateway.istio.io/service-account", "gateway.istio.io/name-override",
      "topology.istio.io/controlPlaneClusters",
      // control plane, telemetry, tooling
      "prometheus.istio.io/merge-metrics", "istio.io/dry-run", "istio.io/rev", "galley.istio.io/analyze-suppress",
      "istio.io/autoRegistrationGroup", "istio.io/workloadController", "istio.io/connectedAt", "istio.io/disconnectedAt",
      "alpha.istio.io/kubernetes-serviceaccounts", "alpha.istio.io/canonical-serviceaccounts", "alpha.istio.io/identity",
      "install.operator.istio.io/chart-owner", "install.operator.istio.io/owner-generation", "install.operator.istio.io/version",
  };
  return known;
}

// Istio's domains: "istio.io" and its subdomains, in the key's prefix before '/'.
bool inIstioDomain(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view domain = key.substr(0, slash);
  constexpr std::string_view kSuffix = "istio.io";
  if (domain.size() < kSuffix.size() || domain.substr(domain.size() - kSuffix.size()) != kSuffix) return false;
  return domain.size() == kSuffix.size() || domain[domain.size() - kSuffix.size() - 1] == '.';
}

void checkAnnotations(Context& ctx, const model::Object& o, const json::value& annotations, const std::string& pointer) {
  if (!annotations.is_object()) return;
  for (const auto& [key, value] : annotations.get_object()) {
    std::string_view name = key;
    if (!inIstioDomain(name) || knownAnnotations().count(name) > 0) continue;
    ctx.report(makeMessage(msg::kUnknownAnnotation, o, model::pointerChild(pointer, name), fmt::format("Unknown annotation: {}", name)));
  }
}

// Every object's own annotations, and the pod template's of the workload controllers,
// since injection reads those.
void k8sAnnotations(Context& ctx) {
  for (const auto& kind : model::allKinds()) {
    std::string qualified = kind.group.empty() ? kind.kind : kind.kind + "." + kind.group;
    for (const auto* o : ctx.ofKind(qualified)) {
      checkAnnotations(ctx, *o, at(o->value(), {"metadata", "annotations"}), "/metadata/annotations");
      if (kind.group == "apps") {
        checkAnnotations(ctx, *o, at(o->value(), {"spec", "template", "metadata", "annotations"}), "/spec/template/metadata/annotations");
      }
    }
  }
}

}  // namespace

void addAnnotationAnalyzers(std::vector<Analyzer>& out) { out.push_back({"annotations.K8sAnalyzer", k8sAnnotations}); }

}  // namespace weft::analyze
