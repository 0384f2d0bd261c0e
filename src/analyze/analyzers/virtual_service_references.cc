// VirtualService references: destination hosts and ports (IST0101, IST0112), subsets
// (IST0101 host+subset) and gateways (IST0101), with Istio's analyzer names.
#include <boost/json.hpp>

#include "analyze/analyzer.h"
#include "model/gateway_names.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

struct Destination {
  const json::value* value;
  std::string pointer;  // of the destination object
};

// Every destination a VirtualService routes or mirrors to, with its JSON pointer.
std::vector<Destination> destinationsOf(const model::Object& vs) {
  std::vector<Destination> out;
  const auto& spec = vs.field("spec");
  for (const char* section : {"http", "tls", "tcp"}) {
    const auto& rules = at(spec, {section});
    if (!rules.is_array()) continue;
    for (size_t r = 0; r < rules.get_array().size(); ++r) {
      const auto& rule = rules.get_array()[r];
      std::string rulePointer = fmt::format("/spec/{}/{}", section, r);
      const auto& routes = at(rule, {"route"});
      if (routes.is_array()) {
        for (size_t d = 0; d < routes.get_array().size(); ++d) {
          const auto& dest = at(routes.get_array()[d], {"destination"});
          if (dest.is_object()) out.push_back({&dest, fmt::format("{}/route/{}/destination", rulePointer, d)});
        }
      }
      if (const auto& mirror = at(rule, {"mirror"}); mirror.is_object()) out.push_back({&mirror, rulePointer + "/mirror"});
      const auto& mirrors = at(rule, {"mirrors"});
      if (mirrors.is_array()) {
        for (size_t m = 0; m < mirrors.get_array().size(); ++m) {
          const auto& dest = at(mirrors.get_array()[m], {"destination"});
          if (dest.is_object()) out.push_back({&dest, fmt::format("{}/mirrors/{}/destination", rulePointer, m)});
        }
      }
    }
  }
  return out;
}

void destinationHosts(Context& ctx) {
  for (const auto* vs : ctx.ofKind("VirtualService.networking.istio.io")) {
    for (const auto& dest : destinationsOf(*vs)) {
      std::string host = stringAt(*dest.value, {"host"});
      if (host.empty()) continue;
      std::string fqdn = Context::fqdn(host, vs->ns());
      if (!ctx.hostKnown(fqdn)) {
        ctx.report(makeMessage(msg::kReferencedResourceNotFound, *vs, dest.pointer + "/host",
                               fmt::format("Referenced host not found: \"{}\"", host)));
        continue;
      }
      const model::Object* svc = ctx.serviceByFqdn(fqdn);
      if (svc == nullptr) continue;  // a ServiceEntry host: its ports are its own business
      const auto& ports = at(svc->value(), {"spec", "ports"});
      size_t portCount = ports.is_array() ? ports.get_array().size() : 0;
      const auto& port = at(*dest.value, {"port", "number"});
      if (port.is_null()) {
        if (portCount > 1) {
          std::string list;
          for (const auto& p : ports.get_array()) list += (list.empty() ? "" : " ") + json::serialize(at(p, {"port"}));
          ctx.report(makeMessage(msg::kVirtualServiceDestinationPortSelectorRequired, *vs, dest.pointer,
                                 fmt::format("This VirtualService routes to a service \"{}\" that exposes multiple ports [{}]. "
                                             "Specifying a port in the destination is required to disambiguate.",
                                             host, list)));
        }
        continue;
      }
      bool found = false;
      for (size_t i = 0; i < portCount; ++i) found = found || at(ports.get_array()[i], {"port"}) == port;
      if (!found) {
        ctx.report(makeMessage(msg::kReferencedResourceNotFound, *vs, dest.pointer + "/port",
                               fmt::format("Referenced host:port not found: \"{}:{}\"", host, json::serialize(port))));
      }
    }
  }
}

bool subsetDefined(const Context& ctx, const std::string& fqdn, const std::string& subset) {
  for (const auto* dr : ctx.ofKind("DestinationRule.networking.istio.io")) {
    if (Context::fqdn(stringAt(dr->value(), {"spec", "host"}), dr->ns()) != fqdn) continue;
    const auto& subsets = at(dr->value(), {"spec", "subsets"});
    if (!subsets.is_array()) continue;
    for (const auto& s : subsets.get_array()) {
      if (stringAt(s, {"name"}) == subset) return true;
    }
  }
  return false;
}

void destinationSubsets(Context& ctx) {
  for (const auto* vs : ctx.ofKind("VirtualService.networking.istio.io")) {
    for (const auto& dest : destinationsOf(*vs)) {
      std::string host = stringAt(*dest.value, {"host"});
      std::string subset = stringAt(*dest.value, {"subset"});
      if (host.empty() || subset.empty()) continue;
      if (!subsetDefined(ctx, Context::fqdn(host, vs->ns()), subset)) {
        ctx.report(makeMessage(msg::kReferencedResourceNotFound, *vs, dest.pointer + "/subset",
                               fmt::format("Referenced host+subset in destinationrule not found: \"{}+{}\"", host, subset)));
      }
    }
  }
}

// Every form model::resolveGatewayName reads; the reserved name "mesh" means the mesh itself, not a Gateway.
void gatewayReferences(Context& ctx) {
  for (const auto* vs : ctx.ofKind("VirtualService.networking.istio.io")) {
    auto check = [&](const json::value& list, const std::string& pointer) {
      if (!list.is_array()) return;
      for (size_t i = 0; i < list.get_array().size(); ++i) {
        const auto& ref = list.get_array()[i];
        if (!ref.is_string() || ref.get_string() == "mesh") continue;
        std::string resolved = model::resolveGatewayName(ref.get_string(), vs->ns());
        auto slash = resolved.find('/');
        std::string ns = resolved.substr(0, slash);
        std::string name = resolved.substr(slash + 1);
        if (ctx.find("Gateway.networking.istio.io", ns, name) == nullptr) {
          ctx.report(makeMessage(msg::kReferencedResourceNotFound, *vs, fmt::format("{}/{}", pointer, i),
                                 fmt::format("Referenced gateway not found: \"{}\"", std::string_view(ref.get_string()))));
        }
      }
    };
    check(at(vs->value(), {"spec", "gateways"}), "/spec/gateways");
    const auto& http = at(vs->value(), {"spec", "http"});
    if (!http.is_array()) continue;
    for (size_t r = 0; r < http.get_array().size(); ++r) {
      const auto& matches = at(http.get_array()[r], {"match"});
      if (!matches.is_array()) continue;
      for (size_t m = 0; m < matches.get_array().size(); ++m) {
        check(at(matches.get_array()[m], {"gateways"}), fmt::format("/spec/http/{}/match/{}/gateways", r, m));
      }
    }
  }
}

}  // namespace

void addVirtualServiceAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"virtualservice.DestinationHostAnalyzer", destinationHosts});
  out.push_back({"virtualservice.DestinationRuleAnalyzer", destinationSubsets});
  out.push_back({"virtualservice.GatewayAnalyzer", gatewayReferences});
  addVirtualServiceRuleAnalyzers(out);
}

}  // namespace weft::analyze
