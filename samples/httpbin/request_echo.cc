#include "httpbin/request_echo.h"

#include <string_view>

#include "base/base64.h"
#include "httpbin/go_json.h"
#include "httpbin/media_type.h"
#include "httpbin/multipart.h"
#include "httpbin/responses.h"

namespace weft::httpbin {
namespace {

namespace json = boost::json;

bool isTokenByte(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// getURL's scheme: what a proxy in front says, else plain http (this server has no TLS).
std::string_view scheme(const Request& request) {
  if (auto proto = headerValue(request, "X-Forwarded-Proto"); !proto.empty()) return proto;
  if (auto proto = headerValue(request, "X-Forwarded-Protocol"); !proto.empty()) return proto;
  if (headerValue(request, "X-Forwarded-Ssl") == "on") return "https";
  return "http";
}

// Go's encoding/base64.URLEncoding: the URL-safe alphabet, with padding.
std::string base64UrlEncode(std::string_view bytes) {
  std::string text = base64Encode(bytes);
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

struct EchoBody {
  std::string data;
  Values files;
  Values form;
  json::value json;  // null unless the body was application/json
};

// parseBody: the body is always echoed in "data"; the Content-Type (compared as sent, up to
// its first ';', the way go-httpbin cuts it) picks the further decoding.
Result<EchoBody> parseBody(const Incoming& in) {
  EchoBody echo;
  const Request& request = in.request;
  if (request.body.empty()) return echo;
  echo.data = request.body;

  const std::string_view contentTypeHeader = headerValue(request, "Content-Type");
  const std::string_view contentType = contentTypeHeader.substr(0, contentTypeHeader.find(';'));
  // Request.ParseForm also parses the URL query and fails on what r.URL.Query() ignores.
  Values ignored;
  const auto queryProblem = parseQueryInto(in.target.rawQuery, ignored);

  if (contentType == "text/html" || contentType == "text/plain") return echo;

  if (contentType == "application/x-www-form-urlencoded") {
    // ParseForm reads a form body for POST, PUT and PATCH; go-httpbin extends that to
    // DELETE and GET for compatibility with the original httpbin.
    const std::string_view method = request.method;
    if (method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE" || method == "GET") {
      if (auto problem = parseQueryInto(request.body, echo.form)) return Error{*problem};
    }
    if (queryProblem) return Error{*queryProblem};
    return echo;
  }

  if (contentType == "multipart/form-data") {
    auto media = parseMediaType(contentTypeHeader);
    if (!media || media->type != "multipart/form-data") return Error{"request Content-Type isn't multipart/form-data"};
    auto boundary = media->params.find("boundary");
    if (boundary == media->params.end()) return Error{"no multipart boundary param in Content-Type"};
    if (queryProblem) return Error{*queryProblem};
    auto form = parseMultipartForm(request.body, boundary->second);
    if (!form) return form.error();
    echo.form = std::move(form->values);
    echo.files = std::move(form->files);
    return echo;
  }

  if (contentType == "application/json") {
    auto decoded = decodeJsonLikeGo(request.body);
    if (!decoded) return decoded.error();
    echo.json = std::move(*decoded);
    return echo;
  }

  // Anything else comes back as a data URL, so binary bodies survive the JSON.
  echo.data = "data:" + std::string(contentType.empty() ? kBinaryContentType : contentType) + ";base64," +
              base64UrlEncode(request.body);
  return echo;
}

}  // namespace

std::string canonicalHeaderKey(std::string_view name) {
  std::string key(name);
  for (char c : key) {
    if (!isTokenByte(c)) return key;
  }
  bool upper = true;
  for (char& c : key) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    upper = c == '-';
  }
  return key;
}

std::string clientIp(const Request& request) {
  for (std::string_view platformHeader : {"Fly-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP", "True-Client-IP"}) {
    if (auto ip = headerValue(request, platformHeader); !ip.empty()) return std::string(ip);
  }
  if (auto forwardedFor = headerValue(request, "X-Forwarded-For"); !forwardedFor.empty()) {
    return std::string(trimSpace(forwardedFor.substr(0, forwardedFor.find(','))));
  }
  return request.remoteIp;
}

Incoming readIncoming(const Request& request, RequestTarget target) {
  Incoming in{request, std::move(target), {}, {}, {}, {}, {}};
  in.host = in.target.host.empty() ? std::string(headerValue(request, "Host")) : in.target.host;
  for (const Header& header : request.headers) {
    std::string key = canonicalHeaderKey(header.name);
    if (key != "Host") in.headers[std::move(key)].push_back(header.value);
  }
  in.headers["Host"] = {in.host};
  in.args = parseQuery(in.target.rawQuery);
  in.origin = clientIp(request);
  in.url = std::string(scheme(request)) + "://" + in.host + escapedPath(in.target);
  if (in.target.hasQuery) in.url += "?" + in.target.rawQuery;
  return in;
}

json::object noBodyEcho(const Incoming& in) {
  json::object echo;
  echo.reserve(5);
  echo["args"] = toJsonObject(in.args);
  echo["headers"] = toJsonObject(in.headers);
  echo["method"] = in.request.method;
  echo["origin"] = in.origin;
  echo["url"] = in.url;
  return echo;
}

Result<json::object> bodyEcho(const Incoming& in) {
  auto body = parseBody(in);
  if (!body) return body.error();
  json::object echo = noBodyEcho(in);
  echo.reserve(9);
  echo["data"] = body->data;
  echo["files"] = toJsonObject(body->files);
  echo["form"] = toJsonObject(body->form);
  echo["json"] = std::move(body->json);
  return echo;
}

json::object streamEcho(const Incoming& in, int id) {
  json::object echo;
  echo.reserve(5);
  echo["id"] = id;
  echo["args"] = toJsonObject(in.args);
  echo["headers"] = toJsonObject(in.headers);
  echo["origin"] = in.origin;
  echo["url"] = in.url;
  return echo;
}

}  // namespace weft::httpbin
