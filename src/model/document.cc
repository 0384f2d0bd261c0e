#include "model/document.h"

#include <yaml.h>

#include <cmath>
#include <map>

namespace weft::model {
namespace {

namespace json = boost::json;

// libyaml, not yaml-cpp: yaml-cpp 0.7 (Debian 12) loops forever on inputs as small as
// ",{" (found by fuzz/yaml_objects_fuzzer), and the control plane reads untrusted YAML.

Position positionOf(const yaml_mark_t& mark) { return {static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1}; }

Error errorAt(const std::string& file, Position pos, std::string_view message) {
  return makeError("{}:{}:{}: {}", file, pos.line, pos.column, message);
}

std::string tagOf(const yaml_char_t* tag) { return tag ? reinterpret_cast<const char*>(tag) : ""; }

// Owns one libyaml event at a time.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { clear(); }
  void clear() {
    if (filled_) yaml_event_delete(&event_);
    filled_ = false;
  }
  yaml_event_t* fill() {
    clear();
    filled_ = true;
    return &event_;
  }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_{};
  bool filled_ = false;
};

class Reader {
 public:
  Reader(std::string_view text, const std::string& file) : file_(file) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~Reader() { yaml_parser_delete(&parser_); }
  void setPositions(PositionIndex* positions) {
    positions_ = positions;
    anchors_.clear();
  }

  Status next(Event& event) {
    if (yaml_parser_parse(&parser_, event.fill()) != 1) {
      std::string problem = parser_.problem ? parser_.problem : "malformed YAML";
      if (parser_.context) problem += fmt::format(" ({})", parser_.context);
      return errorAt(file_, positionOf(parser_.problem_mark), problem);
    }
    return {};
  }

  // Builds the node that starts with `event` (already read).
  Result<json::value> node(Event& event, const std::string& pointer, int depth) {
    Position at = positionOf(event->start_mark);
    if (depth > 64) return errorAt(file_, at, "nesting deeper than 64 levels");
    if (++nodes_ > kMaxNodes) return errorAt(file_, at, "document has more than 1000000 nodes");
    positions_->record(pointer, at);
    switch (event->type) {
      case YAML_ALIAS_EVENT: {
        auto found = anchors_.find(reinterpret_cast<const char*>(event->data.alias.anchor));
        if (found == anchors_.end()) return errorAt(file_, at, "unknown alias");
        // Aliases are expanded, so a small text can stand for a huge tree ("billion
        // laughs"): an expansion counts all the nodes it copies.
        nodes_ += found->second.nodes;
        if (nodes_ > kMaxNodes) return errorAt(file_, at, "document has more than 1000000 nodes");
        return found->second.value;
      }
      case YAML_SCALAR_EVENT: {
        const auto& scalar = event->data.scalar;
        std::string text(reinterpret_cast<const char*>(scalar.value), scalar.length);
        std::string tag = tagOf(scalar.tag);
        json::value value;
        if (tag.empty()) {
          value = scalar.style == YAML_PLAIN_SCALAR_STYLE ? resolvePlainScalar(text) : json::value(text);
        } else if (tag == "!" || tag == "tag:yaml.org,2002:str") {
          value = json::value(text);
        } else if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:float" ||
                   tag == "tag:yaml.org,2002:null") {
          value = resolvePlainScalar(text);
        } else {
          return errorAt(file_, at, fmt::format("unsupported YAML tag {}", tag));
        }
        remember(scalar.anchor, value, 1);
        return value;
      }
      case YAML_SEQUENCE_START_EVENT: {
        std::string tag = tagOf(event->data.sequence_start.tag);
        if (!tag.empty() && tag != "tag:yaml.org,2002:seq") return errorAt(file_, at, fmt::format("unsupported YAML tag {}", tag));
        std::string anchor = event->data.sequence_start.anchor ? reinterpret_cast<const char*>(event->data.sequence_start.anchor) : "";
        size_t before = nodes_;
        json::array array;
        for (size_t index = 0;; ++index) {
          Event child;
          WEFT_TRY(next(child));
          if (child->type == YAML_SEQUENCE_END_EVENT) break;
          auto value = node(child, pointerChild(pointer, index), depth + 1);
          if (!value) return value.error();
          array.push_back(std::move(value.value()));
        }
        json::value value(std::move(array));
        if (!anchor.empty()) anchors_[anchor] = Anchored{value, nodes_ - before};
        return value;
      }
      case YAML_MAPPING_START_EVENT: {
        std::string tag = tagOf(event->data.mapping_start.tag);
        if (!tag.empty() && tag != "tag:yaml.org,2002:map") return errorAt(file_, at, fmt::format("unsupported YAML tag {}", tag));
        std::string anchor = event->data.mapping_start.anchor ? reinterpret_cast<const char*>(event->data.mapping_start.anchor) : "";
        size_t before = nodes_;
        json::object object;
        for (;;) {
          Event key;
          WEFT_TRY(next(key));
          if (key->type == YAML_MAPPING_END_EVENT) break;
          Position keyAt = positionOf(key->start_mark);
          if (key->type != YAML_SCALAR_EVENT) return errorAt(file_, keyAt, "mapping keys must be strings");
          std::string name(reinterpret_cast<const char*>(key->data.scalar.value), key->data.scalar.length);
          if (object.contains(name)) return errorAt(file_, keyAt, fmt::format("duplicate field \"{}\"", name));
          std::string child = pointerChild(pointer, name);
          positions_->recordKey(child, keyAt);
          Event valueEvent;
          WEFT_TRY(next(valueEvent));
          auto value = node(valueEvent, child, depth + 1);
          if (!value) return value.error();
          object.emplace(name, std::move(value.value()));
        }
        json::value value(std::move(object));
        if (!anchor.empty()) anchors_[anchor] = Anchored{value, nodes_ - before};
        return value;
      }
      default:
        return errorAt(file_, at, "unexpected YAML event");
    }
  }

 private:
  struct Anchored {
    json::value value;
    size_t nodes;
  };
  static constexpr size_t kMaxNodes = 1'000'000;

  void remember(const yaml_char_t* anchor, const json::value& value, size_t nodes) {
    if (anchor) anchors_[reinterpret_cast<const char*>(anchor)] = Anchored{value, nodes};
  }

  yaml_parser_t parser_{};
  const std::string& file_;
  PositionIndex* positions_ = nullptr;
  std::map<std::string, Anchored> anchors_;
  size_t nodes_ = 0;
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// [0-9]+ starting at `i`; returns the index after it, or npos when there is none.
size_t digitsFrom(std::string_view s, size_t i) {
  size_t start = i;
  while (i < s.size() && isDigit(s[i])) ++i;
  return i == start ? std::string_view::npos : i;
}

bool allOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, written out: std::regex was a tenth
// of the time of applying 10,000 objects.
bool isYamlFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (i < s.size() && s[i] == '.') {
    i = digitsFrom(s, i + 1);
  } else {
    i = digitsFrom(s, i);
    if (i != std::string_view::npos && i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && isDigit(s[i])) ++i;
    }
  }
  if (i == std::string_view::npos) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    i = digitsFrom(s, i);
    if (i == std::string_view::npos) return false;
  }
  return i == s.size();
}

}  // namespace

json::value resolvePlainScalar(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string text(s);
  try {
    std::string_view unsigned_ = s.substr(s[0] == '-' || s[0] == '+' ? 1 : 0);
    // A leading 0 makes an octal integer in YAML 1.1, which is how kubectl reads YAML
    // (defaultMode: 0644 is 420). Reading it as decimal would silently change the value.
    if (unsigned_.size() > 1 && unsigned_[0] == '0' && allOf(unsigned_, [](char c) { return c >= '0' && c <= '7'; })) {
      return static_cast<int64_t>(std::stoll(text, nullptr, 8));
    }
    if (allOf(unsigned_, isDigit)) return static_cast<int64_t>(std::stoll(text));
    if (s.size() > 2 && s.substr(0, 2) == "0o" && allOf(s.substr(2), [](char c) { return c >= '0' && c <= '7'; })) {
      return static_cast<int64_t>(std::stoll(text.substr(2), nullptr, 8));
    }
    if (s.size() > 2 && s.substr(0, 2) == "0x" && allOf(s.substr(2), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
      return static_cast<int64_t>(std::stoll(text.substr(2), nullptr, 16));
    }
    if (isYamlFloat(s)) return std::stod(text);
  } catch (const std::out_of_range&) {
    return json::value(text);  // too large for int64: keep the text; the schema will refuse it with a path
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return HUGE_VAL;
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -HUGE_VAL;
  return json::value(text);
}

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
  Reader reader(text, file);
  std::vector<Document> documents;
  Event event;
  WEFT_TRY(reader.next(event));  // stream start
  for (;;) {
    WEFT_TRY(reader.next(event));
    if (event->type == YAML_STREAM_END_EVENT) break;
    if (event->type != YAML_DOCUMENT_START_EVENT) return errorAt(file, positionOf(event->start_mark), "expected a document");
    Document doc;
    doc.file = file;
    reader.setPositions(&doc.positions);
    Event root;
    WEFT_TRY(reader.next(root));
    doc.start = positionOf(root->start_mark);
    auto value = reader.node(root, "", 0);
    if (!value) return value.error();
    WEFT_TRY(reader.next(event));  // document end
    if (value->is_null()) continue;  // an empty document ("---" twice)
    doc.value = std::move(value.value());
    documents.push_back(std::move(doc));
  }
  return documents;
}

}  // namespace weft::model
