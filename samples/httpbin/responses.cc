#include "httpbin/responses.h"

#include <boost/json/object.hpp>

#include "httpbin/go_json.h"
#include "httpbin/status_text.h"

namespace weft::httpbin {

Response jsonResponse(int status, const boost::json::value& body) {
  Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", std::string(kJsonContentType)});
  response.body = toGoJson(body);
  response.body += '\n';
  return response;
}

Response errorResponse(int status, std::string_view detail) {
  boost::json::object body;
  body["status_code"] = status;
  body["error"] = statusText(status);
  if (!detail.empty()) body["detail"] = detail;
  return jsonResponse(status, body);
}

Response plainError(int status, std::string_view text) {
  Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", std::string(kTextContentType)});
  response.headers.push_back({"X-Content-Type-Options", "nosniff"});
  response.body = std::string(text) + "\n";
  return response;
}

}  // namespace weft::httpbin
