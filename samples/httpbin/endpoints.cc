#include "httpbin/endpoints.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "httpbin/go_json.h"
#include "httpbin/go_parse.h"
#include "httpbin/media_type.h"
#include "httpbin/request_echo.h"
#include "httpbin/responses.h"
#include "httpbin/status_endpoint.h"

namespace weft::httpbin {
namespace {

namespace json = boost::json;

// /stream's bounds, as go-httpbin clamps them.
constexpr std::int64_t kMinStreamLines = 1;
constexpr std::int64_t kMaxStreamLines = 100;

constexpr std::string_view kIndexHtml = R"(<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>weft-httpbin</title></head>
<body>
<h1>weft-httpbin</h1>
<p>A go-httpbin compatible HTTP request and response service, for Weft's local cluster.</p>
<ul>
<li><a href="/get">/get</a> the request's args, headers, origin and url</li>
<li>/post, /put, /patch, /delete the same plus data, files, form and json</li>
<li><a href="/anything">/anything</a> any method, echoed like /post</li>
<li><a href="/headers">/headers</a>, <a href="/ip">/ip</a>, <a href="/user-agent">/user-agent</a>, <a href="/hostname">/hostname</a></li>
<li><a href="/status/418">/status/{codes}</a> the status asked for, or a weighted choice: /status/200:0.9,503:0.1</li>
<li><a href="/delay/1">/delay/{duration}</a> answers after up to 10s</li>
<li><a href="/bytes/16">/bytes/{n}</a> n random bytes; <a href="/stream/3">/stream/{n}</a> n JSON lines</li>
<li><a href="/response-headers?X-Test=1">/response-headers?name=value</a> sets the query as response headers</li>
</ul>
</body>
</html>
)";

struct Call {
  const Incoming& in;
  const Settings& settings;
  std::mt19937_64& random;
  std::string_view wildcard;  // the {segment} of /status/{code}, or what follows /anything/
};

using Handler = Response (*)(const Call&);

// The first value of a query arg, as url.Values.Get reads it; empty when absent.
std::string_view firstArg(const Values& args, std::string_view name) {
  auto it = args.find(name);
  return it == args.end() || it->second.empty() ? std::string_view{} : it->second.front();
}

Response index(const Call&) {
  Response response;
  response.headers.push_back({"Content-Type", std::string(kHtmlContentType)});
  response.headers.push_back(
      {"Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'"});
  response.body = std::string(kIndexHtml);
  return response;
}

Response get(const Call& call) { return jsonResponse(200, noBodyEcho(call.in)); }

Response withBody(const Call& call) {
  auto echo = bodyEcho(call.in);
  if (!echo) return errorResponse(400, "error parsing request body: " + echo.error().message);
  return jsonResponse(200, *echo);
}

Response anything(const Call& call) { return call.in.request.method == "HEAD" ? get(call) : withBody(call); }

Response headers(const Call& call) {
  json::object body;
  body["headers"] = toJsonObject(call.in.headers);
  return jsonResponse(200, body);
}

Response ip(const Call& call) {
  if (firstArg(call.in.args, "format") == "text") {
    Response response;
    response.headers.push_back({"Content-Type", std::string(kTextContentType)});
    response.body = call.in.origin + "\n";
    return response;
  }
  json::object body;
  body["origin"] = call.in.origin;
  return jsonResponse(200, body);
}

Response userAgent(const Call& call) {
  json::object body;
  body["user-agent"] = headerValue(call.in.request, "User-Agent");
  return jsonResponse(200, body);
}

Response hostname(const Call& call) {
  json::object body;
  body["hostname"] = call.settings.hostname;
  return jsonResponse(200, body);
}

Response status(const Call& call) { return statusEndpoint(call.wildcard, call.random); }

// go-httpbin's parseBoundedDuration: a Go duration ("1.5s", "300ms") or float seconds.
Result<std::chrono::nanoseconds> parseBoundedDuration(std::string_view text, std::chrono::nanoseconds max) {
  std::chrono::nanoseconds duration;
  if (auto parsed = goParseDuration(text)) {
    duration = *parsed;
  } else {
    auto seconds = goParseFloat(text);
    if (!seconds) return seconds.error();
    // Go truncates to whole milliseconds. Go turns NaN, Inf and huge values into garbage
    // durations; they are refused here instead.
    const double milliseconds = std::trunc(*seconds * 1000);
    if (!(std::fabs(milliseconds) < 9e12)) return makeError("duration {} out of range", goQuote(text));
    duration = std::chrono::milliseconds(static_cast<std::int64_t>(milliseconds));
  }
  if (duration > max) return makeError("duration {} longer than {}", goFormatDuration(duration), goFormatDuration(max));
  if (duration < std::chrono::nanoseconds{0}) {
    return makeError("duration {} shorter than {}", goFormatDuration(duration), goFormatDuration({}));
  }
  return duration;
}

// The same answer as /anything, sent after the wait; the server does the waiting.
Response delay(const Call& call) {
  auto duration = parseBoundedDuration(call.wildcard, call.settings.maxDuration);
  if (!duration) return errorResponse(400, "invalid duration: " + duration.error().message);
  Response response = withBody(call);
  response.delay = *duration;
  const double milliseconds = std::chrono::duration<double, std::milli>(*duration).count();
  response.headers.push_back({"Server-Timing", fmt::format("initial_delay;dur={:.2f};desc=\"initial delay\"", milliseconds)});
  return response;
}

Response bytes(const Call& call) {
  auto count = goAtoi(call.wildcard);
  if (!count) return errorResponse(400, "invalid byte count: " + count.error().message);
  std::optional<std::mt19937_64> seeded;
  if (auto seed = firstArg(call.in.args, "seed"); !seed.empty()) {
    auto parsed = goParseInt(seed);
    if (!parsed) return errorResponse(400, "invalid seed: " + parsed.error().message);
    seeded.emplace(static_cast<std::uint64_t>(*parsed));
  }
  if (*count < 0) return errorResponse(400, fmt::format("invalid byte count: {} must be greater than 0", *count));
  Response response;
  if (*count == 0) return response;
  const auto limit = static_cast<std::int64_t>(call.settings.maxBodyBytes);
  if (*count > limit) return errorResponse(400, fmt::format("invalid byte count: {} not in range [1, {}]", *count, limit));

  std::mt19937_64& random = seeded ? *seeded : call.random;
  response.headers.push_back({"Content-Type", std::string(kBinaryContentType)});
  response.body.resize(static_cast<std::size_t>(*count));
  for (std::size_t at = 0; at < response.body.size(); at += sizeof(std::uint64_t)) {
    const std::uint64_t word = random();
    std::memcpy(response.body.data() + at, &word, std::min(sizeof word, response.body.size() - at));
  }
  return response;
}

// n compact JSON lines, one chunk each, as go-httpbin flushes after every line.
Response stream(const Call& call) {
  auto count = goAtoi(call.wildcard);
  if (!count) return errorResponse(400, "invalid count: " + count.error().message);
  const std::int64_t lines = std::clamp(*count, kMinStreamLines, kMaxStreamLines);
  Response response;
  // go-httpbin sets no Content-Type here; Go's content sniffing picks this one for JSON.
  response.headers.push_back({"Content-Type", std::string(kTextContentType)});
  json::object line = streamEcho(call.in, 0);
  for (std::int64_t id = 0; id < lines; ++id) {
    line["id"] = id;
    response.chunks.push_back(toGoJson(line, {JsonLayout::kCompact, /*escapeHtml=*/true}) + "\n");
  }
  return response;
}

// html.EscapeString.
std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '\'': out += "&#39;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      default: out += c;
    }
  }
  return out;
}

// A body a browser could render as HTML must not echo markup it was handed.
bool isDangerousContentType(std::string_view contentType) {
  auto media = parseMediaType(contentType);
  if (!media) return true;
  return media->type != "text/plain" && media->type != "application/json" && media->type != "application/octet-string";
}

bool isTokenName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Header values leave without CR, LF or other control bytes, so a query can never split
// the response; Go's server does the same for CR and LF.
std::string headerSafe(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7F) c = ' ';
  }
  const std::size_t first = out.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(" \t") - first + 1);
}

// Each query arg becomes a response header and the args come back as the body. Framing
// headers (Content-Length, Transfer-Encoding, Connection) stay the server's, and names
// that are not tokens are only echoed in the body.
Response responseHeaders(const Call& call) {
  Values args = call.in.args;
  std::string contentType(firstArg(args, "Content-Type"));
  if (contentType.empty()) {
    contentType = kJsonContentType;
    args["Content-Type"] = {contentType};
  }
  Response response;
  for (const auto& [name, values] : args) {
    if (!isTokenName(name) || equalsIgnoreCase(name, "Content-Length") || equalsIgnoreCase(name, "Transfer-Encoding") ||
        equalsIgnoreCase(name, "Connection")) {
      continue;
    }
    for (const std::string& value : values) response.headers.push_back({canonicalHeaderKey(name), headerSafe(value)});
  }
  if (isDangerousContentType(contentType)) {
    Values escaped;
    for (const auto& [name, values] : args) {
      for (const std::string& value : values) escaped[htmlEscape(name)].push_back(htmlEscape(value));
    }
    args = std::move(escaped);
  }
  response.body = toGoJson(toJsonObject(args)) + "\n";
  return response;
}

enum class Match {
  kExact,    // "/get"
  kSegment,  // "/status/" + one non-empty segment: Go's "/status/{code}"
  kSubtree,  // "/anything/" and everything under it
};

struct Route {
  Match match;
  std::string_view path;
  std::string_view method;  // empty: any method; GET also serves HEAD, as in Go's ServeMux
  Handler handler;
};

constexpr Route kRoutes[] = {
    {Match::kExact, "/", "GET", index},
    {Match::kExact, "/get", "GET", get},
    {Match::kExact, "/post", "POST", withBody},
    {Match::kExact, "/put", "PUT", withBody},
    {Match::kExact, "/patch", "PATCH", withBody},
    {Match::kExact, "/delete", "DELETE", withBody},
    {Match::kExact, "/anything", "", anything},
    {Match::kSubtree, "/anything/", "", anything},
    {Match::kExact, "/headers", "", headers},
    {Match::kExact, "/ip", "", ip},
    {Match::kExact, "/user-agent", "", userAgent},
    {Match::kExact, "/hostname", "", hostname},
    {Match::kExact, "/response-headers", "", responseHeaders},
    {Match::kSegment, "/status/", "", status},
    {Match::kSegment, "/delay/", "", delay},
    {Match::kSegment, "/bytes/", "", bytes},
    {Match::kSegment, "/stream/", "", stream},
};

bool matches(const Route& route, std::string_view path, std::string_view& wildcard) {
  if (route.match == Match::kExact) return path == route.path;
  if (path.substr(0, route.path.size()) != route.path) return false;
  wildcard = path.substr(route.path.size());
  return route.match == Match::kSubtree || (!wildcard.empty() && wildcard.find('/') == std::string_view::npos);
}

bool allows(const Route& route, std::string_view method) {
  return route.method.empty() || method == route.method || (route.method == "GET" && method == "HEAD");
}

// go-httpbin's preflight middleware answers every OPTIONS request itself.
Response preflight(const Incoming& in) {
  Response response;
  response.headers.push_back({"Access-Control-Allow-Methods", "GET, POST, HEAD, PUT, DELETE, PATCH, OPTIONS"});
  response.headers.push_back({"Access-Control-Max-Age", "3600"});
  if (auto requested = headerValue(in.request, "Access-Control-Request-Headers"); !requested.empty()) {
    response.headers.push_back({"Access-Control-Allow-Headers", headerSafe(requested)});
  }
  return response;
}

// ServeMux's answer to an unclean path: 301 to the clean one, with a link body for GET.
Response redirectToClean(const Incoming& in, const std::string& cleaned) {
  RequestTarget clean;
  clean.path = cleaned;
  std::string location = escapedPath(clean);
  if (!in.target.rawQuery.empty()) location += "?" + in.target.rawQuery;
  Response response;
  response.status = 301;
  response.headers.push_back({"Location", location});
  const std::string_view method = in.request.method;
  if (method == "GET" || method == "HEAD") response.headers.push_back({"Content-Type", std::string(kHtmlContentType)});
  if (method == "GET") response.body = "<a href=\"" + htmlEscape(location) + "\">Moved Permanently</a>.\n\n";
  return response;
}

Response route(const Incoming& in, const Settings& settings, std::mt19937_64& random) {
  const std::string& method = in.request.method;
  if (method == "OPTIONS") return preflight(in);
  const std::string& path = in.target.path;
  if (std::string cleaned = cleanPath(path); cleaned != path) return redirectToClean(in, cleaned);

  std::vector<std::string_view> allowed;  // methods of the routes whose path matched
  for (const Route& route : kRoutes) {
    std::string_view wildcard;
    if (!matches(route, path, wildcard)) continue;
    if (allows(route, method)) return route.handler(Call{in, settings, random, wildcard});
    allowed.push_back(route.method);
    if (route.method == "GET") allowed.push_back("HEAD");
  }
  if (allowed.empty()) return plainError(404, "404 page not found");
  std::sort(allowed.begin(), allowed.end());
  Response response = plainError(405, "Method Not Allowed");
  response.headers.push_back({"Allow", fmt::format("{}", fmt::join(allowed, ", "))});
  return response;
}

// Go's server refuses these before any handler runs, and closes the connection.
Response rejectRequest(std::string_view reason) {
  Response response;
  response.status = 400;
  response.headers.push_back({"Content-Type", std::string(kTextContentType)});
  response.body = reason.empty() ? "400 Bad Request" : fmt::format("400 Bad Request: {}", reason);
  response.close = true;
  return response;
}

}  // namespace

Response handleRequest(const Request& request, const Settings& settings, std::mt19937_64& random) {
  const auto hosts = std::count_if(request.headers.begin(), request.headers.end(),
                                   [](const Header& h) { return equalsIgnoreCase(h.name, "Host"); });
  if (hosts > 1) return rejectRequest("too many Host headers");
  if (hosts == 0 && request.version >= 11) return rejectRequest("missing required Host header");
  auto target = parseRequestTarget(request.target);
  if (!target) return rejectRequest({});
  if (target->path == "*") {
    // "OPTIONS *" asks about the server, not a resource: Go answers it with an empty 200.
    return request.method == "OPTIONS" ? Response{} : rejectRequest({});
  }

  const Incoming in = readIncoming(request, std::move(*target));
  Response response = route(in, settings, random);
  // go-httpbin's preflight middleware sets these on every answer, before the handler runs.
  const std::string_view origin = headerValue(request, "Origin");
  response.headers.insert(response.headers.begin(),
                          {{"Access-Control-Allow-Origin", origin.empty() ? "*" : headerSafe(origin)},
                           {"Access-Control-Allow-Credentials", "true"}});
  return response;
}

}  // namespace weft::httpbin
