#include "install/set_flag.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace weft::install {
namespace {

namespace json = boost::json;

json::object applied(std::initializer_list<std::string_view> flags, json::object spec = {}) {
  for (auto flag : flags) {
    auto status = applySetFlag(spec, flag);
    EXPECT_TRUE(status.ok()) << flag << ": " << status.error().message;
  }
  return spec;
}

std::string failure(std::string_view flag, json::object spec = {}) {
  auto status = applySetFlag(spec, flag);
  EXPECT_FALSE(status.ok()) << flag;
  return status.ok() ? "" : status.error().message;
}

TEST(SetFlag, TypesValuesAsIstioctlDoes) {
  EXPECT_EQ(parseSetValue("3"), json::value(3));
  EXPECT_EQ(parseSetValue("-12"), json::value(-12));
  EXPECT_EQ(parseSetValue("0.5"), json::value(0.5));
  EXPECT_EQ(parseSetValue("1e3"), json::value(1000.0));
  EXPECT_EQ(parseSetValue("true"), json::value(true));
  EXPECT_EQ(parseSetValue("False"), json::value(false));
  EXPECT_EQ(parseSetValue("t"), json::value(true));  // Go's strconv.ParseBool
  EXPECT_EQ(parseSetValue("debug"), json::value("debug"));
  EXPECT_EQ(parseSetValue(""), json::value(""));
  EXPECT_EQ(parseSetValue("inf"), json::value("inf"));
  EXPECT_EQ(parseSetValue("1.2.3"), json::value("1.2.3"));
  EXPECT_EQ(parseSetValue("a\\,b\\,c"), json::value("a,b,c"));
}

TEST(SetFlag, SetsFieldsCreatingParents) {
  auto spec = applied({"meshConfig.trustDomain=acme.local", "spec.values.global.proxy.logLevel=debug",
                       "components.pilot.enabled=false", "values.pilot.replicaCount = 2"});
  EXPECT_EQ(
      json::serialize(spec),
      R"({"meshConfig":{"trustDomain":"acme.local"},"values":{"global":{"proxy":{"logLevel":"debug"}},"pilot":{"replicaCount":2}},)"
      R"("components":{"pilot":{"enabled":false}}})");
}

TEST(SetFlag, KeepsIstioctlsAlwaysStringFieldsAsStrings) {
  auto spec =
      applied({"meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE=true", "compatibilityVersion=1.20"});
  EXPECT_EQ(spec.at("meshConfig").at("defaultConfig").at("proxyMetadata").at("ISTIO_META_DNS_CAPTURE"),
            json::value("true"));
  EXPECT_EQ(spec.at("compatibilityVersion"), json::value("1.20"));
}

TEST(SetFlag, AddressesListElementsByIndexAndByField) {
  auto spec = applied({"components.ingressGateways[0].name=a", "components.ingressGateways[0].enabled=true",
                       "components.ingressGateways[7].name=b",  // past the end: appended
                       "components.ingressGateways[name:b].label.istio=custom",
                       "components.ingressGateways.[1].namespace=edge"});  // istioctl's own spelling
  EXPECT_EQ(
      json::serialize(spec.at("components")),
      R"({"ingressGateways":[{"name":"a","enabled":true},{"name":"b","label":{"istio":"custom"},"namespace":"edge"}]})");
}

TEST(SetFlag, ReplacesAWholeValue) {
  auto spec = applied({"meshConfig.trustDomain=a", "meshConfig.trustDomain=b"});
  EXPECT_EQ(spec.at("meshConfig").at("trustDomain"), json::value("b"));
}

TEST(SetFlag, ReportsBadFlags) {
  EXPECT_EQ(failure("meshConfig.trustDomain"), "--set \"meshConfig.trustDomain\": expected path=value");
  EXPECT_EQ(failure("=x"), "--set \"=x\": the path is empty");
  EXPECT_EQ(failure("spec.=x"), "--set \"spec.=x\": the path is empty");
  EXPECT_EQ(failure("a..b=1"), "--set \"a..b=1\": empty path segment in \"a..b\"");
  EXPECT_EQ(failure("a.b.=1"), "--set \"a.b.=1\": empty path segment in \"a.b.\"");
  EXPECT_EQ(failure("a[0=1"), "--set \"a[0=1\": unclosed '[' in \"a[0\"");
  EXPECT_EQ(failure("a[x]=1"), "--set \"a[x]=1\": [x] is not a list selector: expected [index] or [field:value]");
  EXPECT_EQ(failure("a[0]b=1"), "--set \"a[0]b=1\": expected '.' or '[' after \"a[0]\" in \"a[0]b\"");
  EXPECT_EQ(failure("[0]=1"), "--set \"[0]=1\": the path must start with a field name");
}

TEST(SetFlag, RefusesToDescendIntoAScalarOrTheWrongCollection) {
  json::object spec{{"meshConfig", json::object{{"trustDomain", "a"}}}};
  EXPECT_EQ(failure("meshConfig.trustDomain.x=1", spec),
            "--set \"meshConfig.trustDomain.x=1\": meshConfig.trustDomain is a string, not an object");
  EXPECT_EQ(failure("meshConfig[0]=1", spec), "--set \"meshConfig[0]=1\": meshConfig is an object, not a list");
  EXPECT_EQ(failure("components.ingressGateways[name:x].enabled=true"),
            "--set \"components.ingressGateways[name:x].enabled=true\": components.ingressGateways has no element "
            "whose name is \"x\"");
  json::object gateways{{"components", json::object{{"ingressGateways", json::array{json::object{{"name", "a"}}}}}}};
  EXPECT_EQ(failure("components.ingressGateways[name:x].enabled=true", gateways),
            "--set \"components.ingressGateways[name:x].enabled=true\": components.ingressGateways has no element "
            "whose name is \"x\"");
}

TEST(SetFlag, LeavesTheSpecUnchangedOnFailure) {
  json::object spec{{"meshConfig", json::object{{"trustDomain", "a"}}}};
  EXPECT_FALSE(applySetFlag(spec, "values.gateways[name:x].enabled=1").ok());
  EXPECT_EQ(json::serialize(spec), R"({"meshConfig":{"trustDomain":"a"}})");
}

TEST(SetFlag, FindsTheLastValueGivenToAPath) {
  EXPECT_EQ(lastSetFlagValue({"profile=demo", "meshConfig.trustDomain=x", "spec.profile = minimal"}, "profile"),
            "minimal");
  EXPECT_EQ(lastSetFlagValue({"profile", "revision=a"}, "profile"), std::nullopt);
}

}  // namespace
}  // namespace weft::install
