#pragma once
// A small schema language for the objects Weft reads, and the validator that walks a
// Document with it. Decoding is strict, as the Kubernetes API server's is: unknown fields,
// wrong types, bad enum values and broken cross-field rules are errors, each reported
// with file:line:column and the field path (spec.http[0].route[0].destination.port.number).
//
// Schemas are built once (static) with the builders below and shared read-only.

#include <boost/json/value.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/document.h"

namespace weft::model {

struct FieldError {
  Position position;
  std::string path;  // spec.http[0].route; empty for the document itself
  std::string message;
};

class Schema;
using SchemaPtr = std::shared_ptr<const Schema>;

// Collects errors while a document is walked. Checks report relative to the node they
// were given, by field name or index.
class Reporter {
 public:
  Reporter(const PositionIndex& positions, std::vector<FieldError>& errors) : positions_(positions), errors_(errors) {}

  void error(const std::string& path, const std::string& pointer, std::string message, bool atKey = false);
  const PositionIndex& positions() const { return positions_; }

 private:
  const PositionIndex& positions_;
  std::vector<FieldError>& errors_;
};

// Where a check runs: the node, its display path and its JSON pointer.
struct Site {
  const boost::json::value& value;
  std::string path;
  std::string pointer;
  Reporter& reporter;

  Site child(std::string_view field) const;  // a field of this object
  void error(std::string message) const { reporter.error(path, pointer, std::move(message)); }
  // Reports on a field of this object, at that field's own position when it exists.
  void fieldError(std::string_view field, std::string message) const;
};

// A check on a value already of the right type: nullopt when fine, else why not.
using ValueCheck = std::function<std::optional<std::string>(const boost::json::value&)>;
// A cross-field rule on an object (oneOf, "only with", ...). Reports through the site.
using ObjectCheck = std::function<void(const Site&)>;

class Schema {
 public:
  enum class Type { kString, kInt, kNumber, kBool, kObject, kList, kMap, kAny, kIntOrString, kStringOrList };

  struct Field {
    std::string name;
    SchemaPtr schema;
    bool required = false;
  };

  Type type = Type::kAny;
  std::vector<Field> fields;            // kObject
  std::vector<ObjectCheck> objectChecks;  // kObject
  bool preserveUnknownFields = false;   // kObject: extra fields allowed (documented at each use)
  SchemaPtr element;                    // kList, kMap values
  ValueCheck keyCheck;                  // kMap keys
  std::vector<ValueCheck> checks;       // any type
  size_t minItems = 0;                  // kList, kMap
  bool uniqueItems = false;             // kList of scalars

  void validate(const Site& site) const;
};

// --- builders ---------------------------------------------------------------------------

SchemaPtr str(std::vector<ValueCheck> checks = {});
SchemaPtr nonEmptyStr();
SchemaPtr integer(int64_t min, int64_t max);
SchemaPtr int32();
SchemaPtr uint32();
SchemaPtr number();
SchemaPtr boolean();
SchemaPtr enumOf(std::initializer_list<const char*> values);
SchemaPtr duration();        // Go duration >= 1ms ("10s", "1.5s", "100ms")
SchemaPtr re2Regex();        // compiled with RE2
SchemaPtr portNumber();      // 1..65535
SchemaPtr intOrString();     // Kubernetes IntOrString (targetPort, maxSurge)
SchemaPtr dns1123Label();
SchemaPtr dns1123Subdomain();
SchemaPtr anyValue();        // free-form: only where the API itself is free-form
SchemaPtr listOf(SchemaPtr element, size_t minItems = 0, bool unique = false);
SchemaPtr mapOf(SchemaPtr value, ValueCheck keyCheck = nullptr);
SchemaPtr stringMap();       // map[string]string
SchemaPtr labelMap();        // Kubernetes label keys and values
SchemaPtr annotationMap();   // Kubernetes annotation keys, any string values

class ObjectBuilder {
 public:
  ObjectBuilder& field(std::string name, SchemaPtr schema);
  ObjectBuilder& required(std::string name, SchemaPtr schema);
  ObjectBuilder& check(ObjectCheck check);
  // At most one of `names` may be set; with `exactlyOne`, one must be.
  ObjectBuilder& oneOf(std::vector<std::string> names, bool exactlyOne = false);
  ObjectBuilder& preserveUnknownFields();
  SchemaPtr build() const;
  operator SchemaPtr() const { return build(); }  // NOLINT: builders read as schemas

 private:
  std::shared_ptr<Schema> schema_ = makeObjectSchema();
  static std::shared_ptr<Schema> makeObjectSchema() {
    auto schema = std::make_shared<Schema>();
    schema->type = Schema::Type::kObject;
    return schema;
  }
};

inline ObjectBuilder object() { return ObjectBuilder{}; }

// Validates `document.value` (or the sub-value at `pointer`) against `schema`.
std::vector<FieldError> validate(const Schema& schema, const Document& document);

// Helpers for object checks.
bool isSet(const boost::json::value& object, std::string_view field);
std::string describeJsonType(const boost::json::value& value);

}  // namespace weft::model
