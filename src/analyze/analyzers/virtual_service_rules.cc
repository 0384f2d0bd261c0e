// VirtualService rules: hosts claimed twice on the mesh gateway (IST0109), hosts a bound
// Gateway does not serve (IST0132), and rules or matches that can never be reached
// (IST0130, IST0131), with Istio's analyzer names.
#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <set>

#include "analyze/analyzer.h"
#include "model/gateway_names.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

const char* const kVirtualService = "VirtualService.networking.istio.io";
const char* const kGateway = "Gateway.networking.istio.io";

std::string fullName(const model::Object& o) { return o.ns() + "/" + o.name(); }

std::vector<std::string> stringsAt(const json::value& v, std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  const auto& list = at(v, path);
  if (!list.is_array()) return out;
  for (const auto& item : list.get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

// --- IST0109: hosts claimed by several VirtualServices on the mesh gateway ----------------

// No gateways at all means "mesh", as istiod reads it.
bool boundToMesh(const model::Object& vs) {
  auto gateways = stringsAt(vs.value(), {"spec", "gateways"});
  return gateways.empty() || std::find(gateways.begin(), gateways.end(), "mesh") != gateways.end();
}

// The namespaces a VirtualService is visible in: everything, or a set of names.
struct ExportScope {
  bool everywhere = false;
  std::set<std::string> namespaces;

  bool overlaps(const ExportScope& other) const {
    if (everywhere) return other.everywhere || !other.namespaces.empty();
    if (other.everywhere) return !namespaces.empty();
    return std::any_of(namespaces.begin(), namespaces.end(), [&](const auto& ns) { return other.namespaces.count(ns) > 0; });
  }
};

ExportScope exportScopeOf(const model::Object& vs) {
  ExportScope scope;
  auto exportTo = stringsAt(vs.value(), {"spec", "exportTo"});
  if (exportTo.empty()) scope.everywhere = true;
  for (const auto& entry : exportTo) {
    if (entry == "*") scope.everywhere = true;
    else if (entry == ".") scope.namespaces.insert(vs.ns());
    else if (entry != "~") scope.namespaces.insert(entry);  // "~": exported nowhere
  }
  return scope;
}

struct MeshBinding {
  const model::Object* vs;
  ExportScope scope;
  std::vector<std::string> hosts;  // fully qualified
};

std::vector<MeshBinding> meshBindings(const Context& ctx) {
  std::vector<MeshBinding> out;
  for (const auto* vs : ctx.ofKind(kVirtualService)) {
    if (!boundToMesh(*vs)) continue;
    MeshBinding binding{vs, exportScopeOf(*vs), {}};
    for (const auto& host : stringsAt(vs->value(), {"spec", "hosts"})) binding.hosts.push_back(Context::fqdn(host, vs->ns()));
    out.push_back(std::move(binding));
  }
  return out;
}

bool anyHostMatches(const std::vector<std::string>& hosts, std::string_view host) {
  return std::any_of(hosts.begin(), hosts.end(), [&](const auto& h) { return hostsMatch(h, host); });
}

// One message per VirtualService in conflict, naming every VirtualService it clashes with
// and the hosts concerned, so a VirtualService clashing on two hosts is reported once.
void conflictingMeshGatewayHosts(Context& ctx) {
  auto bindings = meshBindings(ctx);
  for (size_t i = 0; i < bindings.size(); ++i) {
    const auto& self = bindings[i];
    std::vector<std::string> involved{fullName(*self.vs)};
    std::vector<std::string> hosts;
    for (const auto& host : self.hosts) {
      bool clash = false;
      for (size_t j = 0; j < bindings.size(); ++j) {
        const auto& other = bindings[j];
        if (j == i || !self.scope.overlaps(other.scope) || !anyHostMatches(other.hosts, host)) continue;
        clash = true;
        std::string name = fullName(*other.vs);
        if (std::find(involved.begin(), involved.end(), name) == involved.end()) involved.push_back(name);
      }
      if (clash) hosts.push_back(host);
    }
    if (hosts.empty()) continue;
    ctx.report(makeMessage(msg::kConflictingMeshGatewayVirtualServiceHosts, *self.vs, "/metadata/name",
                           fmt::format("The VirtualServices {} associated with mesh gateway define the same host {} which can lead "
                                       "to undefined behavior. This can be fixed by merging the conflicting VirtualServices into "
                                       "a single resource.",
                                       join(involved, ","), join(hosts, ","))));
  }
}

// --- IST0132: VirtualService hosts a bound Gateway does not serve -------------------------

// A `gateways` entry as namespace and name (model::resolveGatewayName reads every form).
std::pair<std::string, std::string> gatewayRef(const std::string& ref, const std::string& vsNamespace) {
  std::string resolved = model::resolveGatewayName(ref, vsNamespace);
  auto slash = resolved.find('/');
  return {resolved.substr(0, slash), resolved.substr(slash + 1)};
}

// The server hosts of `gateway` a VirtualService in `vsNamespace` may bind to: a host's
// "ns/" part limits it to that namespace ("." is the Gateway's own, "*" any).
std::vector<std::string> serverHostsFor(const model::Object& gateway, const std::string& vsNamespace) {
  std::vector<std::string> out;
  const auto& servers = at(gateway.value(), {"spec", "servers"});
  if (!servers.is_array()) return out;
  for (const auto& server : servers.get_array()) {
    for (const auto& entry : stringsAt(server, {"hosts"})) {
      auto slash = entry.find('/');
      if (slash == std::string::npos) {
        out.push_back(entry);
        continue;
      }
      std::string ns = entry.substr(0, slash);
      if (ns == ".") ns = gateway.ns();
      if (ns == "*" || ns == vsNamespace) out.push_back(entry.substr(slash + 1));
    }
  }
  return out;
}

// As Istio does, a Gateway that serves at least one of the hosts is fine: a VirtualService
// may split its hosts over several Gateways.
void gatewayHosts(Context& ctx) {
  for (const auto* vs : ctx.ofKind(kVirtualService)) {
    auto vsHosts = stringsAt(vs->value(), {"spec", "hosts"});
    auto refs = stringsAt(vs->value(), {"spec", "gateways"});
    for (size_t i = 0; i < refs.size(); ++i) {
      if (refs[i] == "mesh") continue;
      auto [ns, name] = gatewayRef(refs[i], vs->ns());
      const auto* gateway = ctx.find(kGateway, ns, name);
      if (gateway == nullptr) continue;  // virtualservice.GatewayAnalyzer reports it missing
      auto served = serverHostsFor(*gateway, vs->ns());
      bool bound = std::any_of(vsHosts.begin(), vsHosts.end(), [&](const auto& h) { return anyHostMatches(served, h); });
      if (bound) continue;
      ctx.report(makeMessage(msg::kVirtualServiceHostNotFoundInGateway, *vs, fmt::format("/spec/gateways/{}", i),
                             fmt::format("one or more host [{}] defined in VirtualService {} not found in Gateway {}/{}.",
                                         join(vsHosts, " "), fullName(*vs), ns, name)));
    }
  }
}

// --- IST0130, IST0131: rules and matches that are never used ------------------------------

// Fields of a match that only label it; they take no part in matching.
bool isLabelField(std::string_view key) { return key == "name" || key == "statPrefix"; }

json::object conditionsOf(const json::value& match) {
  json::object out;
  if (!match.is_object()) return out;
  for (const auto& [key, value] : match.get_object()) {
    if (!isLabelField(key)) out[key] = value;
  }
  return out;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// True when every string `narrow` (a StringMatch) accepts is accepted by `wide`.
bool stringMatchCovers(const json::value& wide, const json::value& narrow) {
  if (!wide.is_object() || wide.get_object().empty()) return true;  // {}: presence only
  if (wide == narrow) return true;
  std::string prefix = stringAt(wide, {"prefix"});
  if (prefix.empty()) return false;  // exact and regex only cover themselves
  const auto& exact = at(narrow, {"exact"});
  const auto& narrowPrefix = at(narrow, {"prefix"});
  if (exact.is_string()) return startsWith(exact.get_string(), prefix);
  if (narrowPrefix.is_string()) return startsWith(narrowPrefix.get_string(), prefix);
  return false;
}

// Header and query parameter maps: each condition of `wide` must hold for `narrow` too.
bool stringMapCovers(const json::value& wide, const json::value& narrow) {
  if (!wide.is_object()) return true;
  for (const auto& [key, condition] : wide.get_object()) {
    const json::value* other = narrow.is_object() ? narrow.get_object().if_contains(key) : nullptr;
    if (other == nullptr || !stringMatchCovers(condition, *other)) return false;
  }
  return true;
}

bool labelsCover(const json::value& wide, const json::value& narrow) {
  if (!wide.is_object()) return true;
  return narrow.is_object() && labelsMatch(narrow.get_object(), wide.get_object());
}

bool gatewaysCover(const json::value& wide, const json::value& narrow) {
  if (!wide.is_array()) return true;
  if (!narrow.is_array() || narrow.get_array().empty()) return false;
  const auto& allowed = wide.get_array();
  return std::all_of(narrow.get_array().begin(), narrow.get_array().end(),
                     [&](const auto& g) { return std::find(allowed.begin(), allowed.end(), g) != allowed.end(); });
}

// True when every request `narrow` (an HTTPMatchRequest) accepts is accepted by `wide`:
// then `narrow`, coming later, is never the one that matches.
bool httpMatchCovers(const json::object& wide, const json::object& narrow) {
  static const json::value null;
  auto field = [](const json::object& o, std::string_view key) -> const json::value& {
    const auto* v = o.if_contains(key);
    return v == nullptr ? null : *v;
  };
  for (const auto& [key, condition] : wide) {
    const auto& other = field(narrow, key);
    bool covered = false;
    if (key == "uri") {
      // A case-insensitive narrow match accepts strings a case-sensitive wide one rejects.
      bool caseOk = field(wide, "ignoreUriCase") == json::value(true) || field(narrow, "ignoreUriCase") != json::value(true);
      covered = caseOk && !other.is_null() && stringMatchCovers(condition, other);
    } else if (key == "scheme" || key == "method" || key == "authority") {
      covered = !other.is_null() && stringMatchCovers(condition, other);
    } else if (key == "headers" || key == "queryParams") {
      covered = stringMapCovers(condition, other);
    } else if (key == "sourceLabels") {
      covered = labelsCover(condition, other);
    } else if (key == "gateways") {
      covered = gatewaysCover(condition, other);
    } else if (key == "ignoreUriCase") {
      covered = true;  // judged with uri
    } else {
      covered = condition == other;  // port, sourceNamespace, withoutHeaders: only identical holds
    }
    if (!covered) return false;
  }
  return true;
}

struct SeenMatch {
  json::object conditions;
  size_t rule;
};

class RuleChecker {
 public:
  RuleChecker(Context& ctx, const model::Object& vs, std::string section)
      : ctx_(ctx), vs_(vs), section_(std::move(section)), http_(section_ == "http") {}

  void run() {
    const auto& rules = at(vs_.value(), {"spec", section_});
    if (!rules.is_array()) return;
    std::optional<size_t> catchAll;
    for (size_t r = 0; r < rules.get_array().size(); ++r) {
      const auto& rule = rules.get_array()[r];
      const auto& matches = at(rule, {"match"});
      bool noMatches = !matches.is_array() || matches.get_array().empty();
      if (catchAll) {
        unreachable(rule, r, noMatches ? "only the last rule can have no matches" : "route without matches defined before");
        continue;
      }
      if (noMatches) {
        catchAll = r;
        continue;
      }
      checkMatches(rule, r, matches.get_array());
    }
  }

 private:
  // An HTTP rule's name, quoted, or its index, as Istio prints them.
  std::string ruleLabel(const json::value& rule, size_t index) const {
    std::string name = http_ ? stringAt(rule, {"name"}) : "";
    return name.empty() ? fmt::format("#{}", index) : fmt::format("\"{}\"", name);
  }

  std::string ruleLabel(size_t index) const { return ruleLabel(at(vs_.value(), {"spec", section_}).get_array()[index], index); }

  std::string rulePointer(size_t index) const { return fmt::format("/spec/{}/{}", section_, index); }

  void unreachable(const json::value& rule, size_t index, std::string_view reason) {
    ctx_.report(makeMessage(msg::kVirtualServiceUnreachableRule, vs_, rulePointer(index),
                            fmt::format("VirtualService rule {} not used ({}).", ruleLabel(rule, index), reason)));
  }

  void ineffective(const json::value& rule, size_t index, const json::value& match, size_t matchIndex, size_t earlier) {
    std::string name = http_ ? stringAt(match, {"name"}) : "";
    std::string matchLabel = name.empty() ? fmt::format("#{}", matchIndex) : fmt::format("\"{}\"", name);
    ctx_.report(makeMessage(msg::kVirtualServiceIneffectiveMatch, vs_, fmt::format("{}/match/{}", rulePointer(index), matchIndex),
                            fmt::format("VirtualService rule {} match {} is not used (duplicate/overlapping match in rule {}).",
                                        ruleLabel(rule, index), matchLabel, ruleLabel(earlier))));
  }

  // Exact duplicates make a rule unreachable once all its matches are duplicates; a match
  // merely covered by a wider earlier one (HTTP only) is reported on its own, as Istio does.
  void checkMatches(const json::value& rule, size_t r, const json::array& matches) {
    size_t duplicates = 0;
    for (size_t m = 0; m < matches.size(); ++m) {
      json::object conditions = conditionsOf(matches[m]);
      auto same = std::find_if(seen_.begin(), seen_.end(), [&](const SeenMatch& s) { return s.conditions == conditions; });
      if (same != seen_.end()) {
        ineffective(rule, r, matches[m], m, same->rule);
        ++duplicates;
        continue;
      }
      if (http_) {
        auto wider = std::find_if(seen_.begin(), seen_.end(), [&](const SeenMatch& s) { return httpMatchCovers(s.conditions, conditions); });
        if (wider != seen_.end()) ineffective(rule, r, matches[m], m, wider->rule);
      }
      seen_.push_back({std::move(conditions), r});
    }
    if (duplicates == matches.size()) unreachable(rule, r, "all matches used by prior rules");
  }

  Context& ctx_;
  const model::Object& vs_;
  std::string section_;
  bool http_;
  std::vector<SeenMatch> seen_;
};

void unreachableRules(Context& ctx) {
  for (const auto* vs : ctx.ofKind(kVirtualService)) {
    for (const char* section : {"http", "tcp", "tls"}) RuleChecker(ctx, *vs, section).run();
  }
}

}  // namespace

void addVirtualServiceRuleAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"virtualservice.ConflictingMeshGatewayHostsAnalyzer", conflictingMeshGatewayHosts});
  // Istio reports IST0132 from its GatewayAnalyzer; that name is taken here by the IST0101
  // gateway reference check, so this half gets a name of its own.
  out.push_back({"virtualservice.GatewayHostAnalyzer", gatewayHosts});
  out.push_back({"virtualservice.MatchesAnalyzer", unreachableRules});
}

}  // namespace weft::analyze
