#include "control/status_condition.h"

#include <boost/json.hpp>

#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;

json::object statusCondition(const json::value& previous, const std::string& type, bool ok, const std::string& reason,
                             const std::string& message, int64_t generation, const std::string& now) {
  std::string since = now;
  for (const auto& c : model::arrayAt(previous, {"conditions"})) {
    if (model::stringAt(c, {"type"}) == type && model::stringAt(c, {"status"}) == (ok ? "True" : "False")) {
      std::string kept = model::stringAt(c, {"lastTransitionTime"});
      if (!kept.empty()) since = kept;
    }
  }
  return json::object{{"type", type},       {"status", ok ? "True" : "False"}, {"reason", reason},
                      {"message", message}, {"observedGeneration", generation}, {"lastTransitionTime", since}};
}

}  // namespace weft::control
