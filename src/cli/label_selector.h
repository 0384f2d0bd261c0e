#pragma once
// kubectl's -l: equality-based label selectors (key=value, key==value, key!=value, key,
// !key), comma-separated, all of which must hold.

#include <string>
#include <vector>

#include "base/result.h"
#include "model/object.h"

namespace weft::cli {

struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kExists, kNotExists };
  std::string key;
  Op op;
  std::string value;
};

struct LabelSelector {
  std::vector<LabelRequirement> requirements;
  bool matches(const model::Object& object) const;
};

Result<LabelSelector> parseLabelSelector(std::string_view text);

}  // namespace weft::cli
