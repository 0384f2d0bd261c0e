#include "cli/wait_condition.h"

#include <boost/json.hpp>

#include "base/ascii.h"
#include "model/json_access.h"
#include "model/jsonpath.h"

namespace weft::cli {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::stringAt;

Result<WaitFor> parseWaitFor(std::string_view text) {
  WaitFor out;
  if (text == "delete") {
    out.kind = WaitFor::Kind::kDelete;
    return out;
  }
  if (text.starts_with("condition=")) {
    std::string_view rest = text.substr(10);
    if (auto eq = rest.find('='); eq != std::string_view::npos) {
      out.status = std::string(rest.substr(eq + 1));
      rest = rest.substr(0, eq);
    }
    if (rest.empty()) return makeError("--for=condition= needs a condition name, as in --for=condition=Ready");
    out.condition = std::string(rest);
    return out;
  }
  if (text.starts_with("jsonpath=")) {
    out.kind = WaitFor::Kind::kJsonPath;
    std::string_view rest = text.substr(9);
    size_t end = 0;
    if (rest.starts_with("{")) {
      // The expression's own braces (a filter may hold '=' and nested braces do not occur).
      end = rest.find('}');
      if (end == std::string_view::npos) return makeError("--for=jsonpath: unmatched '{{' in {:?}", std::string(rest));
      ++end;
      out.jsonPath = std::string(rest.substr(0, end));
    } else {
      end = rest.find('=');
      if (end == std::string_view::npos) end = rest.size();
      out.jsonPath = "{" + std::string(rest.substr(0, end)) + "}";
    }
    if (out.jsonPath == "{}") return makeError("--for=jsonpath= needs an expression, as in --for=jsonpath='{{.status.phase}}'=Running");
    if (end < rest.size()) {
      if (rest[end] != '=') return makeError("--for=jsonpath: expected '=' after {:?}", out.jsonPath);
      out.value = std::string(rest.substr(end + 1));
    }
    return out;
  }
  return makeError("unrecognized condition: {:?} (use condition=NAME[=VALUE], delete or jsonpath={{EXPR}}[=VALUE])", std::string(text));
}

bool waitMet(const WaitFor& wanted, const json::value& object) {
  switch (wanted.kind) {
    case WaitFor::Kind::kDelete:
      return false;
    case WaitFor::Kind::kJsonPath: {
      auto got = model::evaluateJsonPath(wanted.jsonPath, object);
      if (!got) return false;
      return wanted.value ? *got == *wanted.value : !got->empty();
    }
    case WaitFor::Kind::kCondition:
      break;
  }
  const auto& generation = at(object, {"metadata", "generation"});
  for (const auto& c : arrayAt(object, {"status", "conditions"})) {
    if (asciiLower(stringAt(c, {"type"})) != asciiLower(wanted.condition)) continue;
    const auto& observed = at(c, {"observedGeneration"});
    if (observed.is_int64() && generation.is_int64() && observed.get_int64() < generation.get_int64()) return false;
    return asciiLower(stringAt(c, {"status"})) == asciiLower(wanted.status);
  }
  return false;
}

}  // namespace weft::cli
