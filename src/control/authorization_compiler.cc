#include "control/authorization_compiler.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "control/policy_scope.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::stringAt;

namespace {

void addMatches(const json::array& values, google::protobuf::RepeatedPtrField<weft::v1::Match>* out) {
  for (const auto& v : values) {
    if (v.is_string()) *out->Add() = parseMatch(v.get_string());
  }
}

void addStrings(const json::array& values, google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const auto& v : values) {
    if (v.is_string()) out->Add(std::string(v.get_string()));
  }
}

void addPorts(const json::array& values, google::protobuf::RepeatedField<uint32_t>* out) {
  for (const auto& v : values) {
    if (v.is_string()) {
      try {
        out->Add(static_cast<uint32_t>(std::stoul(std::string(v.get_string()))));
      } catch (...) {
        // the schema has already refused ports that are not numbers
      }
    }
  }
}

bool hasAny(const json::value& v, std::initializer_list<std::string_view> fields) {
  for (auto field : fields) {
    if (!arrayAt(v, {field}).empty()) return true;
  }
  return false;
}

// `when` keys ztunnel understands at L4; everything else is a request attribute.
bool applyL4Condition(const json::value& condition, weft::v1::RuleGroup& group) {
  std::string key = stringAt(condition, {"key"});
  const auto& values = arrayAt(condition, {"values"});
  const auto& notValues = arrayAt(condition, {"notValues"});
  if (key == "source.ip" || key == "remote.ip") {
    addStrings(values, group.mutable_ip_blocks());
    addStrings(notValues, group.mutable_not_ip_blocks());
  } else if (key == "source.namespace") {
    addMatches(values, group.mutable_namespaces());
    addMatches(notValues, group.mutable_not_namespaces());
  } else if (key == "source.principal") {
    addMatches(values, group.mutable_principals());
    addMatches(notValues, group.mutable_not_principals());
  } else if (key == "destination.ip") {
    addStrings(values, group.mutable_destination_ip_blocks());
    addStrings(notValues, group.mutable_not_destination_ip_blocks());
  } else if (key == "destination.port") {
    addPorts(values, group.mutable_ports());
    addPorts(notValues, group.mutable_not_ports());
  } else {
    return false;
  }
  return true;
}

// One rule -> one group (Istio ANDs from, to and when within a rule; a rule with several
// `from` or `to` entries ORs them, which is expanded into several groups).
void compileRule(const json::value& rule, bool deny, weft::v1::Authorization& out) {
  const auto& froms = arrayAt(rule, {"from"});
  const auto& tos = arrayAt(rule, {"to"});
  const json::array none{json::object{}};
  bool l7 = false;
  std::vector<weft::v1::RuleGroup> groups;
  for (const auto& from : froms.empty() ? none : froms) {
    for (const auto& to : tos.empty() ? none : tos) {
      weft::v1::RuleGroup group;
      const auto& source = at(from, {"source"});
      addMatches(arrayAt(source, {"principals"}), group.mutable_principals());
      addMatches(arrayAt(source, {"notPrincipals"}), group.mutable_not_principals());
      addMatches(arrayAt(source, {"namespaces"}), group.mutable_namespaces());
      addMatches(arrayAt(source, {"notNamespaces"}), group.mutable_not_namespaces());
      addStrings(arrayAt(source, {"ipBlocks"}), group.mutable_ip_blocks());
      addStrings(arrayAt(source, {"notIpBlocks"}), group.mutable_not_ip_blocks());
      addStrings(arrayAt(source, {"remoteIpBlocks"}), group.mutable_ip_blocks());
      addStrings(arrayAt(source, {"notRemoteIpBlocks"}), group.mutable_not_ip_blocks());
      l7 = l7 || hasAny(source, {"requestPrincipals", "notRequestPrincipals"});
      const auto& operation = at(to, {"operation"});
      addPorts(arrayAt(operation, {"ports"}), group.mutable_ports());
      addPorts(arrayAt(operation, {"notPorts"}), group.mutable_not_ports());
      l7 = l7 || hasAny(operation, {"hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"});
      for (const auto& condition : arrayAt(rule, {"when"})) l7 = !applyL4Condition(condition, group) || l7;
      groups.push_back(std::move(group));
    }
  }
  if (l7 && !deny) {
    out.set_has_l7_only_rules(true);  // never matches at L4
    return;
  }
  for (auto& group : groups) *out.add_groups() = std::move(group);
}

// ALLOW (also when unset), DENY, AUDIT; nullopt for CUSTOM, which is not supported.
std::optional<weft::v1::Authorization::Action> actionOf(std::string_view action) {
  if (action.empty() || action == "ALLOW") return weft::v1::Authorization::ALLOW;
  if (action == "DENY") return weft::v1::Authorization::DENY;
  if (action == "AUDIT") return weft::v1::Authorization::AUDIT;
  return std::nullopt;
}

weft::v1::Authorization::MtlsMode mtlsMode(std::string_view mode) {
  if (mode == "STRICT") return weft::v1::Authorization::STRICT;
  if (mode == "PERMISSIVE") return weft::v1::Authorization::PERMISSIVE;
  if (mode == "DISABLE") return weft::v1::Authorization::DISABLE;
  return weft::v1::Authorization::UNSET;
}

}  // namespace

weft::v1::Match parseMatch(std::string_view value) {
  weft::v1::Match match;
  if (value == "*") {
    match.set_kind(weft::v1::Match::PRESENCE);
  } else if (value.size() > 1 && value.back() == '*') {
    match.set_kind(weft::v1::Match::PREFIX);
    match.set_value(std::string(value.substr(0, value.size() - 1)));
  } else if (value.size() > 1 && value.front() == '*') {
    match.set_kind(weft::v1::Match::SUFFIX);
    match.set_value(std::string(value.substr(1)));
  } else {
    match.set_kind(weft::v1::Match::EXACT);
    match.set_value(std::string(value));
  }
  return match;
}

CompiledPolicy compileAuthorizationPolicy(const model::Object& policy, const std::string& rootNamespace) {
  const auto& spec = at(policy.value(), {"spec"});
  if (at(spec, {"targetRef"}).is_object() || !arrayAt(spec, {"targetRefs"}).empty()) {
    return {std::nullopt, "attached by targetRefs: enforced by the waypoint or gateway, not by ztunnel"};
  }
  std::string action = stringAt(spec, {"action"});
  weft::v1::Authorization out;
  out.set_name(policy.name());
  out.set_namespace_(policy.ns());
  auto parsed = actionOf(action);
  if (!parsed) return {std::nullopt, fmt::format("action {} is not supported", action)};
  out.set_action(*parsed);
  setScope(policy, rootNamespace, out);
  // No rules: ALLOW matches nothing (deny all), DENY matches nothing (no effect).
  for (const auto& rule : arrayAt(spec, {"rules"})) compileRule(rule, out.action() == weft::v1::Authorization::DENY, out);
  return {std::move(out), {}};
}

namespace {

// Every L7 field of the policy's rules; nullopt for CUSTOM.
std::optional<weft::v1::HttpAuthorization> compileHttpRules(const model::Object& policy, const std::string& rootNamespace) {
  const auto& spec = at(policy.value(), {"spec"});
  weft::v1::HttpAuthorization out;
  out.set_name(policy.name());
  out.set_namespace_(policy.ns());
  auto parsed = actionOf(stringAt(spec, {"action"}));
  if (!parsed) return std::nullopt;  // CUSTOM: the L4 compile notes it
  out.set_action(*parsed);
  setScope(policy, rootNamespace, out);
  for (const auto& rule : arrayAt(spec, {"rules"})) {
    auto* r = out.add_rules();
    for (const auto& from : arrayAt(rule, {"from"})) {
      const auto& source = at(from, {"source"});
      auto* s = r->add_from();
      addMatches(arrayAt(source, {"principals"}), s->mutable_principals());
      addMatches(arrayAt(source, {"notPrincipals"}), s->mutable_not_principals());
      addMatches(arrayAt(source, {"namespaces"}), s->mutable_namespaces());
      addMatches(arrayAt(source, {"notNamespaces"}), s->mutable_not_namespaces());
      addStrings(arrayAt(source, {"ipBlocks"}), s->mutable_ip_blocks());
      addStrings(arrayAt(source, {"notIpBlocks"}), s->mutable_not_ip_blocks());
      addStrings(arrayAt(source, {"remoteIpBlocks"}), s->mutable_remote_ip_blocks());
      addStrings(arrayAt(source, {"notRemoteIpBlocks"}), s->mutable_not_remote_ip_blocks());
      addMatches(arrayAt(source, {"requestPrincipals"}), s->mutable_request_principals());
      addMatches(arrayAt(source, {"notRequestPrincipals"}), s->mutable_not_request_principals());
    }
    for (const auto& to : arrayAt(rule, {"to"})) {
      const auto& operation = at(to, {"operation"});
      auto* o = r->add_to();
      addMatches(arrayAt(operation, {"hosts"}), o->mutable_hosts());
      addMatches(arrayAt(operation, {"notHosts"}), o->mutable_not_hosts());
      addPorts(arrayAt(operation, {"ports"}), o->mutable_ports());
      addPorts(arrayAt(operation, {"notPorts"}), o->mutable_not_ports());
      addMatches(arrayAt(operation, {"methods"}), o->mutable_methods());
      addMatches(arrayAt(operation, {"notMethods"}), o->mutable_not_methods());
      addMatches(arrayAt(operation, {"paths"}), o->mutable_paths());
      addMatches(arrayAt(operation, {"notPaths"}), o->mutable_not_paths());
    }
    for (const auto& condition : arrayAt(rule, {"when"})) {
      auto* c = r->add_when();
      c->set_key(stringAt(condition, {"key"}));
      addMatches(arrayAt(condition, {"values"}), c->mutable_values());
      addMatches(arrayAt(condition, {"notValues"}), c->mutable_not_values());
    }
  }
  return out;
}

bool attachedByTargetRefs(const json::value& spec) { return at(spec, {"targetRef"}).is_object() || !arrayAt(spec, {"targetRefs"}).empty(); }

}  // namespace

std::optional<weft::v1::HttpAuthorization> compileHttpAuthorization(const model::Object& policy, const std::string& rootNamespace) {
  // Policies attached by targetRefs are compileTargetedHttpAuthorization's.
  if (attachedByTargetRefs(at(policy.value(), {"spec"}))) return std::nullopt;
  return compileHttpRules(policy, rootNamespace);
}

std::optional<weft::v1::HttpAuthorization> compileTargetedHttpAuthorization(const model::Object& policy, const std::string& rootNamespace,
                                                                            std::vector<std::string>& notes) {
  const auto& spec = at(policy.value(), {"spec"});
  if (!attachedByTargetRefs(spec)) return std::nullopt;
  auto out = compileHttpRules(policy, rootNamespace);
  if (!out) return std::nullopt;
  std::vector<json::value> refs;
  if (at(spec, {"targetRef"}).is_object()) refs.push_back(at(spec, {"targetRef"}));
  for (const auto& ref : arrayAt(spec, {"targetRefs"})) refs.push_back(ref);
  for (const auto& ref : refs) {
    std::string kind = stringAt(ref, {"kind"}), group = stringAt(ref, {"group"}), name = stringAt(ref, {"name"});
    // A target is always in the policy's own namespace (GatewayClass, in the root one, is not built).
    if (kind == "Service" && group.empty()) {
      out->add_target_services(fmt::format("{}.{}.svc.cluster.local", name, policy.ns()));
    } else if (kind == "Gateway" && group == "gateway.networking.k8s.io") {
      out->add_target_gateways(policy.ns() + "/" + name);
    } else {
      notes.push_back(fmt::format("{}: targetRef {} {}/{} is not served (Service and Gateway are): that target is left out",
                                  policy.friendlyName(), kind, group, name));
    }
  }
  if (out->target_services().empty() && out->target_gateways().empty()) return std::nullopt;
  return out;
}

CompiledPolicy compilePeerAuthentication(const model::Object& policy, const std::string& rootNamespace) {
  const auto& spec = at(policy.value(), {"spec"});
  weft::v1::Authorization out;
  out.set_name("peerauthentication/" + policy.name());
  out.set_namespace_(policy.ns());
  setScope(policy, rootNamespace, out);
  out.set_mtls_mode(mtlsMode(stringAt(spec, {"mtls", "mode"})));
  const auto& ports = at(spec, {"portLevelMtls"});
  if (ports.is_object()) {
    for (const auto& [port, setting] : ports.get_object()) {
      try {
        (*out.mutable_port_mtls())[static_cast<uint32_t>(std::stoul(std::string(port)))] = mtlsMode(stringAt(setting, {"mode"}));
      } catch (...) {
        // the schema has already refused port keys that are not numbers
      }
    }
  }
  return {std::move(out), {}};
}

}  // namespace weft::control
