#pragma once
// Building objects for the local cluster's tests from YAML, through the real decoder.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/decoder.h"

namespace weft::localcluster::testing {

inline std::vector<model::Object> objects(const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {});
  for (const auto& error : decoded.errors) ADD_FAILURE() << error;
  return decoded.objects;
}

inline model::Object object(const std::string& yaml) {
  auto list = objects(yaml);
  EXPECT_EQ(list.size(), 1u);
  return list.at(0);
}

// Sets a field of an object's JSON (status, uid) the way the runtime's writes would.
inline model::Object with(model::Object o, std::initializer_list<std::string_view> path, boost::json::value value) {
  boost::json::value* cur = &o.mutableValue();
  std::vector<std::string_view> keys(path);
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    cur = &cur->as_object()[keys[i]];
    if (cur->is_null()) *cur = boost::json::object();
  }
  cur->as_object()[keys.back()] = std::move(value);
  return o;
}

}  // namespace weft::localcluster::testing
