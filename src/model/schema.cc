#include "model/schema.h"

#include <boost/json.hpp>
#include <re2/re2.h>

#include <set>

#include "base/duration.h"
#include "base/k8s_names.h"

namespace weft::model {
namespace {

namespace json = boost::json;

std::string childPath(const std::string& path, std::string_view field) {
  return path.empty() ? std::string(field) : fmt::format("{}.{}", path, field);
}

bool typeMatches(Schema::Type type, const json::value& v) {
  switch (type) {
    case Schema::Type::kString: return v.is_string();
    case Schema::Type::kInt: return v.is_int64() || v.is_uint64();
    case Schema::Type::kNumber: return v.is_number();
    case Schema::Type::kBool: return v.is_bool();
    case Schema::Type::kObject: return v.is_object();
    case Schema::Type::kList: return v.is_array();
    case Schema::Type::kMap: return v.is_object();
    case Schema::Type::kAny: return true;
    case Schema::Type::kIntOrString: return v.is_string() || v.is_int64() || v.is_uint64();
    case Schema::Type::kStringOrList: return v.is_string() || v.is_array();
  }
  return false;
}

const char* typeName(Schema::Type type) {
  switch (type) {
    case Schema::Type::kString: return "a string";
    case Schema::Type::kInt: return "an integer";
    case Schema::Type::kNumber: return "a number";
    case Schema::Type::kBool: return "a boolean";
    case Schema::Type::kObject: return "an object";
    case Schema::Type::kList: return "a list";
    case Schema::Type::kMap: return "a map";
    case Schema::Type::kAny: return "any value";
    case Schema::Type::kIntOrString: return "an integer or a string";
    case Schema::Type::kStringOrList: return "a string or a list";
  }
  return "?";
}

SchemaPtr scalar(Schema::Type type, std::vector<ValueCheck> checks = {}) {
  auto s = std::make_shared<Schema>();
  s->type = type;
  s->checks = std::move(checks);
  return s;
}

// Kubernetes qualified name (label and annotation keys): [prefix/]name, prefix a DNS
// subdomain, name at most 63 of [A-Za-z0-9-_.] starting and ending alphanumeric.
std::optional<std::string> checkQualifiedName(std::string_view key) {
  auto slash = key.find('/');
  std::string_view name = key;
  if (slash != std::string_view::npos) {
    if (auto why = checkDns1123Subdomain(key.substr(0, slash))) return fmt::format("key prefix {}", *why);
    name = key.substr(slash + 1);
  }
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (name.empty() || name.size() > 63) return fmt::format("key \"{}\": name part must be 1-63 characters", key);
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return fmt::format("key \"{}\": name part must consist of alphanumeric characters, '-', '_' or '.'", key);
    }
  }
  if (!alnum(name.front()) || !alnum(name.back())) {
    return fmt::format("key \"{}\": name part must start and end with an alphanumeric character", key);
  }
  return std::nullopt;
}

std::optional<std::string> checkLabelValue(std::string_view value) {
  if (value.empty()) return std::nullopt;
  if (value.size() > 63) return fmt::format("label value \"{}\" must be no more than 63 characters", value);
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (char c : value) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return fmt::format("label value \"{}\" must consist of alphanumeric characters, '-', '_' or '.'", value);
    }
  }
  if (!alnum(value.front()) || !alnum(value.back())) {
    return fmt::format("label value \"{}\" must start and end with an alphanumeric character", value);
  }
  return std::nullopt;
}

}  // namespace

void Reporter::error(const std::string& path, const std::string& pointer, std::string message, bool atKey) {
  errors_.push_back(FieldError{atKey ? positions_.keyAt(pointer) : positions_.at(pointer), path, std::move(message)});
}

Site Site::child(std::string_view field) const {
  static const json::value kNull;
  const json::value* v = &kNull;
  if (value.is_object()) {
    if (auto* found = value.get_object().if_contains(field)) v = found;
  }
  return Site{*v, childPath(path, field), pointerChild(pointer, field), reporter};
}

void Site::fieldError(std::string_view field, std::string message) const {
  reporter.error(childPath(path, field), pointerChild(pointer, field), std::move(message));
}

void Schema::validate(const Site& site) const {
  const json::value& v = site.value;
  if (v.is_null()) return;  // unset; `required` is checked by the parent object
  if (!typeMatches(type, v)) {
    site.error(fmt::format("must be {}, not {}", typeName(type), describeJsonType(v)));
    return;
  }
  for (const auto& check : checks) {
    if (auto why = check(v)) {
      site.error(*why);
      return;
    }
  }
  switch (type) {
    case Type::kObject: {
      const auto& obj = v.get_object();
      for (const auto& [key, child] : obj) {
        bool known = false;
        for (const auto& field : fields) known = known || field.name == key;
        if (!known && !preserveUnknownFields) {
          site.reporter.error(childPath(site.path, key), pointerChild(site.pointer, key), "unknown field", /*atKey=*/true);
        }
      }
      for (const auto& field : fields) {
        Site child = site.child(field.name);
        if (field.required && child.value.is_null()) {
          child.error("required value is missing");
          continue;
        }
        field.schema->validate(child);
      }
      for (const auto& check : objectChecks) check(site);
      break;
    }
    case Type::kList: {
      const auto& array = v.get_array();
      if (array.size() < minItems) site.error(fmt::format("must have at least {} item{}", minItems, minItems == 1 ? "" : "s"));
      std::set<std::string> seen;
      for (size_t i = 0; i < array.size(); ++i) {
        Site item{array[i], fmt::format("{}[{}]", site.path, i), pointerChild(site.pointer, i), site.reporter};
        if (array[i].is_null()) {
          item.error("must not be null");
          continue;
        }
        element->validate(item);
        if (uniqueItems && !seen.insert(json::serialize(array[i])).second) {
          item.error(fmt::format("duplicate value {}", json::serialize(array[i])));
        }
      }
      break;
    }
    case Type::kMap: {
      const auto& obj = v.get_object();
      if (obj.size() < minItems) site.error(fmt::format("must have at least {} entr{}", minItems, minItems == 1 ? "y" : "ies"));
      for (const auto& [key, child] : obj) {
        Site entry{child, fmt::format("{}[{}]", site.path, std::string_view(key)), pointerChild(site.pointer, key), site.reporter};
        if (keyCheck) {
          if (auto why = keyCheck(json::value(key))) {
            site.reporter.error(entry.path, entry.pointer, *why, /*atKey=*/true);
            continue;
          }
        }
        element->validate(entry);
      }
      break;
    }
    default:
      break;
  }
}

// --- builders ---------------------------------------------------------------------------

SchemaPtr str(std::vector<ValueCheck> checks) { return scalar(Schema::Type::kString, std::move(checks)); }

SchemaPtr nonEmptyStr() {
  return str({[](const json::value& v) -> std::optional<std::string> {
    if (v.get_string().empty()) return "must not be empty";
    return std::nullopt;
  }});
}

SchemaPtr integer(int64_t min, int64_t max) {
  return scalar(Schema::Type::kInt, {[min, max](const json::value& v) -> std::optional<std::string> {
    bool inRange = v.is_int64() ? (v.get_int64() >= min && v.get_int64() <= max)
                                : (v.get_uint64() <= static_cast<uint64_t>(max));
    if (!inRange) return fmt::format("must be between {} and {}", min, max);
    return std::nullopt;
  }});
}

SchemaPtr int32() { return integer(INT32_MIN, INT32_MAX); }
SchemaPtr uint32() { return integer(0, UINT32_MAX); }
SchemaPtr number() { return scalar(Schema::Type::kNumber); }
SchemaPtr boolean() { return scalar(Schema::Type::kBool); }
SchemaPtr anyValue() { return scalar(Schema::Type::kAny); }
SchemaPtr intOrString() { return scalar(Schema::Type::kIntOrString); }
SchemaPtr portNumber() { return integer(1, 65535); }

SchemaPtr enumOf(std::initializer_list<const char*> values) {
  std::vector<std::string> allowed(values.begin(), values.end());
  return str({[allowed](const json::value& v) -> std::optional<std::string> {
    for (const auto& a : allowed) {
      if (v.get_string() == a) return std::nullopt;
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return fmt::format("unsupported value \"{}\": must be one of {}", std::string_view(v.get_string()), list);
  }});
}

SchemaPtr duration() {
  return str({[](const json::value& v) -> std::optional<std::string> {
    auto parsed = parseDuration(std::string_view(v.get_string()));
    if (!parsed) return parsed.error().message;
    if (*parsed < std::chrono::milliseconds(1)) return "duration must be at least 1ms";
    return std::nullopt;
  }});
}

SchemaPtr re2Regex() {
  return str({[](const json::value& v) -> std::optional<std::string> {
    RE2::Options options;
    options.set_log_errors(false);
    RE2 re(std::string_view(v.get_string()), options);
    if (!re.ok()) return fmt::format("invalid RE2 regular expression: {}", re.error());
    return std::nullopt;
  }});
}

SchemaPtr dns1123Label() {
  return str({[](const json::value& v) { return checkDns1123Label(std::string_view(v.get_string())); }});
}

SchemaPtr dns1123Subdomain() {
  return str({[](const json::value& v) { return checkDns1123Subdomain(std::string_view(v.get_string())); }});
}

SchemaPtr listOf(SchemaPtr element, size_t minItems, bool unique) {
  auto s = std::make_shared<Schema>();
  s->type = Schema::Type::kList;
  s->element = std::move(element);
  s->minItems = minItems;
  s->uniqueItems = unique;
  return s;
}

SchemaPtr mapOf(SchemaPtr value, ValueCheck keyCheck) {
  auto s = std::make_shared<Schema>();
  s->type = Schema::Type::kMap;
  s->element = std::move(value);
  s->keyCheck = std::move(keyCheck);
  return s;
}

SchemaPtr stringMap() { return mapOf(str()); }

SchemaPtr labelMap() {
  return mapOf(str({[](const json::value& v) { return checkLabelValue(std::string_view(v.get_string())); }}),
               [](const json::value& k) { return checkQualifiedName(std::string_view(k.get_string())); });
}

SchemaPtr annotationMap() {
  return mapOf(str(), [](const json::value& k) { return checkQualifiedName(std::string_view(k.get_string())); });
}

ObjectBuilder& ObjectBuilder::field(std::string name, SchemaPtr schema) {
  schema_->fields.push_back({std::move(name), std::move(schema), false});
  return *this;
}

ObjectBuilder& ObjectBuilder::required(std::string name, SchemaPtr schema) {
  schema_->fields.push_back({std::move(name), std::move(schema), true});
  return *this;
}

ObjectBuilder& ObjectBuilder::check(ObjectCheck check) {
  schema_->objectChecks.push_back(std::move(check));
  return *this;
}

ObjectBuilder& ObjectBuilder::oneOf(std::vector<std::string> names, bool exactlyOne) {
  return check([names, exactlyOne](const Site& site) {
    std::vector<std::string> set;
    for (const auto& n : names) {
      if (isSet(site.value, n)) set.push_back(n);
    }
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    if (set.size() > 1) site.error(fmt::format("only one of {} may be set", list));
    if (exactlyOne && set.empty()) site.error(fmt::format("one of {} must be set", list));
  });
}

ObjectBuilder& ObjectBuilder::preserveUnknownFields() {
  schema_->preserveUnknownFields = true;
  return *this;
}

SchemaPtr ObjectBuilder::build() const { return schema_; }

std::vector<FieldError> validate(const Schema& schema, const Document& document) {
  std::vector<FieldError> errors;
  Reporter reporter(document.positions, errors);
  schema.validate(Site{document.value, "", "", reporter});
  return errors;
}

bool isSet(const json::value& object, std::string_view field) {
  if (!object.is_object()) return false;
  const auto* v = object.get_object().if_contains(field);
  return v != nullptr && !v->is_null();
}

std::string describeJsonType(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return fmt::format("boolean {}", v.get_bool());
    case json::kind::int64:
    case json::kind::uint64: return fmt::format("integer {}", json::serialize(v));
    case json::kind::double_: return fmt::format("number {}", v.get_double());
    case json::kind::string: return fmt::format("string \"{}\"", std::string_view(v.get_string()));
    case json::kind::array: return "a list";
    case json::kind::object: return "an object";
  }
  return "?";
}

}  // namespace weft::model
