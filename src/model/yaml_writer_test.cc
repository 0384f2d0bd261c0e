#include "model/yaml_writer.h"

#include <boost/json.hpp>

#include <cmath>
#include <gtest/gtest.h>

#include "model/document.h"

namespace weft::model {
namespace {

boost::json::value roundTrip(const boost::json::value& v) {
  auto docs = readYamlDocuments(toYaml(v), "rt.yaml");
  EXPECT_TRUE(docs) << docs.error().message << "\n" << toYaml(v);
  return docs->empty() ? boost::json::value() : docs->front().value;
}

TEST(ToYaml, WritesKubectlShape) {
  auto v = boost::json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"httpbin","labels":{"app":"httpbin"}},
    "spec":{"ports":[{"name":"http","port":8000,"targetPort":8080}],"selector":{"app":"httpbin"}}})");
  EXPECT_EQ(toYaml(v),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: httpbin\n  labels:\n    app: httpbin\nspec:\n  ports:\n"
            "  - name: http\n    port: 8000\n    targetPort: 8080\n  selector:\n    app: httpbin\n");
}

TEST(ToYaml, RoundTripsTypesExactly) {
  auto v = boost::json::parse(R"({"a":"80","b":80,"c":"true","d":true,"e":"","f":null,"g":"1.5","h":1.5,"i":"yes","j":"a: b",
    "k":"- x","l":"#c","m":"line\nbreak","n":[],"o":{},"p":[[1,2],["x"]],"q":[{"r":{"s":[1]}}],"t":"~","u":"0x10","v":" pad",
    "w":"istio.io/rev","x":"*.example.com","y":"é ü","z":"1e3","del":"x\u007fy","nel":"a\u0085b","ls":"m\u2028n",
    "c1":"k\u0080","bom":"\ufeffz","quote":"say \"hi\" \\ back","ctl":"\u0001\t","key\u007f":1})");
  v.as_object()["inf"] = HUGE_VAL;
  v.as_object()["-inf"] = -HUGE_VAL;
  EXPECT_EQ(roundTrip(v), v) << toYaml(v);
}

}  // namespace
}  // namespace weft::model
