#include "proxy/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace weft::proxy {
namespace {

namespace http = boost::beast::http;

constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, ParsesAValidTraceparentAndRefusesMalformedOnes) {
  auto ids = parseTraceparent(kTraceparent);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ids->spanId, "00f067aa0ba902b7");
  EXPECT_TRUE(ids->sampled);
  EXPECT_FALSE(parseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));  // upper case
  EXPECT_FALSE(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));  // zero trace id
  EXPECT_FALSE(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));  // zero parent
  EXPECT_FALSE(parseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));  // forbidden version
  EXPECT_FALSE(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));  // 00 has no more fields
  EXPECT_FALSE(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01"));  // dash misplaced
  EXPECT_FALSE(parseTraceparent(""));
  // A later version keeps its first four fields and may append more.
  EXPECT_TRUE(parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-the-future-holds"));
  EXPECT_FALSE(parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00x"));
}

TEST(TraceContext, AnIncomingTraceparentIsForwardedUntouchedAndMirroredAsB3) {
  http::fields fields;
  fields.set("traceparent", kTraceparent);
  fields.set("tracestate", "congo=t61rcWkgMzE");
  std::minstd_rand random(7);
  propagateTraceContext(fields, random);
  EXPECT_EQ(fields["traceparent"], kTraceparent);
  EXPECT_EQ(fields["tracestate"], "congo=t61rcWkgMzE");
  EXPECT_EQ(fields["x-b3-traceid"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(fields["x-b3-spanid"], "00f067aa0ba902b7");
  EXPECT_EQ(fields["x-b3-sampled"], "1");
}

TEST(TraceContext, B3IsForwardedUntouchedAndMirroredAsTraceparent) {
  http::fields fields;
  fields.set("x-b3-traceid", "A3CE929D0E0E4736");  // 64-bit, upper case
  fields.set("x-b3-spanid", "00f067aa0ba902b7");
  fields.set("x-b3-parentspanid", "05e3ac9a4f6e3b90");
  fields.set("x-b3-sampled", "1");
  std::minstd_rand random(7);
  propagateTraceContext(fields, random);
  EXPECT_EQ(fields["x-b3-traceid"], "A3CE929D0E0E4736");
  EXPECT_EQ(fields["x-b3-parentspanid"], "05e3ac9a4f6e3b90");
  EXPECT_EQ(fields["traceparent"], "00-0000000000000000a3ce929d0e0e4736-00f067aa0ba902b7-01");

  http::fields single;
  single.set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90");
  propagateTraceContext(single, random);
  EXPECT_EQ(single["traceparent"], "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01");
  EXPECT_EQ(single["b3"], "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90");
}

TEST(TraceContext, ARequestWithoutContextStartsAnUnsampledTraceInBothFormats) {
  http::fields fields;
  std::minstd_rand random(7);
  propagateTraceContext(fields, random);
  auto ids = parseTraceparent(fields["traceparent"]);
  ASSERT_TRUE(ids) << fields["traceparent"];
  EXPECT_FALSE(ids->sampled);
  EXPECT_EQ(fields["x-b3-traceid"], ids->traceId);
  EXPECT_EQ(fields["x-b3-spanid"], ids->spanId);
  EXPECT_EQ(fields["x-b3-sampled"], "0");
  // Two requests, two traces.
  http::fields other;
  propagateTraceContext(other, random);
  EXPECT_NE(other["traceparent"], fields["traceparent"]);
}

TEST(TraceContext, AMalformedTraceparentIsReplacedAndItsTracestateDropped) {
  http::fields fields;
  fields.set("traceparent", "00-not-a-trace-01");
  fields.set("tracestate", "vendor=1");
  std::minstd_rand random(7);
  propagateTraceContext(fields, random);
  EXPECT_TRUE(parseTraceparent(fields["traceparent"]));
  EXPECT_EQ(fields.find("tracestate"), fields.end());
  // Malformed B3 is not trusted either: a fresh trace overwrites it.
  http::fields b3;
  b3.set("x-b3-traceid", "xyz");
  b3.set("x-b3-spanid", "00f067aa0ba902b7");
  propagateTraceContext(b3, random);
  EXPECT_EQ(b3["x-b3-traceid"].size(), 32u);
  EXPECT_EQ(parseTraceparent(b3["traceparent"])->traceId, b3["x-b3-traceid"]);
}

TEST(TraceContext, RequestIdsAreVersion4Uuids) {
  std::minstd_rand random(11);
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string id = newRequestId(random);
    ASSERT_EQ(id.size(), 36u) << id;
    for (size_t at : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[at], '-') << id;
    EXPECT_EQ(id[14], '4') << id;                                         // version 4
    EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;  // variant 10xx
    std::string digits = id;
    std::erase(digits, '-');
    EXPECT_EQ(digits.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(TraceContext, RandomHexUsesEveryDigit) {
  std::minstd_rand random(3);
  std::string out(4096, ' ');
  fillRandomHex(out, random);
  for (char digit : std::string_view("0123456789abcdef")) EXPECT_NE(out.find(digit), std::string::npos) << digit;
  EXPECT_EQ(out.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace weft::proxy
