#pragma once

#include <string>

namespace weft::tls {

// Empties OpenSSL's thread-local error queue and returns its reasons joined by "; ", or
// "unknown OpenSSL error" when it was empty. Call it right after the failing call so a
// stale entry never lands on the next, unrelated error.
std::string drainOpensslErrors();

// Empties the queue without reading it, after a failure that was expected and handled.
void clearOpensslErrors();

}  // namespace weft::tls
