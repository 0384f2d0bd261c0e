#include "model/document.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <regex>

namespace weft::model {
namespace {

namespace json = boost::json;

Position positionOf(const YAML::Mark& mark) { return {mark.line + 1, mark.column + 1}; }

Error errorAt(const std::string& file, Position pos, std::string_view message) {
  return makeError("{}:{}:{}: {}", file, pos.line, pos.column, message);
}

bool isNull(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// YAML 1.2 core schema resolution of a plain (unquoted) scalar.
json::value resolvePlainScalar(const std::string& s) {
  if (isNull(s)) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kOct(R"(0o[0-7]+)");
  static const std::regex kHex(R"(0x[0-9a-fA-F]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  try {
    if (std::regex_match(s, kInt)) return static_cast<int64_t>(std::stoll(s));
    if (std::regex_match(s, kOct)) return static_cast<int64_t>(std::stoll(s.substr(2), nullptr, 8));
    if (std::regex_match(s, kHex)) return static_cast<int64_t>(std::stoll(s.substr(2), nullptr, 16));
    if (std::regex_match(s, kFloat)) return std::stod(s);
  } catch (const std::out_of_range&) {
    return json::value(s);  // too large for int64: keep the text; the schema will refuse it with a path
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return HUGE_VAL;
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -HUGE_VAL;
  return json::value(s);
}

struct Converter {
  const std::string& file;
  PositionIndex& positions;
  size_t nodes = 0;

  // Aliases are expanded, so a small text can stand for a huge tree ("billion laughs"):
  // both depth and total size are bounded.
  static constexpr size_t kMaxNodes = 1'000'000;

  Result<json::value> convert(const YAML::Node& node, const std::string& pointer, int depth) {
    if (depth > 64) return errorAt(file, positionOf(node.Mark()), "nesting deeper than 64 levels");
    if (++nodes > kMaxNodes) return errorAt(file, positionOf(node.Mark()), "document has more than 1000000 nodes");
    positions.record(pointer, positionOf(node.Mark()));
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return json::value(nullptr);
      case YAML::NodeType::Scalar: {
        // Tag "!" marks a quoted scalar: always a string. "?" is a plain scalar.
        const std::string& tag = node.Tag();
        if (tag == "!" || tag == "tag:yaml.org,2002:str") return json::value(node.Scalar());
        if (tag == "?" || tag.empty()) return resolvePlainScalar(node.Scalar());
        if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:float" ||
            tag == "tag:yaml.org,2002:null") {
          return resolvePlainScalar(node.Scalar());
        }
        return errorAt(file, positionOf(node.Mark()), fmt::format("unsupported YAML tag {}", tag));
      }
      case YAML::NodeType::Sequence: {
        json::array array;
        size_t index = 0;
        for (const auto& item : node) {
          auto value = convert(item, pointerChild(pointer, index++), depth + 1);
          if (!value) return value.error();
          array.push_back(std::move(value.value()));
        }
        return json::value(std::move(array));
      }
      case YAML::NodeType::Map: {
        json::object object;
        for (const auto& entry : node) {
          const YAML::Node& key = entry.first;
          if (!key.IsScalar()) return errorAt(file, positionOf(key.Mark()), "mapping keys must be strings");
          const std::string& name = key.Scalar();
          if (object.contains(name)) {
            return errorAt(file, positionOf(key.Mark()), fmt::format("duplicate field \"{}\"", name));
          }
          std::string child = pointerChild(pointer, name);
          positions.recordKey(child, positionOf(key.Mark()));
          auto value = convert(entry.second, child, depth + 1);
          if (!value) return value.error();
          object.emplace(name, std::move(value.value()));
        }
        return json::value(std::move(object));
      }
    }
    return json::value(nullptr);
  }
};

}  // namespace

Position PositionIndex::at(std::string_view pointer) const {
  std::string key(pointer);
  for (;;) {
    if (auto found = positions_.find(key); found != positions_.end()) return found->second;
    auto slash = key.rfind('/');
    if (slash == std::string::npos) return {};
    key.resize(slash);
  }
}

Position PositionIndex::keyAt(std::string_view pointer) const {
  if (auto found = keys_.find(std::string(pointer)); found != keys_.end()) return found->second;
  return at(pointer);
}

std::string pointerChild(std::string_view parent, std::string_view key) {
  std::string out(parent);
  out += '/';
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string pointerChild(std::string_view parent, size_t index) { return fmt::format("{}/{}", parent, index); }

Result<std::vector<Document>> readYamlDocuments(std::string_view text, const std::string& file) {
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return errorAt(file, positionOf(e.mark), e.msg);
  }
  std::vector<Document> documents;
  for (const auto& node : nodes) {
    if (node.IsNull()) continue;
    Document doc;
    doc.file = file;
    doc.start = positionOf(node.Mark());
    Converter converter{file, doc.positions};
    auto value = converter.convert(node, "", 0);
    if (!value) return value.error();
    doc.value = std::move(value.value());
    documents.push_back(std::move(doc));
  }
  return documents;
}

}  // namespace weft::model
