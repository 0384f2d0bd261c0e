#pragma once
// What `weft wait --for=...` waits for, as kubectl wait reads it:
//   condition=NAME[=VALUE]   a status condition of that type (any case) with that status
//                            (default True, any case); a condition whose observedGeneration
//                            (its own, else status.observedGeneration) is behind
//                            metadata.generation does not count yet
//   delete                   the object is gone
//   create                   the object exists (named ones; with -l or --all, at least one
//                            matching), as kubectl (1.32) has it
//   jsonpath={EXPR}[=VALUE]  the expression gives VALUE (quotes around it dropped), or
//                            (without one) anything at all; "==" in a filter is not the
//                            separator; a template that does not parse is refused at once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "base/result.h"

namespace weft::cli {

struct WaitFor {
  enum class Kind { kCondition, kDelete, kCreate, kJsonPath } kind = Kind::kCondition;
  std::string condition;  // kCondition: the type
  std::string status = "True";
  std::string jsonPath;   // kJsonPath: "{...}"
  std::optional<std::string> value;
};

Result<WaitFor> parseWaitFor(std::string_view text);

// Whether `object` (as stored) meets `wanted`: always for kCreate, never for kDelete (the
// caller checks absence). An error when the jsonpath cannot be evaluated on it.
Result<bool> waitMet(const WaitFor& wanted, const boost::json::value& object);

}  // namespace weft::cli
