#include "model/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/decoder.h"

namespace weft::model {
namespace {

std::vector<std::string> check(const SchemaPtr& schema, std::string_view yaml) {
  auto docs = readYamlDocuments(yaml, "t.yaml");
  EXPECT_TRUE(docs) << docs.error().message;
  std::vector<std::string> out;
  for (const auto& e : validate(*schema, docs->front())) out.push_back(formatFieldError("t.yaml", e));
  return out;
}

using ::testing::ElementsAre;
using ::testing::IsEmpty;

SchemaPtr destination() {
  return object().required("host", nonEmptyStr()).field("subset", str()).field("port", object().field("number", portNumber()));
}

TEST(Schema, ReportsPathLineAndColumn) {
  auto schema = object().field("route", listOf(object().field("destination", destination())));
  EXPECT_THAT(check(schema, "route:\n- destination:\n    host: a\n    port:\n      number: 70000\n"),
              ElementsAre("t.yaml:5:15: route[0].destination.port.number: must be between 1 and 65535"));
}

TEST(Schema, StrictAboutUnknownFieldsAndTypes) {
  auto schema = object().field("a", str()).field("n", int32()).field("b", boolean());
  EXPECT_THAT(check(schema, "a: x\nextra: 1\n"), ElementsAre("t.yaml:2:1: extra: unknown field"));
  EXPECT_THAT(check(schema, "a: 5\n"), ElementsAre("t.yaml:1:4: a: must be a string, not integer 5"));
  EXPECT_THAT(check(schema, "n: \"5\"\n"), ElementsAre("t.yaml:1:4: n: must be an integer, not string \"5\""));
  EXPECT_THAT(check(schema, "b: yes\n"), ElementsAre("t.yaml:1:4: b: must be a boolean, not string \"yes\""));
  EXPECT_THAT(check(schema, "a: ~\n"), IsEmpty()) << "null is unset";
}

TEST(Schema, RequiredOneOfEnumListsMaps) {
  auto match = object().field("exact", str()).field("prefix", str()).field("regex", re2Regex()).oneOf({"exact", "prefix", "regex"});
  EXPECT_THAT(check(match, "exact: a\nprefix: b\n"), ElementsAre("t.yaml:1:1: only one of exact, prefix, regex may be set"));
  EXPECT_THAT(check(match, "regex: \"a(b\"\n"),
              ElementsAre("t.yaml:1:8: regex: invalid RE2 regular expression: missing ): a(b"));
  EXPECT_THAT(check(destination(), "subset: v1\n"), ElementsAre("t.yaml:1:1: host: required value is missing"));
  EXPECT_THAT(check(object().field("mode", enumOf({"STRICT", "PERMISSIVE"})), "mode: strict\n"),
              ElementsAre("t.yaml:1:7: mode: unsupported value \"strict\": must be one of STRICT, PERMISSIVE"));
  EXPECT_THAT(check(object().field("hosts", listOf(str(), 1, true)), "hosts: [a, a]\n"),
              ElementsAre("t.yaml:1:12: hosts[1]: duplicate value \"a\""));
  EXPECT_THAT(check(object().field("hosts", listOf(str(), 1)), "hosts: []\n"),
              ElementsAre("t.yaml:1:8: hosts: must have at least 1 item"));
  EXPECT_THAT(check(object().field("labels", labelMap()), "labels:\n  \"bad key!\": x\n  ok: \"-v\"\n"),
              ElementsAre("t.yaml:2:3: labels[bad key!]: key \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.'",
                          "t.yaml:3:7: labels[ok]: label value \"-v\" must start and end with an alphanumeric character"));
}

TEST(Schema, DurationsAndPreservedObjects) {
  auto schema = object().field("timeout", duration()).field("free", object().preserveUnknownFields());
  EXPECT_THAT(check(schema, "timeout: 1.5s\nfree: {anything: [1, 2]}\n"), IsEmpty());
  EXPECT_THAT(check(schema, "timeout: 10\n"), ElementsAre("t.yaml:1:10: timeout: must be a string, not integer 10"));
  EXPECT_THAT(check(schema, "timeout: 500us\n"), ElementsAre("t.yaml:1:10: timeout: duration must be at least 1ms"));
  EXPECT_THAT(check(schema, "timeout: 5 s\n"), ElementsAre("t.yaml:1:10: timeout: invalid duration \"5 s\": missing unit (one of ns, us, ms, s, m, h)"));
}

}  // namespace
}  // namespace weft::model
