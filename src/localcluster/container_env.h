#pragma once
// A container's environment as kubelet builds it: a base PATH and HOSTNAME, then `env`
// in order, with valueFrom resolved from the pod's fields, ConfigMaps and Secrets.

#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "base/result.h"
#include "localcluster/kubelet.h"

namespace weft::localcluster {

struct PodFacts {
  std::string podIp;
  std::string hostIp;
  std::string hostname;
};

// "NAME=value" entries, or the error kubelet reports as CreateContainerConfigError
// (`configmap "x" not found`, `couldn't find key k in Secret ns/name`).
Result<std::vector<std::string>> containerEnv(const model::Object& pod, const boost::json::value& container, const PodFacts& facts,
                                              const EnvSourceLookup& lookup);

}  // namespace weft::localcluster
