#pragma once
// kubectl's JSONPath templates (`-o jsonpath='{.spec.versions[*].name}'`): text with
// {expressions}. Supported: .field, ['field'], [N] (negative from the end), [*], [a:b],
// filters [?(@.path=="value")] and [?(@.path)], {range EXPR}...{end}, and {"literal"}.
// Several results of one expression are joined with a space, as kubectl does.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "base/result.h"

namespace weft::model {

Result<std::string> evaluateJsonPath(std::string_view templ, const boost::json::value& root);

}  // namespace weft::model
