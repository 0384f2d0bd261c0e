// Fuzzes the path from YAML bytes to validated objects: parsing, scalar typing, position
// tracking, every kind's schema, and writing the result back out as YAML and JSONPath.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/decoder.h"
#include "model/jsonpath.h"
#include "model/yaml_writer.h"

#include <boost/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = weft::model::decodeYaml(input, "fuzz.yaml", {});
  for (const auto& object : decoded.objects) {
    // A decoded object must survive a round trip through the store's YAML form.
    std::string yaml = weft::model::toYaml(object.value());
    auto again = weft::model::decodeYaml(yaml, "roundtrip.yaml", {});
    if (!again.ok() || again.objects.size() != 1 || again.objects.front().value() != object.value()) __builtin_trap();
  }
  // The same bytes as a JSONPath template, against a fixed document.
  static const boost::json::value doc = boost::json::parse(R"({"a":[{"b":1},{"b":"x"}],"c":{"d":true}})");
  (void)weft::model::evaluateJsonPath(input.substr(0, 256), doc);
  return 0;
}
