// Every endpoint called as a function: status, headers and JSON shape as go-httpbin v2
// answers them, and the refusals of malformed input.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "httpbin/endpoints.h"

namespace weft::httpbin {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

Request makeRequest(std::string method, std::string target, std::vector<Header> headers = {}, std::string body = {}) {
  Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.headers.push_back({"Host", "httpbin:8000"});
  for (Header& header : headers) request.headers.push_back(std::move(header));
  request.body = std::move(body);
  request.remoteIp = "10.0.0.7";
  return request;
}

Response call(const Request& request) {
  Settings settings;
  settings.hostname = "httpbin-7d4f-x2x9z";
  std::mt19937_64 random(42);
  return handleRequest(request, settings, random);
}

Response get(std::string target, std::vector<Header> headers = {}) {
  return call(makeRequest("GET", std::move(target), std::move(headers)));
}

json::object bodyOf(const Response& response) {
  EXPECT_EQ(response.body.back(), '\n');
  return json::parse(response.body).as_object();
}

std::vector<std::string> keysOf(const json::object& object) {
  std::vector<std::string> keys;
  for (const auto& member : object) keys.emplace_back(member.key());
  return keys;
}

std::string headerOf(const Response& response, std::string_view name) {
  const std::string* value = response.header(name);
  return value == nullptr ? "<absent>" : *value;
}

const std::vector<std::string> kNoBodyKeys = {"args", "headers", "method", "origin", "url"};
const std::vector<std::string> kBodyKeys = {"args", "headers", "method", "origin", "url", "data", "files", "form", "json"};

TEST(httpbin_endpoints, GetEchoesTheRequestInGoHttpbinsShape) {
  Response response = get("/get?b=2&a=1&a=3", {{"user-agent", "curl/8.0"}, {"Accept", "*/*"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(headerOf(response, "Content-Type"), "application/json; charset=utf-8");
  const json::object body = bodyOf(response);
  EXPECT_EQ(keysOf(body), kNoBodyKeys);
  EXPECT_EQ(json::serialize(body.at("args")), R"({"a":["1","3"],"b":["2"]})");
  EXPECT_EQ(json::serialize(body.at("headers")),
            R"({"Accept":["*/*"],"Host":["httpbin:8000"],"User-Agent":["curl/8.0"]})");
  EXPECT_EQ(body.at("method"), "GET");
  EXPECT_EQ(body.at("origin"), "10.0.0.7");
  EXPECT_EQ(body.at("url"), "http://httpbin:8000/get?b=2&a=1&a=3");
}

TEST(httpbin_endpoints, GetIsGoIndentedJsonByteForByte) {
  Response response = get("/get?x=1", {{"Accept", "*/*"}});
  EXPECT_EQ(response.body,
            "{\n"
            "  \"args\": {\n"
            "    \"x\": [\n"
            "      \"1\"\n"
            "    ]\n"
            "  },\n"
            "  \"headers\": {\n"
            "    \"Accept\": [\n"
            "      \"*/*\"\n"
            "    ],\n"
            "    \"Host\": [\n"
            "      \"httpbin:8000\"\n"
            "    ]\n"
            "  },\n"
            "  \"method\": \"GET\",\n"
            "  \"origin\": \"10.0.0.7\",\n"
            "  \"url\": \"http://httpbin:8000/get?x=1\"\n"
            "}\n");
}

TEST(httpbin_endpoints, GetOriginIsTheFirstForwardedForEntryThenThePeer) {
  EXPECT_EQ(bodyOf(get("/get", {{"X-Forwarded-For", " 1.2.3.4 , 10.0.0.1"}})).at("origin"), "1.2.3.4");
  EXPECT_EQ(bodyOf(get("/get", {{"X-Forwarded-For", "1.2.3.4"}, {"True-Client-IP", "5.6.7.8"}})).at("origin"),
            "5.6.7.8");
  EXPECT_EQ(bodyOf(get("/get")).at("origin"), "10.0.0.7");
}

TEST(httpbin_endpoints, GetUrlIsRebuiltFromHostAndForwardedProto) {
  EXPECT_EQ(bodyOf(get("/get?", {{"X-Forwarded-Proto", "https"}})).at("url"), "https://httpbin:8000/get?");
  Request absolute = makeRequest("GET", "http://other.example/get?q");
  EXPECT_EQ(bodyOf(call(absolute)).at("url"), "http://other.example/get?q");
  // Go re-escapes a raw path that is not a valid encoding.
  EXPECT_EQ(bodyOf(get("/anything/\xC3\xA4 x")).at("url"), "http://httpbin:8000/anything/%C3%A4%20x");
}

TEST(httpbin_endpoints, HeadersAreCanonicalWithRepeatedValuesInOrder) {
  Response response = get("/headers", {{"x-custom-thing", "a"}, {"X-CUSTOM-THING", "b"}});
  ASSERT_EQ(response.status, 200);
  const json::object body = bodyOf(response);
  EXPECT_EQ(keysOf(body), std::vector<std::string>{"headers"});
  EXPECT_EQ(json::serialize(body.at("headers")), R"({"Host":["httpbin:8000"],"X-Custom-Thing":["a","b"]})");
}

TEST(httpbin_endpoints, SmallEndpointsIpUserAgentHostname) {
  EXPECT_EQ(json::serialize(bodyOf(get("/ip"))), R"({"origin":"10.0.0.7"})");
  EXPECT_EQ(get("/ip?format=text").body, "10.0.0.7\n");
  EXPECT_EQ(json::serialize(bodyOf(get("/user-agent", {{"User-Agent", "curl/8.0"}}))), R"({"user-agent":"curl/8.0"})");
  EXPECT_EQ(json::serialize(bodyOf(get("/user-agent"))), R"({"user-agent":""})");
  EXPECT_EQ(json::serialize(bodyOf(get("/hostname"))), R"({"hostname":"httpbin-7d4f-x2x9z"})");
}

TEST(httpbin_endpoints, StatusTeapotHasItsBodyAndHeader) {
  Response response = get("/status/418");
  EXPECT_EQ(response.status, 418);
  EXPECT_EQ(response.body, "I'm a teapot!");
  EXPECT_EQ(headerOf(response, "X-More-Info"), "http://tools.ietf.org/html/rfc2324");
  EXPECT_EQ(headerOf(response, "Content-Type"), "text/plain; charset=utf-8");
}

TEST(httpbin_endpoints, StatusPlainCodesAndRedirects) {
  EXPECT_EQ(get("/status/503").status, 503);
  EXPECT_EQ(get("/status/503").body, "");
  EXPECT_EQ(get("/status/204").status, 204);
  Response redirect = get("/status/302");
  EXPECT_EQ(redirect.status, 302);
  EXPECT_EQ(headerOf(redirect, "Location"), "/redirect/1");
  EXPECT_EQ(headerOf(get("/status/401"), "WWW-Authenticate"), "Basic realm=\"Fake Realm\"");
  EXPECT_EQ(get("/status/100").status, 200);  // Go's interim 1xx is followed by a 200
}

TEST(httpbin_endpoints, StatusRefusesBadCodesWithGoHttpbinsErrorBody) {
  Response response = get("/status/abc");
  EXPECT_EQ(response.status, 400);
  const json::object body = bodyOf(response);
  EXPECT_EQ(keysOf(body), (std::vector<std::string>{"status_code", "error", "detail"}));
  EXPECT_EQ(body.at("status_code"), 400);
  EXPECT_EQ(body.at("error"), "Bad Request");
  EXPECT_EQ(body.at("detail"), "invalid status code: \"abc\": strconv.Atoi: parsing \"abc\": invalid syntax");
  EXPECT_EQ(bodyOf(get("/status/600")).at("detail"), "invalid status code: 600 not in range [100, 599]");
  EXPECT_EQ(get("/status/99").status, 400);
  EXPECT_EQ(get("/status/99999999999999999999999").status, 400);
  EXPECT_EQ(get("/status/").status, 404);
  EXPECT_EQ(get("/status/200/extra").status, 404);
}

TEST(httpbin_endpoints, StatusWeightedChoices) {
  EXPECT_EQ(get("/status/200:0,418:1").status, 418);
  EXPECT_EQ(get("/status/418,418").status, 418);
  for (int i = 0; i < 20; ++i) {
    const int code = get("/status/200,503").status;
    EXPECT_TRUE(code == 200 || code == 503) << code;
  }
  EXPECT_EQ(bodyOf(get("/status/200:x,503")).at("detail"), "invalid weight value: \"x\"");
  EXPECT_EQ(bodyOf(get("/status/200,abc")).at("detail"), "invalid choice value: \"abc\"");
  EXPECT_EQ(get("/status/200:0,503:0").status, 400);
  EXPECT_EQ(get("/status/200:-1,503").status, 400);
}

TEST(httpbin_endpoints, DelayReturnsTheWaitInsteadOfSleeping) {
  Response response = get("/delay/1.5?x=y");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.delay, 1500ms);
  EXPECT_EQ(headerOf(response, "Server-Timing"), "initial_delay;dur=1500.00;desc=\"initial delay\"");
  const json::object body = bodyOf(response);
  EXPECT_EQ(keysOf(body), kBodyKeys);
  EXPECT_EQ(json::serialize(body.at("args")), R"({"x":["y"]})");
  EXPECT_EQ(get("/delay/250ms").delay, 250ms);
  EXPECT_EQ(get("/delay/10").delay, 10s);
  EXPECT_EQ(get("/delay/0").delay, 0ms);
}

TEST(httpbin_endpoints, DelayRefusesTooLongNegativeAndUnparsable) {
  Response tooLong = get("/delay/11");
  EXPECT_EQ(tooLong.status, 400);
  EXPECT_EQ(tooLong.delay, 0ms);
  EXPECT_EQ(bodyOf(tooLong).at("detail"), "invalid duration: duration 11s longer than 10s");
  EXPECT_EQ(bodyOf(get("/delay/-1")).at("detail"), "invalid duration: duration -1s shorter than 0s");
  EXPECT_EQ(bodyOf(get("/delay/abc")).at("detail"),
            "invalid duration: strconv.ParseFloat: parsing \"abc\": invalid syntax");
  EXPECT_EQ(get("/delay/1m").status, 400);
  EXPECT_EQ(get("/delay/nan").status, 400);
  EXPECT_EQ(get("/delay/1e300").status, 400);
}

TEST(httpbin_endpoints, AnythingEchoesJsonBodiesAsGoDecodesThem) {
  Response response = call(makeRequest("PATCH", "/anything/a/b", {{"Content-Type", "application/json; charset=utf-8"}},
                                       R"({"b": 1, "a": [true, null, "x", 2.50]} trailing)"));
  ASSERT_EQ(response.status, 200);
  const json::object body = bodyOf(response);
  EXPECT_EQ(keysOf(body), kBodyKeys);
  EXPECT_EQ(body.at("method"), "PATCH");
  EXPECT_EQ(body.at("url"), "http://httpbin:8000/anything/a/b");
  EXPECT_EQ(body.at("data"), R"({"b": 1, "a": [true, null, "x", 2.50]} trailing)");
  EXPECT_EQ(json::serialize(body.at("files")), "{}");
  EXPECT_EQ(json::serialize(body.at("form")), "{}");
  // Keys sorted (Go map), numbers as float64 spelled without exponent.
  EXPECT_NE(response.body.find("\"json\": {\n    \"a\": [\n      true,\n      null,\n      \"x\",\n      2.5\n"),
            std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find("\"b\": 1\n"), std::string::npos);
}

TEST(httpbin_endpoints, AnythingEmptyBodyHasNullJsonAndEmptyData) {
  const json::object body = bodyOf(get("/anything"));
  EXPECT_EQ(keysOf(body), kBodyKeys);
  EXPECT_EQ(body.at("data"), "");
  EXPECT_TRUE(body.at("json").is_null());
  EXPECT_EQ(keysOf(bodyOf(call(makeRequest("HEAD", "/anything")))), kNoBodyKeys);
}

TEST(httpbin_endpoints, AnythingDecodesFormsAndMultipart) {
  Response form = call(makeRequest("PUT", "/anything", {{"Content-Type", "application/x-www-form-urlencoded"}},
                                   "name=weft&tag=a&tag=b+c"));
  EXPECT_EQ(json::serialize(bodyOf(form).at("form")), R"({"name":["weft"],"tag":["a","b c"]})");

  const std::string multipartBody =
      "preamble\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"field\"\r\n\r\n"
      "value\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "file\r\ncontents\r\n--XyZ--\r\n";
  Response multipart =
      call(makeRequest("POST", "/post", {{"Content-Type", "multipart/form-data; boundary=XyZ"}}, multipartBody));
  ASSERT_EQ(multipart.status, 200) << multipart.body;
  EXPECT_EQ(json::serialize(bodyOf(multipart).at("form")), R"({"field":["value"]})");
  EXPECT_EQ(json::serialize(bodyOf(multipart).at("files")), R"({"upload":["file\r\ncontents"]})");
}

TEST(httpbin_endpoints, AnythingOtherContentTypesComeBackAsDataUrls) {
  Response response =
      call(makeRequest("POST", "/anything", {{"Content-Type", "application/octet-stream"}}, std::string("\xff\xfe?", 3)));
  EXPECT_EQ(bodyOf(response).at("data"), "data:application/octet-stream;base64,__4_");
  Response untyped = call(makeRequest("POST", "/anything", {}, "hi"));
  EXPECT_EQ(bodyOf(untyped).at("data"), "data:application/octet-stream;base64,aGk=");
  Response text = call(makeRequest("POST", "/anything", {{"Content-Type", "text/plain"}}, "hi"));
  EXPECT_EQ(bodyOf(text).at("data"), "hi");
}

TEST(httpbin_endpoints, AnythingRefusesBodiesItCannotParse) {
  Response badJson = call(makeRequest("POST", "/anything", {{"Content-Type", "application/json"}}, "{\"a\":"));
  EXPECT_EQ(badJson.status, 400);
  EXPECT_EQ(bodyOf(badJson).at("detail").as_string().subview().substr(0, 28), "error parsing request body: ");
  EXPECT_EQ(call(makeRequest("POST", "/post", {{"Content-Type", "application/json"}}, "1e400")).status, 400);
  EXPECT_EQ(call(makeRequest("POST", "/post", {{"Content-Type", "application/json"}}, std::string(600, '['))).status,
            400);
  Response badForm =
      call(makeRequest("POST", "/post", {{"Content-Type", "application/x-www-form-urlencoded"}}, "a=%zz"));
  EXPECT_EQ(bodyOf(badForm).at("detail"), "error parsing request body: invalid URL escape \"%zz\"");
  EXPECT_EQ(call(makeRequest("POST", "/post", {{"Content-Type", "multipart/form-data"}}, "x")).status, 400);
  EXPECT_EQ(call(makeRequest("POST", "/post", {{"Content-Type", "multipart/form-data; boundary=b"}}, "--b\r\nno end"))
                .status,
            400);
}

TEST(httpbin_endpoints, MethodsAreCheckedWith405AndAllow) {
  EXPECT_EQ(call(makeRequest("POST", "/post")).status, 200);
  EXPECT_EQ(call(makeRequest("PUT", "/put")).status, 200);
  EXPECT_EQ(call(makeRequest("PATCH", "/patch")).status, 200);
  EXPECT_EQ(call(makeRequest("DELETE", "/delete")).status, 200);
  EXPECT_EQ(keysOf(bodyOf(call(makeRequest("DELETE", "/delete")))), kBodyKeys);

  Response wrong = get("/post");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(headerOf(wrong, "Allow"), "POST");
  EXPECT_EQ(wrong.body, "Method Not Allowed\n");
  Response postToGet = call(makeRequest("POST", "/get"));
  EXPECT_EQ(postToGet.status, 405);
  EXPECT_EQ(headerOf(postToGet, "Allow"), "GET, HEAD");
  EXPECT_EQ(call(makeRequest("HEAD", "/get")).status, 200);
  EXPECT_EQ(call(makeRequest("PURGE", "/anything")).status, 200);
}

TEST(httpbin_endpoints, BytesSendsNRandomBytes) {
  Response response = get("/bytes/10");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.body.size(), 10u);
  EXPECT_EQ(headerOf(response, "Content-Type"), "application/octet-stream");
  EXPECT_EQ(get("/bytes/1048576").body.size(), 1048576u);
  EXPECT_EQ(get("/bytes/0").status, 200);
  EXPECT_EQ(get("/bytes/0").body, "");
  EXPECT_EQ(get("/bytes/16?seed=7").body, get("/bytes/16?seed=7").body);
  EXPECT_NE(get("/bytes/16?seed=7").body, get("/bytes/16?seed=8").body);
}

TEST(httpbin_endpoints, BytesRefusesHugeNegativeAndUnparsableCounts) {
  EXPECT_EQ(bodyOf(get("/bytes/1048577")).at("detail"), "invalid byte count: 1048577 not in range [1, 1048576]");
  EXPECT_EQ(bodyOf(get("/bytes/-1")).at("detail"), "invalid byte count: -1 must be greater than 0");
  EXPECT_EQ(bodyOf(get("/bytes/x")).at("detail"), "invalid byte count: strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(bodyOf(get("/bytes/99999999999999999999")).at("detail"),
            "invalid byte count: strconv.Atoi: parsing \"99999999999999999999\": value out of range");
  EXPECT_EQ(get("/bytes/10?seed=abc").status, 400);
}

TEST(httpbin_endpoints, StreamSendsNCompactJsonLinesAsChunks) {
  Response response = get("/stream/3?k=v");
  ASSERT_EQ(response.status, 200);
  ASSERT_EQ(response.chunks.size(), 3u);
  for (int id = 0; id < 3; ++id) {
    const std::string& line = response.chunks[static_cast<std::size_t>(id)];
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // compact: one line each
    const json::object echo = json::parse(line).as_object();
    EXPECT_EQ(keysOf(echo), (std::vector<std::string>{"id", "args", "headers", "origin", "url"}));
    EXPECT_EQ(echo.at("id"), id);
  }
  EXPECT_EQ(response.chunks[0].substr(0, 27), R"({"id":0,"args":{"k":["v"]},)");
  EXPECT_EQ(get("/stream/0").chunks.size(), 1u);
  EXPECT_EQ(get("/stream/1000").chunks.size(), 100u);
  EXPECT_EQ(get("/stream/x").status, 400);
}

TEST(httpbin_endpoints, ResponseHeadersEchoesQueryAsHeadersAndBody) {
  Response response = get("/response-headers?X-Test=1&x-test=2&Y=a+b");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(headerOf(response, "X-Test"), "1");
  EXPECT_EQ(headerOf(response, "Content-Type"), "application/json; charset=utf-8");
  std::vector<std::string> tests;
  for (const Header& header : response.headers) {
    if (header.name == "X-Test") tests.push_back(header.value);
  }
  EXPECT_EQ(tests, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(json::serialize(bodyOf(response)),
            R"({"Content-Type":["application/json; charset=utf-8"],"X-Test":["1"],"Y":["a b"],"x-test":["2"]})");
  EXPECT_EQ(call(makeRequest("POST", "/response-headers?A=1")).status, 200);
}

TEST(httpbin_endpoints, ResponseHeadersCannotSplitTheResponseOrBreakFraming) {
  Response response = get("/response-headers?X-Evil=a%0d%0aSet-Cookie:%20x&Content-Length=5&Bad%20Name=1");
  EXPECT_EQ(headerOf(response, "X-Evil"), "a  Set-Cookie: x");
  EXPECT_EQ(headerOf(response, "Content-Length"), "<absent>");
  EXPECT_EQ(headerOf(response, "Bad Name"), "<absent>");
  EXPECT_EQ(bodyOf(response).at("Content-Length").as_array()[0], "5");
}

TEST(httpbin_endpoints, ResponseHeadersEscapesBodiesABrowserWouldRender) {
  Response response = get("/response-headers?Content-Type=text/html&x=%3Cb%3E");
  EXPECT_EQ(headerOf(response, "Content-Type"), "text/html");
  EXPECT_EQ(json::serialize(bodyOf(response)), R"({"Content-Type":["text/html"],"x":["&lt;b&gt;"]})");
}

TEST(httpbin_endpoints, RoutingIndexNotFoundAndCleanPaths) {
  Response index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(headerOf(index, "Content-Type"), "text/html; charset=utf-8");
  Response missing = get("/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "404 page not found\n");
  Response unclean = get("//get/../get?a=1");
  EXPECT_EQ(unclean.status, 301);
  EXPECT_EQ(headerOf(unclean, "Location"), "/get?a=1");
  EXPECT_EQ(get("/status/%34%31%38").status, 418);  // routing sees the decoded path
}

TEST(httpbin_endpoints, RoutingCorsOnEveryAnswerAndPreflight) {
  EXPECT_EQ(headerOf(get("/get"), "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(headerOf(get("/nope", {{"Origin", "https://a.example"}}), "Access-Control-Allow-Origin"),
            "https://a.example");
  Response preflight = call(makeRequest("OPTIONS", "/post", {{"Access-Control-Request-Headers", "X-A"}}));
  EXPECT_EQ(preflight.status, 200);
  EXPECT_EQ(preflight.body, "");
  EXPECT_EQ(headerOf(preflight, "Access-Control-Allow-Methods"), "GET, POST, HEAD, PUT, DELETE, PATCH, OPTIONS");
  EXPECT_EQ(headerOf(preflight, "Access-Control-Allow-Headers"), "X-A");
  EXPECT_EQ(headerOf(preflight, "Access-Control-Allow-Credentials"), "true");
}

TEST(httpbin_endpoints, MalformedRequestsGoRefusesBeforeAnyHandler) {
  Request noHost = makeRequest("GET", "/get");
  noHost.headers.clear();
  Response refused = call(noHost);
  EXPECT_EQ(refused.status, 400);
  EXPECT_TRUE(refused.close);
  EXPECT_EQ(refused.body, "400 Bad Request: missing required Host header");
  noHost.version = 10;
  EXPECT_EQ(call(noHost).status, 200);  // HTTP/1.0 needs no Host

  Response twoHosts = call(makeRequest("GET", "/get", {{"host", "b"}}));
  EXPECT_EQ(twoHosts.status, 400);
  EXPECT_TRUE(twoHosts.close);
  EXPECT_TRUE(call(makeRequest("GET", "/get%zz")).close);
  EXPECT_TRUE(call(makeRequest("GET", "get")).close);
  EXPECT_TRUE(call(makeRequest("GET", "*")).close);
  EXPECT_EQ(call(makeRequest("OPTIONS", "*")).status, 200);
}

TEST(httpbin_endpoints, MalformedHostileInputNeverThrows) {
  const std::vector<std::string> targets = {
      "/", "/%", "/%2", "/anything?%", "/anything?a=%zz;b", "/stream/-5", "/bytes/+3", "/delay/.", "/delay/1..5s",
      "/delay/9223372036854775807h", "/status/,", "/status/:", "/status/200:", "http://", "http://@/", "/anything/\x80\xff",
      "/response-headers?=x&%00=1", "/../../..", "/anything/./x/.."};
  for (const std::string& target : targets) {
    for (const char* method : {"GET", "POST", "HEAD"}) {
      EXPECT_NO_THROW({
        Response response = call(makeRequest(method, target, {{"Content-Type", "multipart/form-data; boundary=\"\""}}, "--"));
        EXPECT_GE(response.status, 200) << target;
      }) << target;
    }
  }
}

}  // namespace
}  // namespace weft::httpbin
