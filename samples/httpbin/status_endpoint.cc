#include "httpbin/status_endpoint.h"

#include <cmath>
#include <vector>

#include "httpbin/go_parse.h"
#include "httpbin/responses.h"

namespace weft::httpbin {
namespace {

constexpr int kMinStatus = 100;
constexpr int kMaxStatus = 599;

Result<int> parseStatusCode(std::string_view text) {
  auto code = goAtoi(text);
  if (!code) return makeError("invalid status code: {}: {}", goQuote(text), code.error().message);
  if (*code < kMinStatus || *code > kMaxStatus) {
    return makeError("invalid status code: {} not in range [{}, {}]", *code, kMinStatus, kMaxStatus);
  }
  return static_cast<int>(*code);
}

struct WeightedCode {
  int code;
  double weight;
};

Result<int> chooseWeighted(std::string_view list, std::mt19937_64& random) {
  std::vector<WeightedCode> choices;
  double total = 0;
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    const std::size_t colon = item.find(':');
    const std::string_view rawCode = item.substr(0, colon);
    double weight = 1;
    if (colon != std::string_view::npos) {
      const std::string_view rawWeight = item.substr(colon + 1);
      auto parsed = goParseFloat(rawWeight);
      // Go accepts any float here and panics later on a zero total; refuse bad weights up front.
      if (!parsed || !std::isfinite(*parsed) || *parsed < 0) return makeError("invalid weight value: {}", goQuote(rawWeight));
      weight = *parsed;
    }
    auto code = goAtoi(rawCode);
    if (!code || *code < kMinStatus || *code > kMaxStatus) return makeError("invalid choice value: {}", goQuote(rawCode));
    choices.push_back({static_cast<int>(*code), weight});
    total += weight;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (!(total > 0) || !std::isfinite(total)) return Error{"invalid weights: they must add up to more than 0"};
  const double point = std::uniform_real_distribution<double>(0, 1)(random) * total;
  double reached = 0;
  for (const WeightedCode& choice : choices) {
    reached += choice.weight;
    if (point < reached) return choice.code;
  }
  return choices.back().code;  // rounding left `point` at the very top
}

Response answerWithStatus(int code) {
  Response response;
  // Go sends a 1xx as an interim response and then an implicit 200; clients see the 200.
  response.status = code < 200 ? 200 : code;
  response.headers.push_back({"Content-Type", std::string(kTextContentType)});
  auto set = [&](std::string_view name, std::string_view value) {
    for (Header& header : response.headers) {
      if (header.name == name) {
        header.value = std::string(value);
        return;
      }
    }
    response.headers.push_back({std::string(name), std::string(value)});
  };
  switch (code) {
    case 300:
      set("Location", "/image/jpeg");
      response.body =
          "<!doctype html>\n<head>\n<title>Multiple Choices</title>\n</head>\n<body>\n<ul>\n"
          "<li><a href=\"/image/jpeg\">/image/jpeg</a></li>\n<li><a href=\"/image/png\">/image/png</a></li>\n"
          "<li><a href=\"/image/svg\">/image/svg</a></li>\n</body>\n</html>";
      break;
    case 301: case 302: case 303: case 305: case 307:
      set("Location", "/redirect/1");
      break;
    case 308:
      set("Location", "/image/jpeg");
      response.body =
          "<!doctype html>\n<head>\n<title>Permanent Redirect</title>\n</head>\n"
          "<body>Permanently redirected to <a href=\"/image/jpeg\">/image/jpeg</a>\n</body>\n</html>";
      break;
    case 401:
      set("WWW-Authenticate", "Basic realm=\"Fake Realm\"");
      break;
    case 402:
      set("X-More-Info", "http://vimeo.com/22053820");
      response.body = "Fuck you, pay me!";
      break;
    case 406:
      set("Content-Type", kJsonContentType);
      response.body =
          "{\n  \"message\": \"Client did not request a supported media type\",\n  \"accept\": [\n"
          "    \"image/webp\",\n    \"image/svg+xml\",\n    \"image/jpeg\",\n    \"image/png\",\n    \"image/\"\n"
          "  ]\n}\n";
      break;
    case 407:
      set("Proxy-Authenticate", "Basic realm=\"Fake Realm\"");
      break;
    case 418:
      set("X-More-Info", "http://tools.ietf.org/html/rfc2324");
      response.body = "I'm a teapot!";
      break;
    default:
      break;
  }
  return response;
}

}  // namespace

Response statusEndpoint(std::string_view codes, std::mt19937_64& random) {
  auto code = codes.find(',') == std::string_view::npos ? parseStatusCode(codes) : chooseWeighted(codes, random);
  if (!code) return errorResponse(400, code.error().message);
  return answerWithStatus(*code);
}

}  // namespace weft::httpbin
