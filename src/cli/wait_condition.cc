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

namespace {

// kubectl's split of "EXPR=VALUE": at the first '=' that is not part of "==" (a filter's
// comparison) and not inside the expression's braces.
size_t valueSeparator(std::string_view text) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{') ++depth;
    if (c == '}') --depth;
    if (c != '=' || depth > 0) continue;
    if (i + 1 < text.size() && text[i + 1] == '=') {
      ++i;
      continue;
    }
    if (i > 0 && (text[i - 1] == '=' || text[i - 1] == '!')) continue;
    return i;
  }
  return std::string_view::npos;
}

std::string unquoted(std::string_view value) {
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') && value.back() == value.front()) value = value.substr(1, value.size() - 2);
  return std::string(value);
}

}  // namespace

Result<WaitFor> parseWaitFor(std::string_view text) {
  WaitFor out;
  if (asciiLower(text) == "delete") {
    out.kind = WaitFor::Kind::kDelete;
    return out;
  }
  if (asciiLower(text) == "create") {
    out.kind = WaitFor::Kind::kCreate;
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
    size_t eq = valueSeparator(rest);
    std::string_view expression = rest.substr(0, eq);
    if (expression.empty() || expression == "{}") {
      return makeError("--for=jsonpath= needs an expression, as in --for=jsonpath='{{.status.phase}}'=Running");
    }
    out.jsonPath = expression.front() == '{' ? std::string(expression) : "{" + std::string(expression) + "}";
    // One expression, as kubectl's relaxed JSONPath takes it: no text around its braces.
    if (out.jsonPath.find('}') != out.jsonPath.size() - 1 || out.jsonPath.rfind('{') != 0) {
      return makeError("--for=jsonpath: {:?} is not one {{EXPR}} expression", out.jsonPath);
    }
    // A template that does not parse is an error now, not a wait until the timeout.
    if (auto checked = model::evaluateJsonPath(out.jsonPath, json::object{}); !checked) return checked.error().wrap("--for=jsonpath");
    if (eq != std::string_view::npos) {
      out.value = unquoted(rest.substr(eq + 1));
      if (out.value->empty()) return makeError("--for=jsonpath: the value after '=' is empty (leave out '=' to wait for any value)");
    }
    return out;
  }
  return makeError("unrecognized condition: {:?} (use condition=NAME[=VALUE], create, delete or jsonpath={{EXPR}}[=VALUE])", std::string(text));
}

Result<bool> waitMet(const WaitFor& wanted, const json::value& object) {
  switch (wanted.kind) {
    case WaitFor::Kind::kDelete:
      return false;
    case WaitFor::Kind::kCreate:
      return true;
    case WaitFor::Kind::kJsonPath: {
      auto got = model::evaluateJsonPath(wanted.jsonPath, object);
      if (!got) return got.error().wrap("--for=jsonpath");
      return wanted.value ? *got == *wanted.value : !got->empty();
    }
    case WaitFor::Kind::kCondition:
      break;
  }
  const auto& generation = at(object, {"metadata", "generation"});
  for (const auto& c : arrayAt(object, {"status", "conditions"})) {
    if (asciiLower(stringAt(c, {"type"})) != asciiLower(wanted.condition)) continue;
    // A condition written for an older generation is not an answer yet: its own
    // observedGeneration, else the status's (Deployments keep it there), as kubectl reads.
    const auto& own = at(c, {"observedGeneration"});
    const auto& observed = own.is_int64() ? own : at(object, {"status", "observedGeneration"});
    if (observed.is_int64() && generation.is_int64() && observed.get_int64() < generation.get_int64()) return false;
    return asciiLower(stringAt(c, {"status"})) == asciiLower(wanted.status);
  }
  return false;
}

}  // namespace weft::cli
