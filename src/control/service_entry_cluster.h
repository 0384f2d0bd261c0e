#pragma once
// A route's destination that is a ServiceEntry host (Istio's egress and TLS-origination
// tasks route to these from gateways): the cluster's port, protocol and endpoints, as
// Istio's ServiceEntry conversion gives them to Envoy.
//  - The port is a ServiceEntry port by number; its `targetPort` (else the number) is where
//    endpoints listen, unless an endpoint names its own port for that port's name.
//  - GRPC and HTTP2 ports are reached over HTTP/2, like such Service ports.
//  - STATIC (and NONE) endpoints are their `address`es. DNS endpoints that are IP literals
//    are used as they are; names would need resolving where the proxy runs, which is not
//    built, so they are left out with a note (as is a DNS entry without endpoints).
//  - A subset's labels pick among the endpoints' `labels`.
// Not built: workloadSelector, exportTo visibility, Unix-socket endpoints.

#include <functional>
#include <string>

#include <boost/json/value.hpp>

#include "control/registry.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

// The ServiceEntry that lists `host`, or null.
const model::Object* serviceEntryFor(const ObjectsByKind& objects, const std::string& host);
// `port`, or the entry's only port when `port` is 0 (a destination without a port).
uint32_t serviceEntryPort(const model::Object& entry, uint32_t port);
// Fills protocol and endpoints for `port` (the destination rule is the caller's). `subsetLabels`
// null: every endpoint. False when the entry has no such port.
bool fillServiceEntryCluster(const model::Object& entry, uint32_t port, const boost::json::value* subsetLabels, weft::v1::Cluster& cluster,
                             const std::function<void(const std::string&)>& note);

}  // namespace weft::control
