#include "model/enrollment.h"

#include <boost/json.hpp>

#include "model/json_access.h"

namespace weft::model {

bool podEnrolled(const Object& pod, const Object* ns, const std::string& revision) {
  if (at(pod.value(), {"spec", "hostNetwork"}) == boost::json::value(true)) return false;
  std::string podMode = pod.label("istio.io/dataplane-mode");
  if (podMode == "none") return false;
  if (podMode == "ambient") return true;
  if (ns == nullptr) return false;
  return ns->label("istio.io/dataplane-mode") == "ambient" || (!revision.empty() && ns->label("istio.io/rev") == revision);
}

}  // namespace weft::model
