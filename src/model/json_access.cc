#include "model/json_access.h"

#include <algorithm>
#include <limits>

#include <boost/json.hpp>

#include "base/duration.h"

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

const boost::json::array& arrayAt(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  static const boost::json::array none;
  const auto& found = at(v, path);
  return found.is_array() ? found.get_array() : none;
}

int64_t intAt(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  const auto& found = at(v, path);
  if (found.is_int64()) return found.get_int64();
  if (found.is_uint64()) return static_cast<int64_t>(found.get_uint64());
  return 0;
}

double numberAt(const boost::json::value& v, std::initializer_list<std::string_view> path, double otherwise) {
  const auto& found = at(v, path);
  if (found.is_int64()) return static_cast<double>(found.get_int64());
  if (found.is_uint64()) return static_cast<double>(found.get_uint64());
  if (found.is_double()) return found.get_double();
  return otherwise;
}

Result<uint32_t> durationMsAt(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  std::string text = stringAt(v, path);
  if (text.empty()) return 0u;
  auto parsed = parseDuration(text);
  if (!parsed) return parsed.error();
  // Beyond 49 days is "as long as it gets", not a wrap-around to a short time.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed).count();
  return static_cast<uint32_t>(std::min<int64_t>(ms, std::numeric_limits<uint32_t>::max()));
}

}  // namespace weft::model
