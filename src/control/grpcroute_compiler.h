#pragma once
// A Gateway API GRPCRoute's rules compiled into weft.v1.Route messages, the way
// httproute_compiler.cc compiles HTTPRoutes (gateway_api_view.cc attaches both to a
// Gateway's listeners, intersects hostnames and orders the routes of a host together).
//
// gRPC is HTTP/2 with a path of "/<service>/<method>", so a method match becomes a path
// match, as Istio converts it (pilot/pkg/config/kube/gateway/conversion.go,
// createGRPCURIMatch):
//   Exact, service and method      exact  "/<service>/<method>"
//   Exact, service only            prefix "/<service>/"
//   Exact, method only             regex  "/[^/]+/<method>"
//   RegularExpression              regex  "/<service or [^/]+>/<method or [^/]+>"
//   no method match                any path
// Header matches are Exact or RegularExpression, names case-insensitive. Filters:
// RequestHeaderModifier, ResponseHeaderModifier, RequestMirror; any other (ExtensionRef,
// per-backend filters) makes the rule answer 500 with a note, as an unusable backend set
// does. Routes get Istio's default retry policy (GRPCRoute has no retry or timeout field).
//
// Every cluster a GRPCRoute sends to, mirrors included, is reached over HTTP/2 whatever
// its Service port is named: `http2Clusters` lists them for the caller to mark.

#include <set>
#include <string>
#include <vector>

#include "control/httproute_compiler.h"

namespace weft::control {

class GrpcRouteCompiler {
 public:
  GrpcRouteCompiler(RouteCompiler::ClusterFor clusterFor, HttpRouteCompiler::ResolveBackend resolve, RouteCompiler::Note note)
      : clusterFor_(std::move(clusterFor)), resolve_(std::move(resolve)), note_(std::move(note)) {}

  // Told too of each rule left answering 500 for what it asks that is not served (a filter,
  // a redirect form, a bad timeout), for the route's status (gateway_api_status.h).
  void onUnservedRule(RouteCompiler::Note unserved) { unserved_ = std::move(unserved); }

  // Routes with the same precedence rules as HTTPRoutes' (a method match ranks as the
  // path match it becomes).
  std::vector<CompiledHttpRoute> compile(const model::Object& route, std::set<std::string>& http2Clusters) const;

 private:
  bool compileRule(const model::Object& route, const boost::json::value& rule, const std::string& where, weft::v1::Route& base,
                   std::set<std::string>& http2Clusters) const;

  RouteCompiler::ClusterFor clusterFor_;
  HttpRouteCompiler::ResolveBackend resolve_;
  RouteCompiler::Note note_;
  RouteCompiler::Note unserved_;
  void unservedRule(const model::Object& route, const std::string& what) const {
    note_(route, what);
    if (unserved_) unserved_(route, what);
  }
};

}  // namespace weft::control
