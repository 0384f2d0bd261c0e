#include "model/jsonpath.h"

#include <boost/json.hpp>

#include <optional>
#include <variant>
#include <vector>

namespace weft::model {
namespace {

namespace json = boost::json;

struct Field { std::string name; };
struct Index { long index; };
struct Slice { std::optional<long> begin, end; };
struct Wildcard {};
struct Filter { std::string path; std::optional<json::value> equals; bool negate = false; };
using Step = std::variant<Field, Index, Slice, Wildcard, Filter>;

using Nodes = std::vector<const json::value*>;

Result<std::vector<Step>> parsePath(std::string_view expr);

Nodes apply(const std::vector<Step>& steps, Nodes nodes);

Nodes applyStep(const Step& step, const json::value& v) {
  Nodes out;
  if (const auto* f = std::get_if<Field>(&step)) {
    if (v.is_object()) {
      if (const auto* child = v.get_object().if_contains(f->name)) out.push_back(child);
    }
  } else if (const auto* i = std::get_if<Index>(&step)) {
    if (v.is_array()) {
      long n = static_cast<long>(v.get_array().size());
      long at = i->index < 0 ? n + i->index : i->index;
      if (at >= 0 && at < n) out.push_back(&v.get_array()[static_cast<size_t>(at)]);
    }
  } else if (const auto* s = std::get_if<Slice>(&step)) {
    if (v.is_array()) {
      long n = static_cast<long>(v.get_array().size());
      long b = s->begin.value_or(0), e = s->end.value_or(n);
      if (b < 0) b += n;
      if (e < 0) e += n;
      for (long k = std::max(0L, b); k < std::min(n, e); ++k) out.push_back(&v.get_array()[static_cast<size_t>(k)]);
    }
  } else if (std::holds_alternative<Wildcard>(step)) {
    if (v.is_array()) for (const auto& item : v.get_array()) out.push_back(&item);
    if (v.is_object()) for (const auto& [key, item] : v.get_object()) out.push_back(&item);
  } else if (const auto* filter = std::get_if<Filter>(&step)) {
    if (v.is_array()) {
      auto path = parsePath(filter->path);
      for (const auto& item : v.get_array()) {
        Nodes found = path ? apply(*path, {&item}) : Nodes{};
        bool keep = filter->equals ? (!found.empty() && *found.front() == *filter->equals) : !found.empty();
        if (keep != filter->negate) out.push_back(&item);
      }
    }
  }
  return out;
}

Nodes apply(const std::vector<Step>& steps, Nodes nodes) {
  for (const auto& step : steps) {
    Nodes next;
    for (const auto* node : nodes) {
      for (const auto* n : applyStep(step, *node)) next.push_back(n);
    }
    nodes = std::move(next);
  }
  return nodes;
}

Result<json::value> parseLiteral(std::string_view text) {
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') && text.back() == text.front()) {
    return json::value(std::string(text.substr(1, text.size() - 2)));
  }
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return makeError("invalid literal {}", text);
  return v;
}

Result<std::vector<Step>> parsePath(std::string_view expr) {
  std::vector<Step> steps;
  size_t i = 0;
  if (expr.substr(0, 1) == "@" || expr.substr(0, 1) == "$") i = 1;
  while (i < expr.size()) {
    if (expr[i] == '.') {
      ++i;
      // A field name runs to the next unescaped '.' or '['; "\." is a literal dot
      // (kubectl: {.metadata.labels.istio\.io/rev}).
      std::string name;
      while (i < expr.size() && expr[i] != '.' && expr[i] != '[') {
        if (expr[i] == '\\' && i + 1 < expr.size()) ++i;
        name += expr[i++];
      }
      if (name == "*") steps.emplace_back(Wildcard{});
      else if (!name.empty()) steps.emplace_back(Field{name});
      else if (i < expr.size() && expr[i] != '[') return makeError("empty field name in \"{}\"", expr);
    } else if (expr[i] == '[') {
      size_t close = expr.find(']', i);
      if (expr.substr(i, 2) == "[?") close = expr.find(")]", i) == std::string_view::npos ? close : expr.find(")]", i) + 1;
      if (close == std::string_view::npos) return makeError("unterminated [ in \"{}\"", expr);
      auto inner = expr.substr(i + 1, close - i - 1);
      i = close + 1;
      if (inner == "*") {
        steps.emplace_back(Wildcard{});
      } else if (!inner.empty() && (inner.front() == '\'' || inner.front() == '"')) {
        auto literal = parseLiteral(inner);
        if (!literal || !literal->is_string()) return makeError("bad field name {} in \"{}\"", inner, expr);
        steps.emplace_back(Field{std::string(literal->get_string())});
      } else if (inner.substr(0, 2) == "?(" && inner.back() == ')') {
        auto cond = inner.substr(2, inner.size() - 3);
        Filter filter;
        size_t op = cond.find("==");
        size_t neq = cond.find("!=");
        if (neq != std::string_view::npos && (op == std::string_view::npos || neq < op)) {
          op = neq;
          filter.negate = true;
        }
        if (op == std::string_view::npos) {
          filter.path = std::string(cond);
        } else {
          auto lhs = cond.substr(0, op), rhs = cond.substr(op + 2);
          while (!lhs.empty() && lhs.back() == ' ') lhs.remove_suffix(1);
          while (!rhs.empty() && rhs.front() == ' ') rhs.remove_prefix(1);
          auto literal = parseLiteral(rhs);
          if (!literal) return literal.error();
          filter.path = std::string(lhs);
          filter.equals = std::move(literal.value());
        }
        steps.emplace_back(std::move(filter));
      } else if (auto colon = inner.find(':'); colon != std::string_view::npos) {
        Slice slice;
        try {
          if (colon > 0) slice.begin = std::stol(std::string(inner.substr(0, colon)));
          if (colon + 1 < inner.size()) slice.end = std::stol(std::string(inner.substr(colon + 1)));
        } catch (...) {
          return makeError("bad slice [{}] in \"{}\"", inner, expr);
        }
        steps.emplace_back(slice);
      } else {
        try {
          size_t used = 0;
          long index = std::stol(std::string(inner), &used);
          if (used != inner.size()) throw std::invalid_argument("trailing");
          steps.emplace_back(Index{index});
        } catch (...) {
          return makeError("bad index [{}] in \"{}\"", inner, expr);
        }
      }
    } else {
      return makeError("unexpected '{}' in \"{}\"", expr[i], expr);
    }
  }
  return steps;
}

std::string render(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

struct Segment {
  bool expression;
  std::string text;
};

Result<std::vector<Segment>> tokenize(std::string_view templ) {
  std::vector<Segment> out;
  size_t i = 0;
  while (i < templ.size()) {
    size_t open = templ.find('{', i);
    if (open == std::string_view::npos) {
      out.push_back({false, std::string(templ.substr(i))});
      break;
    }
    if (open > i) out.push_back({false, std::string(templ.substr(i, open - i))});
    size_t close = templ.find('}', open);
    if (close == std::string_view::npos) return makeError("unclosed {{ in template \"{}\"", templ);
    out.push_back({true, std::string(templ.substr(open + 1, close - open - 1))});
    i = close + 1;
  }
  return out;
}

Result<std::string> run(const std::vector<Segment>& segments, size_t& at, const json::value& current, bool inRange) {
  std::string out;
  while (at < segments.size()) {
    const auto& seg = segments[at++];
    if (!seg.expression) {
      out += seg.text;
      continue;
    }
    std::string_view expr = seg.text;
    while (!expr.empty() && expr.front() == ' ') expr.remove_prefix(1);
    while (!expr.empty() && expr.back() == ' ') expr.remove_suffix(1);
    if (expr == "end") {
      if (!inRange) return makeError("{{end}} without {{range}}");
      return out;
    }
    if (expr.substr(0, 6) == "range ") {
      auto path = parsePath(expr.substr(6));
      if (!path) return path.error();
      size_t bodyStart = at;
      Nodes items = apply(*path, {&current});
      if (items.empty()) {
        // Skip the body without output.
        size_t skip = bodyStart;
        static const json::value null;
        auto skipped = run(segments, skip, null, true);
        if (!skipped) return skipped.error();
        at = skip;
        continue;
      }
      for (const auto* item : items) {
        at = bodyStart;
        auto body = run(segments, at, *item, true);
        if (!body) return body.error();
        out += *body;
      }
      continue;
    }
    if (!expr.empty() && (expr.front() == '"' || expr.front() == '\'')) {
      auto literal = parseLiteral(expr);
      if (!literal) return literal.error();
      std::string text(literal->get_string());
      // kubectl templates spell newlines and tabs as escapes inside literals.
      for (size_t k = 0; (k = text.find("\\n", k)) != std::string::npos;) text.replace(k, 2, "\n");
      for (size_t k = 0; (k = text.find("\\t", k)) != std::string::npos;) text.replace(k, 2, "\t");
      out += text;
      continue;
    }
    auto path = parsePath(expr);
    if (!path) return path.error();
    Nodes results = apply(*path, {&current});
    for (size_t k = 0; k < results.size(); ++k) out += (k ? " " : "") + render(*results[k]);
  }
  if (inRange) return makeError("{{range}} without {{end}}");
  return out;
}

}  // namespace

Result<std::string> evaluateJsonPath(std::string_view templ, const json::value& root) {
  auto segments = tokenize(templ);
  if (!segments) return segments.error().wrap("error parsing jsonpath");
  size_t at = 0;
  auto out = run(*segments, at, root, false);
  if (!out) return out.error().wrap("error executing jsonpath");
  return out;
}

}  // namespace weft::model
