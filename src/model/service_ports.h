#pragma once
// Kubernetes Service port semantics shared by the local cluster's proxy and weftd's
// registry: a Service port's targetPort on a given pod, a port's protocol as Istio reads it
// (appProtocol, else the name's prefix; a ServiceEntry's written protocol), and which pods
// are endpoints.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "model/object.h"

namespace weft::model {

// targetPort: a number, a name looked up among the pod's container ports, or absent (then
// the Service port itself). 0 when the pod has no container port of that name.
int resolveTargetPort(const boost::json::value& servicePort, const Object& pod);

// Istio's protocol selection: appProtocol, else the port name's prefix before '-'
// (http, http2, https, grpc, grpc-web, tcp, tls, mongo, redis, mysql), else TCP.
std::string servicePortProtocol(const boost::json::value& servicePort);
// The same, but empty when neither appProtocol nor the name says: Istio then detects the
// protocol from the first bytes (a waypoint sniffs HTTP; see waypoint_view.cc).
std::string declaredServicePortProtocol(const boost::json::value& servicePort);

// A ServiceEntry port's `protocol`, which Istio reads case-insensitively: the spelling
// servicePortProtocol() uses for a known name ("grpc" is GRPC), TCP when unset, else as
// written.
std::string serviceEntryPortProtocol(const boost::json::value& entryPort);

// Whether a protocol from servicePortProtocol() is HTTP/2 on the wire (GRPC, HTTP2; not
// GRPC-Web, which is HTTP/1.1-friendly by design).
inline bool speaksHttp2(std::string_view protocol) { return protocol == "GRPC" || protocol == "HTTP2"; }

// True when every key=value of `selector` is among the object's labels; an empty selector
// selects nothing (as a Service without selector has no endpoints).
bool selectorMatches(const boost::json::value& selector, const Object& object);

// Whether the pod's Ready condition is True: only ready pods receive a Service's traffic.
bool podReady(const Object& pod);

}  // namespace weft::model
