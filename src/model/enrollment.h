#pragma once
// Which pods are in the ambient mesh. weftd (the registry) and the node agent (the local
// runtime, which captures pods' traffic and hands them to ztunnel) must agree exactly, so
// both ask this one function.

#include <string>

#include "model/object.h"

namespace weft::model {

// A pod is in the mesh when its namespace carries istio.io/dataplane-mode=ambient or
// istio.io/rev=<revision> (or the pod itself carries dataplane-mode=ambient), and the pod
// does not opt out with istio.io/dataplane-mode=none. hostNetwork pods never are: they
// share the node's network namespace, which has nothing to capture.
bool podEnrolled(const Object& pod, const Object* ns, const std::string& revision);

}  // namespace weft::model
