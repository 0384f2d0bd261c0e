#pragma once
// kubectl's output shapes for `weft get`: tables with each kind's columns, and -o yaml,
// json, name, wide and jsonpath=TEMPLATE.

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "model/object.h"

namespace weft::cli {

struct PrintOptions {
  std::string output;           // "", "wide", "yaml", "json", "name", "jsonpath=..."
  bool allNamespaces = false;   // adds the NAMESPACE column
  bool single = false;          // one named object: yaml/json print it bare, not as a List
  bool noHeaders = false;       // tables without their header line
  SystemTime now;
};

// Columns padded as kubectl pads them (three spaces between columns).
std::string renderTable(const std::vector<std::vector<std::string>>& rows);

Status checkOutputFormat(const std::string& output);
Result<std::string> printObjects(const model::KindInfo& kind, const std::vector<model::Object>& objects, const PrintOptions& options);
// For values without a kind entry (CRDs): yaml, json, jsonpath or a name table.
Result<std::string> printValues(const std::vector<boost::json::value>& values, const std::string& output, bool single,
                                const std::vector<std::string>& tableNames);

}  // namespace weft::cli
