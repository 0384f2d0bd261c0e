#include "model/json_access.h"

#include <boost/json.hpp>

namespace weft::model {

const boost::json::value& at(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  static const boost::json::value null;
  const boost::json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return null;
    cur = cur->get_object().if_contains(key);
    if (cur == nullptr) return null;
  }
  return *cur;
}

std::string stringAt(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  const auto& found = at(v, path);
  return found.is_string() ? std::string(found.get_string()) : std::string();
}

}  // namespace weft::model
