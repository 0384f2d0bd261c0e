#pragma once
// Reading typed JSON by path without a cascade of null checks: absent anywhere along the
// path reads as null (or an empty string).

#include <boost/json/value.hpp>

#include <boost/json/array.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/result.h"

namespace weft::model {

const boost::json::value& at(const boost::json::value& v, std::initializer_list<std::string_view> path);
std::string stringAt(const boost::json::value& v, std::initializer_list<std::string_view> path);
// An absent or non-array value reads as an empty array.
const boost::json::array& arrayAt(const boost::json::value& v, std::initializer_list<std::string_view> path);
// An absent or non-integer value reads as 0.
int64_t intAt(const boost::json::value& v, std::initializer_list<std::string_view> path);
// A number of any JSON kind (1, 1.5) as a double; absent reads as `otherwise`.
double numberAt(const boost::json::value& v, std::initializer_list<std::string_view> path, double otherwise = 0);

// A Go duration string ("1.5s", "300ms") in milliseconds; absent or "" reads as 0, and an
// unreadable one is an error naming the text.
Result<uint32_t> durationMsAt(const boost::json::value& v, std::initializer_list<std::string_view> path);

}  // namespace weft::model
