// The Go-compatible building blocks: JSON spelling, Go's parsers, URL and multipart
// reading, and the access log line.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "httpbin/access_log.h"
#include "httpbin/go_json.h"
#include "httpbin/go_parse.h"
#include "httpbin/media_type.h"
#include "httpbin/multipart.h"
#include "httpbin/request_echo.h"
#include "httpbin/request_target.h"
#include "httpbin/url_values.h"

namespace weft::httpbin {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string compact(const json::value& value, bool escapeHtml = false) {
  return toGoJson(value, {JsonLayout::kCompact, escapeHtml});
}

TEST(httpbin_parts, GoJsonFloatsAreSpelledAsGoSpellsThem) {
  EXPECT_EQ(compact(1.0), "1");
  EXPECT_EQ(compact(2.5), "2.5");
  EXPECT_EQ(compact(-0.1), "-0.1");
  EXPECT_EQ(compact(1e20), "100000000000000000000");
  EXPECT_EQ(compact(1e21), "1e+21");
  EXPECT_EQ(compact(0.000001), "0.000001");
  EXPECT_EQ(compact(1.5e-7), "1.5e-7");
  EXPECT_EQ(compact(1e-100), "1e-100");
  // Go's 'f' format prints the shortest digits and pads with zeros, not the exact value.
  EXPECT_EQ(compact(12345678901234567890.0), "12345678901234567000");
  EXPECT_EQ(compact(123456.789e3), "123456789");
  EXPECT_EQ(compact(0.00012), "0.00012");
  EXPECT_EQ(compact(json::value(std::int64_t{-42})), "-42");
  EXPECT_EQ(compact(json::value(std::uint64_t{18446744073709551615u})), "18446744073709551615");
}

TEST(httpbin_parts, GoJsonStringsAreEscapedAsGoEscapesThem) {
  EXPECT_EQ(compact("a\"b\\c\n\r\t\b\f"), R"("a\"b\\c\n\r\t\b\f")");
  EXPECT_EQ(compact(json::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\x7f\"");
  EXPECT_EQ(compact("<a&b>"), R"("<a&b>")");
  EXPECT_EQ(compact("<a&b>", true), R"("\u003ca\u0026b\u003e")");
  EXPECT_EQ(compact("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_EQ(compact("\xE2\x80\xA8\xE2\x80\xA9"), R"("\u2028\u2029")");
  // Each invalid byte becomes one U+FFFD: a lone continuation, a truncated sequence, an
  // overlong encoding and an encoded surrogate.
  EXPECT_EQ(compact("a\x80z"), R"("a\ufffdz")");
  EXPECT_EQ(compact("\xE2\x82"), R"("\ufffd\ufffd")");
  EXPECT_EQ(compact("\xC0\xAF"), R"("\ufffd\ufffd")");
  EXPECT_EQ(compact("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");
}

TEST(httpbin_parts, GoJsonIndentedLayoutMatchesMarshalIndent) {
  const json::value value = json::parse(R"({"a":[],"b":{},"c":[1,{"d":null}],"e":true})");
  EXPECT_EQ(toGoJson(value),
            "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": null\n    }\n  ],\n  \"e\": true\n}");
  EXPECT_EQ(compact(value), R"({"a":[],"b":{},"c":[1,{"d":null}],"e":true})");
}

TEST(httpbin_parts, GoJsonDecodesLikeGosDecoderIntoAny) {
  auto decoded = decodeJsonLikeGo(R"( {"z": 1, "a": {"y": 12345678901234567890, "b": -3}, "a": 2} tail)");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(compact(*decoded), R"({"a":2,"z":1})");  // last duplicate wins, keys sorted
  auto nested = decodeJsonLikeGo(R"({"b": {"y": 12345678901234567890, "x": 1}, "a": 1.0})");
  ASSERT_TRUE(nested);
  EXPECT_EQ(compact(*nested), R"({"a":1,"b":{"x":1,"y":12345678901234567000}})");
  EXPECT_TRUE(nested->at("a").is_double());
  EXPECT_EQ(compact(*decodeJsonLikeGo("123abc")), "123");
  EXPECT_FALSE(decodeJsonLikeGo(""));
  EXPECT_FALSE(decodeJsonLikeGo("  "));
  EXPECT_FALSE(decodeJsonLikeGo("[1,"));
  EXPECT_FALSE(decodeJsonLikeGo("1e400"));
  EXPECT_FALSE(decodeJsonLikeGo(std::string(501, '[') + std::string(501, ']')));
  EXPECT_TRUE(decodeJsonLikeGo(std::string(400, '[') + std::string(400, ']')));
}

TEST(httpbin_parts, GoParseAtoiAndParseFloatWordErrorsAsGo) {
  EXPECT_EQ(*goAtoi("42"), 42);
  EXPECT_EQ(*goAtoi("+42"), 42);
  EXPECT_EQ(*goAtoi("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(goAtoi("9223372036854775808").error().message,
            "strconv.Atoi: parsing \"9223372036854775808\": value out of range");
  EXPECT_EQ(goAtoi("").error().message, "strconv.Atoi: parsing \"\": invalid syntax");
  EXPECT_FALSE(goAtoi(" 1"));
  EXPECT_FALSE(goAtoi("1.0"));
  EXPECT_EQ(*goParseFloat("+1.5"), 1.5);
  EXPECT_EQ(*goParseFloat("2e1"), 20);
  EXPECT_FALSE(goParseFloat("1.5s"));
  EXPECT_FALSE(goParseFloat("nan(1)"));
  EXPECT_FALSE(goParseFloat("++1"));
}

TEST(httpbin_parts, GoParseDurationsRoundTripGoSpellings) {
  EXPECT_EQ(*goParseDuration("1.5s"), 1500ms);
  EXPECT_EQ(*goParseDuration("1h2m3.5s"), 1h + 2min + 3500ms);
  EXPECT_EQ(*goParseDuration("300ms"), 300ms);
  EXPECT_EQ(*goParseDuration("2us"), 2us);
  EXPECT_EQ(*goParseDuration("2\xC2\xB5s"), 2us);
  EXPECT_EQ(*goParseDuration("-.5s"), -500ms);
  EXPECT_EQ(*goParseDuration("0"), 0s);
  EXPECT_EQ(goParseDuration("1").error().message, "time: missing unit in duration \"1\"");
  EXPECT_EQ(goParseDuration("1x").error().message, "time: unknown unit \"x\" in duration \"1x\"");
  EXPECT_EQ(goParseDuration(".s").error().message, "time: invalid duration \".s\"");
  EXPECT_FALSE(goParseDuration("9223372036854775808ns"));
  EXPECT_FALSE(goParseDuration(""));

  EXPECT_EQ(goFormatDuration(0s), "0s");
  EXPECT_EQ(goFormatDuration(10s), "10s");
  EXPECT_EQ(goFormatDuration(-1s), "-1s");
  EXPECT_EQ(goFormatDuration(60s), "1m0s");
  EXPECT_EQ(goFormatDuration(3725500ms), "1h2m5.5s");
  EXPECT_EQ(goFormatDuration(1500us), "1.5ms");
  EXPECT_EQ(goFormatDuration(2us), "2\xC2\xB5s");
  EXPECT_EQ(goFormatDuration(7ns), "7ns");
}

TEST(httpbin_parts, UrlValuesParseQueryAsGo) {
  Values values;
  EXPECT_FALSE(parseQueryInto("a=1&b=x+y%21&a=2&&c&=e", values));
  EXPECT_EQ(json::serialize(toJsonObject(values)), R"({"":["e"],"a":["1","2"],"b":["x y!"],"c":[""]})");
  Values partial;
  EXPECT_EQ(parseQueryInto("a=1;b=2&c=%zz&d=4", partial), "invalid semicolon separator in query");
  EXPECT_EQ(json::serialize(toJsonObject(partial)), R"({"d":["4"]})");
  EXPECT_EQ(urlUnescape("%4", false).error().message, "invalid URL escape \"%4\"");
  EXPECT_EQ(*urlUnescape("a+b%2B", false), "a+b+");
}

TEST(httpbin_parts, RequestTargetParsesCleansAndEscapes) {
  auto target = parseRequestTarget("/a%20b/c?x=1");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->path, "/a b/c");
  EXPECT_EQ(target->rawQuery, "x=1");
  EXPECT_EQ(escapedPath(*target), "/a%20b/c");
  auto absolute = parseRequestTarget("https://user@h.example:8443");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->host, "h.example:8443");
  EXPECT_EQ(absolute->path, "");
  EXPECT_FALSE(parseRequestTarget("relative"));
  EXPECT_FALSE(parseRequestTarget("/%zz"));
  EXPECT_EQ(cleanPath("/a//b/./c/../d/"), "/a/b/d/");
  EXPECT_EQ(cleanPath("/.."), "/");
  EXPECT_EQ(cleanPath("/get"), "/get");
}

TEST(httpbin_parts, RequestEchoCanonicalHeaderKeys) {
  EXPECT_EQ(canonicalHeaderKey("x-forwarded-for"), "X-Forwarded-For");
  EXPECT_EQ(canonicalHeaderKey("CONTENT-TYPE"), "Content-Type");
  EXPECT_EQ(canonicalHeaderKey("x--y"), "X--Y");
  EXPECT_EQ(canonicalHeaderKey("bad key"), "bad key");
}

TEST(httpbin_parts, MediaTypeParsesParametersAsGo) {
  auto media = parseMediaType("Multipart/Form-Data; Boundary=\"a b\\\"c\"; x=y;");
  ASSERT_TRUE(media) << media.error().message;
  EXPECT_EQ(media->type, "multipart/form-data");
  EXPECT_EQ(media->params["boundary"], "a b\"c");
  EXPECT_EQ(media->params["x"], "y");
  EXPECT_EQ(parseMediaType("form-data; filename=\"C:\\dir\\a.txt\"")->params["filename"], "C:\\dir\\a.txt");
  EXPECT_FALSE(parseMediaType(""));
  EXPECT_FALSE(parseMediaType("a/"));
  EXPECT_FALSE(parseMediaType("a/b; x"));
  EXPECT_FALSE(parseMediaType("a/b; x=1; x=2"));
}

TEST(httpbin_parts, MultipartReadsPartsWithLfOnlyAndSkipsUnnamedParts) {
  auto form = parseMultipartForm(
      "--b\nContent-Disposition: form-data; name=a\n\n1\n--bogus\n--b \n"
      "Content-Disposition: attachment; name=skipped\n\nx\n--b\n"
      "content-disposition: form-data; name=\"f\"; filename=\"f.bin\"\n\n\n--b--",
      "b");
  ASSERT_TRUE(form) << form.error().message;
  EXPECT_EQ(json::serialize(toJsonObject(form->values)), R"({"a":["1\n--bogus"]})");
  EXPECT_EQ(json::serialize(toJsonObject(form->files)), R"({"f":[""]})");
  EXPECT_TRUE(parseMultipartForm("--b--\r\n", "b"));
  EXPECT_FALSE(parseMultipartForm("", "b"));
  EXPECT_FALSE(parseMultipartForm("--b\r\nno header end", "b"));
  EXPECT_FALSE(parseMultipartForm("--b\r\nBroken header\r\n\r\nx\r\n--b--", "b"));
}

TEST(httpbin_parts, AccessLogLinesAreSlogShapedAndBounded) {
  AccessRecord record;
  record.time = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)) + 7ms;
  record.status = 200;
  record.method = "GET";
  record.uri = "/get?a=1";
  record.sizeBytes = 312;
  record.duration = 1250us;
  record.userAgent = "curl/7.88.1";
  record.clientIp = "10.0.0.7";
  EXPECT_EQ(formatAccessLine(record),
            "time=2026-01-01T00:00:00.007Z level=INFO msg=\"200 GET /get?a=1 1.2ms\" status=200 method=GET "
            "uri=\"/get?a=1\" size_bytes=312 duration_ms=1.250 user_agent=curl/7.88.1 client_ip=10.0.0.7");
  record.status = 404;
  record.userAgent = "";
  record.uri = "/a b=\"c\"";
  const std::string line = formatAccessLine(record);
  EXPECT_NE(line.find("level=WARN"), std::string::npos);
  EXPECT_NE(line.find("uri=\"/a b=\\\"c\\\"\""), std::string::npos) << line;
  EXPECT_NE(line.find("user_agent=\"\""), std::string::npos);
  const std::string hostile(20000, '\x01');
  record.uri = hostile;
  record.userAgent = hostile;
  record.clientIp = hostile;
  EXPECT_LT(formatAccessLine(record).size(), 4000u);
}

}  // namespace
}  // namespace weft::httpbin
