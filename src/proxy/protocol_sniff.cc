#include "proxy/protocol_sniff.h"

#include <array>

#include "proxy/h2_downstream.h"

namespace weft::proxy {

namespace {

// RFC 9110 tchar: what a method token may be made of.
bool isTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return kSymbols.find(static_cast<char>(c)) != std::string_view::npos;
}

// Longer than any registered method (the longest, UPDATEREDIRECTREF, has 17 letters).
constexpr size_t kMaxMethod = 24;

// The request line's end: "HTTP/1.0" or "HTTP/1.1", then CRLF (a bare LF is accepted, as
// parsers do).
SniffedProtocol sniffVersion(std::string_view rest) {
  static constexpr std::array<std::string_view, 4> kEndings{"HTTP/1.1\r\n", "HTTP/1.0\r\n", "HTTP/1.1\n", "HTTP/1.0\n"};
  for (std::string_view ending : kEndings) {
    if (rest.starts_with(ending)) return SniffedProtocol::kHttp;
    if (rest.size() < ending.size() && ending.starts_with(rest)) return SniffedProtocol::kNeedMore;
  }
  return SniffedProtocol::kNotHttp;
}

}  // namespace

namespace {

SniffedProtocol sniff(std::string_view bytes);

}  // namespace

SniffedProtocol sniffProtocol(std::string_view bytes) {
  SniffedProtocol answer = sniff(bytes);
  // A whole peek still undecided looks like a request line's start all along: HTTP.
  return answer == SniffedProtocol::kNeedMore && bytes.size() >= kMaxSniffBytes ? SniffedProtocol::kHttp : answer;
}

namespace {

SniffedProtocol sniff(std::string_view bytes) {
  if (bytes.empty()) return SniffedProtocol::kNeedMore;
  // "PRI" is a method token too: the preface is told apart first.
  if (bytes.size() < kHttp2Preface.size() ? kHttp2Preface.starts_with(bytes) : bytes.starts_with(kHttp2Preface)) {
    return bytes.size() < kHttp2Preface.size() ? SniffedProtocol::kNeedMore : SniffedProtocol::kHttp;
  }
  size_t i = 0;
  while (i < bytes.size() && i <= kMaxMethod && isTokenChar(static_cast<unsigned char>(bytes[i]))) ++i;
  if (i == bytes.size()) return i <= kMaxMethod ? SniffedProtocol::kNeedMore : SniffedProtocol::kNotHttp;
  if (i == 0 || i > kMaxMethod || bytes[i] != ' ') return SniffedProtocol::kNotHttp;
  size_t targetStart = ++i;
  // The request-target: visible ASCII (and obs-text), up to the next space.
  while (i < bytes.size() && static_cast<unsigned char>(bytes[i]) > 0x20 && bytes[i] != 0x7f) ++i;
  if (i == bytes.size()) return SniffedProtocol::kNeedMore;
  if (i == targetStart || bytes[i] != ' ') return SniffedProtocol::kNotHttp;
  return sniffVersion(bytes.substr(i + 1));
}

}  // namespace

}  // namespace weft::proxy
