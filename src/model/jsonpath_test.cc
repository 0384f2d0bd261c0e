#include "model/jsonpath.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace weft::model {
namespace {

const boost::json::value& sample() {
  static const auto v = boost::json::parse(R"({
    "spec": {"versions": [{"name": "v1", "served": true}, {"name": "v1beta1", "served": true}, {"name": "v1alpha3", "served": false}]},
    "items": [{"metadata": {"name": "a", "labels": {"istio.io/rev": "prod"}}}, {"metadata": {"name": "b"}}],
    "n": 3})");
  return v;
}

std::string eval(std::string_view t) {
  auto r = evaluateJsonPath(t, sample());
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : "";
}

TEST(JsonPath, KubectlForms) {
  EXPECT_EQ(eval("{.spec.versions[*].name}"), "v1 v1beta1 v1alpha3");
  EXPECT_EQ(eval("{.spec.versions[0].name}"), "v1");
  EXPECT_EQ(eval("{.spec.versions[-1].name}"), "v1alpha3");
  EXPECT_EQ(eval("{.spec.versions[0:2].name}"), "v1 v1beta1");
  EXPECT_EQ(eval("{.spec.versions[?(@.served==true)].name}"), "v1 v1beta1");
  EXPECT_EQ(eval("{.spec.versions[?(@.name==\"v1beta1\")].served}"), "true");
  EXPECT_EQ(eval("{.items[0].metadata.labels.istio\\.io/rev}"), "prod");
  EXPECT_EQ(eval("{.items[0].metadata.labels['istio.io/rev']}"), "prod");
  EXPECT_EQ(eval("{.n}"), "3");
  EXPECT_EQ(eval("{.missing}"), "");
  EXPECT_EQ(eval("{range .items[*]}{.metadata.name}{\"\\n\"}{end}"), "a\nb\n");
  EXPECT_EQ(eval("names: {.items[*].metadata.name}!"), "names: a b!");
  EXPECT_EQ(eval("{.items[1].metadata}"), "{\"name\":\"b\"}");
}

TEST(JsonPath, ErrorsAreClear) {
  EXPECT_EQ(evaluateJsonPath("{.a", sample()).error().message, "error parsing jsonpath: unclosed { in template \"{.a\"");
  EXPECT_FALSE(evaluateJsonPath("{.a[x]}", sample()));
  EXPECT_FALSE(evaluateJsonPath("{range .items[*]}{.a}", sample()));
  EXPECT_FALSE(evaluateJsonPath("{end}", sample()));
}

}  // namespace
}  // namespace weft::model
