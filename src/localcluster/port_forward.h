#pragma once
// `weft port-forward`: listen on loopback in the host's namespace and relay every
// connection to a port inside a pod's namespace, reached there as 127.0.0.1:<port>, which
// is how kubelet's port-forward reaches a pod (so it works for apps bound to localhost).

#include <functional>
#include <string>

#include "base/result.h"

namespace weft::localcluster {

struct ForwardTarget {
  std::string netns;  // the pod's network namespace (the cluster's own for hostNetwork pods)
  int port = 0;
};

struct ForwardListen {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port
};

// Runs until the process is interrupted. `onListening` gets the bound port; `onConnection`
// is called for each accepted connection.
Status runPortForward(const ForwardListen& listen, const ForwardTarget& target, const std::function<void(int)>& onListening,
                      const std::function<void()>& onConnection);

}  // namespace weft::localcluster
