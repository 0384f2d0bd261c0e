#pragma once
// Typed JSON to YAML text, the inverse of readYamlDocuments: a string that would read
// back as a number, boolean or null is quoted, so a round trip never changes a type.

#include <boost/json/value.hpp>

#include <string>

namespace weft::model {

std::string toYaml(const boost::json::value& value);

}  // namespace weft::model
