#pragma once
// A YAML document as Weft holds it: a typed JSON value (so "80" and 80 stay different, as
// they are to the Kubernetes API server) plus where each field sat in its file, so every
// error can name file, line and column.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace weft::model {

struct Position {
  int line = 0;    // 1-based; 0 when unknown (objects read back from the store)
  int column = 0;  // 1-based
};

// Field locations keyed by JSON pointer ("/spec/http/0/route"). Lookups of a pointer that
// was not recorded fall back to its nearest recorded ancestor.
class PositionIndex {
 public:
  void record(std::string pointer, Position position) { positions_.emplace(std::move(pointer), position); }
  Position at(std::string_view pointer) const;
  // Position of the key of a mapping entry (for "unknown field" errors), when recorded.
  Position keyAt(std::string_view pointer) const;
  void recordKey(std::string pointer, Position position) { keys_.emplace(std::move(pointer), position); }
  bool empty() const { return positions_.empty(); }

 private:
  std::unordered_map<std::string, Position> positions_;
  std::unordered_map<std::string, Position> keys_;
};

struct Document {
  boost::json::value value;
  PositionIndex positions;
  std::string file;  // as the user named it, for messages
  Position start;    // first line of the document
};

// Splits multi-document YAML ("---") into documents. Empty documents are skipped. A YAML
// syntax error, a duplicate key, an alias or a non-scalar mapping key fails the whole
// text with "file:line:column: message".
Result<std::vector<Document>> readYamlDocuments(std::string_view text, const std::string& file);

// YAML 1.2 core schema resolution of a plain (unquoted) scalar: null, boolean, integer
// (decimal, 0o, 0x, and YAML 1.1's leading-0 octal, as kubectl reads it), float, or the
// string itself.
boost::json::value resolvePlainScalar(std::string_view text);

// Appends a JSON pointer segment, escaping '~' and '/' as RFC 6901 requires.
std::string pointerChild(std::string_view parent, std::string_view key);
std::string pointerChild(std::string_view parent, size_t index);

}  // namespace weft::model
