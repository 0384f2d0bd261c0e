// Weft's RateLimitPolicy (policy.weft.dev) against the objects it names: targets that do
// not exist (WFT0001), targets weft-proxy cannot apply it to yet (WFT0002, the Gateway
// API), and a global policy whose Redis address names a cluster Service that does not
// exist or lacks the port (WFT0003). The policy's own shape (units, limits, Redis only with
// mode global and required by it) is the schema's, reported as IST0106 for files.
#include <boost/json.hpp>

#include <charconv>

#include "analyze/analyzer.h"
#include "base/ipv4.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

const char* const kRateLimitPolicy = "RateLimitPolicy.policy.weft.dev";

const json::array& targetRefsOf(const model::Object& policy) {
  static const json::array none;
  const auto& refs = at(policy.value(), {"spec", "targetRefs"});
  return refs.is_array() ? refs.get_array() : none;
}

// The qualified kind Context indexes a target by; empty for kinds a policy cannot name.
std::string qualifiedKind(std::string_view group, std::string_view kind) {
  if ((group.empty() || group == "core") && kind == "Service") return "Service";
  if (group == "networking.istio.io" && kind == "Gateway") return "Gateway.networking.istio.io";
  if (group == "gateway.networking.k8s.io" && (kind == "Gateway" || kind == "HTTPRoute")) return std::string(kind) + "." + std::string(group);
  return "";
}

void targets(Context& ctx) {
  for (const auto* policy : ctx.ofKind(kRateLimitPolicy)) {
    const auto& refs = targetRefsOf(*policy);
    for (size_t i = 0; i < refs.size(); ++i) {
      std::string group = stringAt(refs[i], {"group"});
      std::string kind = stringAt(refs[i], {"kind"});
      std::string name = stringAt(refs[i], {"name"});
      std::string qualified = qualifiedKind(group, kind);
      if (qualified.empty() || name.empty()) continue;  // the schema's to report
      std::string pointer = fmt::format("/spec/targetRefs/{}", i);
      std::string written = group.empty() ? kind : group + "/" + kind;
      if (ctx.find(qualified, policy->ns(), name) == nullptr) {
        ctx.report(makeMessage(msg::kRateLimitTargetNotFound, *policy, pointer + "/name",
                               fmt::format("Referenced {} not found: \"{}/{}\"", written, policy->ns(), name)));
      } else if (group == "gateway.networking.k8s.io") {
        ctx.report(makeMessage(msg::kRateLimitTargetNotApplied, *policy, pointer,
                               fmt::format("The {} \"{}/{}\" is served by weft-proxy, but rate limits do not attach to Gateway API "
                                           "objects yet: this target limits nothing for now",
                                           written, policy->ns(), name)));
      }
    }
  }
}

// "redis.istio-system.svc.cluster.local:6379" -> the Service's host and the port; an IP
// address or a name outside the cluster -> nothing to check.
bool clusterServiceAddress(const std::string& address, const std::string& ns, std::string& fqdn, int& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = address.substr(0, colon);
  std::string portText = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || host.empty() || host.front() == '[' || Ipv4Address::parse(host).ok()) return false;
  // The gateway resolves names through its pod's hosts file, which lists "svc", "svc.ns"
  // and their cluster-local forms: a bare name is taken in the policy's namespace.
  fqdn = Context::fqdn(host, ns);
  return fqdn.ends_with(".svc.cluster.local");
}

bool servicePortExists(const model::Object& service, int port) {
  const auto& ports = at(service.value(), {"spec", "ports"});
  if (!ports.is_array()) return false;
  for (const auto& p : ports.get_array()) {
    const auto& number = at(p, {"port"});
    if (number.is_int64() && number.get_int64() == port) return true;
  }
  return false;
}

void redisAddresses(Context& ctx) {
  for (const auto* policy : ctx.ofKind(kRateLimitPolicy)) {
    if (stringAt(policy->value(), {"spec", "mode"}) != "global") continue;
    std::string address = stringAt(policy->value(), {"spec", "redis", "address"});
    std::string fqdn;
    int port = 0;
    if (!clusterServiceAddress(address, policy->ns(), fqdn, port)) continue;
    const auto* service = ctx.serviceByFqdn(fqdn);
    std::string problem;
    if (service == nullptr) {
      problem = fmt::format("Service {} does not exist", fqdn);
    } else if (!servicePortExists(*service, port)) {
      problem = fmt::format("Service {} has no port {}", fqdn, port);
    } else {
      continue;
    }
    ctx.report(makeMessage(msg::kRateLimitRedisServiceNotFound, *policy, "/spec/redis/address",
                           fmt::format("The Redis address \"{}\" of this global rate limit cannot be reached ({}): every "
                                       "proxy will allow all requests (fail open) until it can",
                                       address, problem)));
  }
}

}  // namespace

void addRateLimitAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"policy.RateLimitTargetAnalyzer", targets});
  out.push_back({"policy.RateLimitRedisAnalyzer", redisAddresses});
}

}  // namespace weft::analyze
