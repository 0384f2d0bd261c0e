#include "control/rate_limit_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::at;
using model::Object;
using model::stringAt;

namespace {

int64_t integerAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const auto& found = at(v, path);
  if (found.is_int64()) return found.get_int64();
  if (found.is_uint64()) return found.get_uint64() > INT64_MAX ? INT64_MAX : static_cast<int64_t>(found.get_uint64());
  return 0;
}

bool exists(const ObjectsByKind& objects, const std::string& kind, const std::string& ns, const std::string& name) {
  const auto& list = objectsOf(objects, kind);
  return std::any_of(list.begin(), list.end(), [&](const Object& o) { return o.ns() == ns && o.name() == name; });
}

uint32_t unitSeconds(const std::string& unit) {
  if (unit == "second") return 1;
  if (unit == "minute") return 60;
  if (unit == "hour") return 3600;
  return 0;
}

class RateLimitCompiler {
 public:
  RateLimitCompiler(const ObjectsByKind& objects, RegistryBuild& build) : objects_(objects), build_(build) {}

  void compile(const Object& policy) {
    weft::v1::Resource resource;
    resource.set_name(policy.ns() + "/" + policy.name());
    auto& out = *resource.mutable_rate_limit_policy();
    out.set_name(resource.name());
    const json::value& spec = at(policy.value(), {"spec"});
    addTargets(policy, spec, out);
    if (out.gateways().empty() && out.services().empty()) {
      note(policy, "no target weft-proxy can apply it to: not sent");
      return;
    }
    std::string mode = stringAt(spec, {"mode"});
    if (mode == "global") {
      out.set_mode(weft::v1::RateLimitPolicy::GLOBAL);
      out.set_redis_address(stringAt(spec, {"redis", "address"}));
      if (out.redis_address().empty()) {
        note(policy, "mode global without spec.redis.address: not sent");
        return;
      }
    } else if (!mode.empty() && mode != "local") {
      note(policy, fmt::format("mode {:?} is neither local nor global: not sent", mode));
      return;
    }
    const auto& rules = model::arrayAt(spec, {"rules"});
    for (size_t i = 0; i < rules.size(); ++i) addRule(policy, rules[i], i, out);
    if (out.rules().empty()) {
      note(policy, "no rule could be read: not sent");
      return;
    }
    build_.resources[kRateLimitPolicyType][resource.name()] = std::move(resource);
  }

 private:
  void note(const Object& o, const std::string& what) { build_.notes.push_back(fmt::format("{}: {}", o.friendlyName(), what)); }

  void addTargets(const Object& policy, const json::value& spec, weft::v1::RateLimitPolicy& out) {
    const auto& refs = model::arrayAt(spec, {"targetRefs"});
    for (size_t i = 0; i < refs.size(); ++i) {
      std::string group = stringAt(refs[i], {"group"});
      std::string kind = stringAt(refs[i], {"kind"});
      std::string name = stringAt(refs[i], {"name"});
      std::string where = fmt::format("spec.targetRefs[{}]", i);
      if (name.empty()) continue;
      if (group == "networking.istio.io" && kind == "Gateway") {
        // Kept even when the Gateway does not exist yet: the view is rebuilt when it appears.
        if (!exists(objects_, "Gateway.networking.istio.io", policy.ns(), name)) {
          note(policy, fmt::format("{}: Gateway {}/{} does not exist (yet)", where, policy.ns(), name));
        }
        out.add_gateways(policy.ns() + "/" + name);
      } else if ((group.empty() || group == "core") && kind == "Service") {
        if (!exists(objects_, "Service", policy.ns(), name)) {
          note(policy, fmt::format("{}: Service {}/{} does not exist (yet)", where, policy.ns(), name));
        }
        out.add_services(fmt::format("{}.{}.svc.cluster.local", name, policy.ns()));
      } else if (group == "gateway.networking.k8s.io" && (kind == "Gateway" || kind == "HTTPRoute")) {
        note(policy, fmt::format("{}: {} {}: not applied, weft-proxy does not serve the Gateway API yet", where, kind, name));
      } else {
        note(policy, fmt::format("{}: {}/{} is not a rate-limit target: left out", where, group, kind));
      }
    }
  }

  void addRule(const Object& policy, const json::value& rule, size_t index, weft::v1::RateLimitPolicy& out) {
    std::string name = stringAt(rule, {"name"});
    if (name.empty()) name = std::to_string(index);
    std::string where = fmt::format("spec.rules[{}] ({})", index, name);
    weft::v1::RateLimitRule compiled;
    compiled.set_name(name);
    const json::value& key = at(rule, {"key"});
    if (key.is_object() && key.get_object().contains("clientAddress")) {
      compiled.set_key(weft::v1::RateLimitRule::CLIENT_ADDRESS);
    } else if (key.is_object() && key.get_object().contains("principal")) {
      compiled.set_key(weft::v1::RateLimitRule::PRINCIPAL);
    } else if (std::string header = stringAt(key, {"header", "name"}); !header.empty()) {
      std::transform(header.begin(), header.end(), header.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      compiled.set_key(weft::v1::RateLimitRule::HEADER);
      compiled.set_header_name(header);
    } else {
      note(policy, where + ": no key: left out");
      return;
    }
    int64_t requests = integerAt(rule, {"limit", "requests"});
    uint32_t unit = unitSeconds(stringAt(rule, {"limit", "unit"}));
    if (requests < 1 || requests > 1000000000 || unit == 0) {
      note(policy, where + ": limit needs requests >= 1 and a unit of second, minute or hour: left out");
      return;
    }
    compiled.set_requests(static_cast<uint32_t>(requests));
    compiled.set_unit_seconds(unit);
    *out.add_rules() = std::move(compiled);
  }

  const ObjectsByKind& objects_;
  RegistryBuild& build_;
};

}  // namespace

void addRateLimitPolicies(const ObjectsByKind& objects, RegistryBuild& build) {
  RateLimitCompiler compiler(objects, build);
  for (const auto& policy : objectsOf(objects, kRateLimitPolicyKind)) compiler.compile(policy);
}

}  // namespace weft::control
