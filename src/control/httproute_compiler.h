#pragma once
// A Gateway API HTTPRoute's rules compiled into the same weft.v1.Route messages
// route_compiler.cc makes for VirtualService http rules, for one listener of one Gateway
// (redirects depend on the listener's port and scheme). Each match becomes one or two
// Routes, each carrying the Gateway API's precedence, so the caller can order the routes
// of every HTTPRoute on a host as the spec orders them (gateway_api_view.cc).
//
// Semantics follow Istio's conversion (pilot/pkg/config/kube/gateway/conversion.go):
//   - PathPrefix "/foo" matches "/foo" and "/foo/..." but not "/foobar": it compiles to an
//     exact "/foo" and a prefix "/foo/" (or, under a URLRewrite ReplaceFullPath, a regex
//     "/foo(/.*)?" so the whole path is replaced); a trailing "/" in the prefix is ignored.
//   - Header and query parameter names: headers case-insensitive, query parameters as written.
//   - RequestRedirect: statusCode 302 unless set; without a port, the scheme's well-known
//     port (left out of Location) or, without a scheme either, the listener's port.
//   - backendRefs: weight 1 unless set. A rule whose backends are all unusable (a Service
//     that does not exist, a kind other than Service, another namespace without a
//     ReferenceGrant, or every weight 0), or that has no backendRefs and no redirect,
//     answers 500, as the Gateway API requires. In a mix, a missing Service's share goes to
//     a cluster without endpoints (503 UH, the proxy's answer for VirtualService
//     destinations), and a refused backend's share to the others.
//   - Filters the proxy cannot perform (ExtensionRef, ExternalAuth, a redirect's
//     ReplacePrefixMatch, per-backend filters) make the rule answer 500 with a note,
//     rather than serve it differently from what was written.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "control/route_compiler.h"
#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

struct ListenerContext {
  uint32_t port = 80;
  bool https = false;
};

// The Gateway API's order of matches on one host, most specific first (Istio's
// sortHTTPRoutes): path exact > prefix > regex, longer paths first; then a method match;
// more header matches; more query parameter matches; then the older route (creation time,
// then namespace/name); then rule and match order.
struct RoutePrecedence {
  int pathRank = 0;  // 3 exact, 2 prefix, 1 regex
  size_t pathLength = 0;
  bool method = false;
  size_t headers = 0;
  size_t queryParams = 0;
  std::string created;
  std::string route;  // "<ns>/<name>"
  size_t rule = 0;
  size_t match = 0;
  size_t part = 0;    // 0: the exact half of a PathPrefix, 1: its prefix half
  bool before(const RoutePrecedence& other) const;
};

struct CompiledHttpRoute {
  weft::v1::Route route;
  RoutePrecedence precedence;
};

// What a backendRef names, once checked against the Services and ReferenceGrants.
struct ResolvedBackend {
  enum class State { kService, kMissingService, kRefused } state = State::kRefused;
  std::string host;   // "<name>.<ns>.svc.cluster.local"
  std::string why;    // for a note, when not kService
};

class HttpRouteCompiler {
 public:
  using ResolveBackend = std::function<ResolvedBackend(const model::Object& route, const boost::json::value& backendRef)>;

  HttpRouteCompiler(RouteCompiler::ClusterFor clusterFor, ResolveBackend resolve, RouteCompiler::Note note)
      : clusterFor_(std::move(clusterFor)), resolve_(std::move(resolve)), note_(std::move(note)) {}

  // Told too of each rule left answering 500 for what it asks that is not served (a filter,
  // a redirect form, a bad timeout), for the route's status (gateway_api_status.h).
  void onUnservedRule(RouteCompiler::Note unserved) { unserved_ = std::move(unserved); }

  std::vector<CompiledHttpRoute> compile(const model::Object& route, const ListenerContext& listener) const;

 private:
  // The rule's action and filters on `base`; false when the rule must answer 500.
  bool compileRule(const model::Object& route, const boost::json::value& rule, const std::string& where, const ListenerContext& listener,
                   weft::v1::Route& base) const;
  void compileBackends(const model::Object& route, const boost::json::value& rule, const std::string& where, weft::v1::Route& base) const;
  void compileMirror(const model::Object& route, const boost::json::value& mirror, const std::string& where, weft::v1::Route& base) const;

  RouteCompiler::ClusterFor clusterFor_;
  ResolveBackend resolve_;
  RouteCompiler::Note note_;
  RouteCompiler::Note unserved_;
  void unservedRule(const model::Object& route, const std::string& what) const {
    note_(route, what);
    if (unserved_) unserved_(route, what);
  }
};

// Shared with the GRPCRoute compiler.
// RequestHeaderModifier / ResponseHeaderModifier (set and add: lists of {name, value};
// remove: names) into header operations, names lower-cased.
void compileHeaderModifier(const boost::json::value& spec, weft::v1::HeaderOperations& out);
// `text` as an RE2 pattern matching itself: metacharacters escaped, nothing else (so a
// path keeps its readable "/" where RE2::QuoteMeta would write "\/").
std::string regexQuote(std::string_view text);

}  // namespace weft::control
