#pragma once
// Reading typed JSON by path without a cascade of null checks: absent anywhere along the
// path reads as null (or an empty string).

#include <boost/json/value.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace weft::model {

const boost::json::value& at(const boost::json::value& v, std::initializer_list<std::string_view> path);
std::string stringAt(const boost::json::value& v, std::initializer_list<std::string_view> path);

}  // namespace weft::model
