#pragma once
// Reading an IstioOperator spec (a JSON object) by path without copying it: model::at
// takes a json::value, and passing it a json::object would read from a temporary copy.

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

namespace weft::install {

// The value at `path` below `spec`; null when absent anywhere along the way.
inline const boost::json::value& specAt(const boost::json::object& spec, std::initializer_list<std::string_view> path) {
  static const boost::json::value null;
  const boost::json::object* current = &spec;
  const boost::json::value* found = &null;
  for (auto key : path) {
    if (current == nullptr) return null;
    found = current->if_contains(key);
    if (found == nullptr) return null;
    current = found->is_object() ? &found->get_object() : nullptr;
  }
  return *found;
}

inline std::string stringIn(const boost::json::object& spec, std::initializer_list<std::string_view> path) {
  const auto& v = specAt(spec, path);
  return v.is_string() ? std::string(v.get_string()) : std::string();
}

// The object at `path`, or an empty object.
inline const boost::json::object& objectIn(const boost::json::object& spec,
                                           std::initializer_list<std::string_view> path) {
  static const boost::json::object empty;
  const auto& v = specAt(spec, path);
  return v.is_object() ? v.get_object() : empty;
}

}  // namespace weft::install
