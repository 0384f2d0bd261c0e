#pragma once
// A Kubernetes status condition (type, status, reason, message, observedGeneration,
// lastTransitionTime), as weftd writes them on Gateways, their listeners and routes.

#include <cstdint>
#include <string>

#include <boost/json/value.hpp>

namespace weft::control {

// `previous` is what holds the conditions as stored (an object with "conditions"); the
// condition's lastTransitionTime is kept from it while its status holds, else `now` (RFC 3339).
boost::json::object statusCondition(const boost::json::value& previous, const std::string& type, bool ok, const std::string& reason,
                                    const std::string& message, int64_t generation, const std::string& now);

}  // namespace weft::control
