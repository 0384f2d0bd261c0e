#pragma once
// /status/{code}: answer with the code asked for, or with one drawn from a weighted list
// ("200:0.7,503:0.3", weights default to 1), with go-httpbin's special bodies and headers
// (418's teapot, a Location on redirects, WWW-Authenticate on 401, ...).

#include <random>
#include <string_view>

#include "httpbin/http_message.h"

namespace weft::httpbin {

Response statusEndpoint(std::string_view codes, std::mt19937_64& random);

}  // namespace weft::httpbin
