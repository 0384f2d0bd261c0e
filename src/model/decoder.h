#pragma once
// From YAML text to validated objects, the way `kubectl apply` and the API server take
// them: every document is checked (apiVersion and kind served, metadata, the kind's
// schema) and every error is reported, not only the first.

#include <string>
#include <vector>

#include "model/object.h"

namespace weft::model {

struct DecodeOptions {
  // The namespace given with -n; objects without one take it. Empty: "default".
  std::string ns;
  // True when -n was given explicitly: a document naming another namespace is then an
  // error, as kubectl makes it.
  bool nsExplicit = false;
};

struct DecodeResult {
  std::vector<Object> objects;
  std::vector<std::string> errors;  // "file:line:column: path: message"
  bool ok() const { return errors.empty(); }
};

DecodeResult decodeYaml(std::string_view text, const std::string& file, const DecodeOptions& options);

// One document already read (the store and tests use it).
DecodeResult decodeDocument(Document document, const DecodeOptions& options);

std::string formatFieldError(const std::string& file, const FieldError& error);

}  // namespace weft::model
