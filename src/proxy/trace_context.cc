#include "proxy/trace_context.h"


#include <algorithm>

namespace weft::proxy {

namespace http = boost::beast::http;

namespace {

bool isLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool allZero(std::string_view s) { return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; }); }

// B3 ids may be upper case on the wire; W3C's are lower case.
std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<TraceIds> b3Ids(std::string_view traceId, std::string_view spanId, std::string_view sampled) {
  std::string trace = lowered(traceId), span = lowered(spanId);
  if ((trace.size() != 16 && trace.size() != 32) || span.size() != 16 || !isLowerHex(trace) || !isLowerHex(span)) return std::nullopt;
  if (allZero(trace) || allZero(span)) return std::nullopt;
  if (trace.size() == 16) trace = std::string(16, '0') + trace;
  return TraceIds{std::move(trace), std::move(span), sampled == "1" || sampled == "d" || sampled == "true"};
}

std::string randomHex(std::minstd_rand& random, size_t digits) {
  std::string out(digits, '0');
  fillRandomHex(out, random);
  // An all-zero id is invalid in both formats; vanishingly unlikely, but cheap to rule out.
  if (allZero(out)) out.back() = '1';
  return out;
}

}  // namespace

void fillRandomHex(std::span<char> out, std::minstd_rand& random) {
  // Every request draws ids: a table and 16 bits per draw, not formatting (this was a few
  // percent of the proxy's time with fmt). minstd's modulus is prime, so its low bits are
  // as good as its high ones.
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t i = 0;
  while (i < out.size()) {
    uint32_t bits = static_cast<uint32_t>(random());
    for (int n = 0; n < 4 && i < out.size(); ++n, bits >>= 4) out[i++] = kDigits[bits & 0xf];
  }
}

// A version 4 UUID, as Envoy makes them: 8-4-4-4-12 hex digits, version 4, variant 10xx.
std::string newRequestId(std::minstd_rand& random) {
  std::string id(36, '-');
  for (auto [from, length] : {std::pair{0, 8}, {9, 4}, {14, 4}, {19, 4}, {24, 12}}) fillRandomHex({id.data() + from, size_t(length)}, random);
  id[14] = '4';
  id[19] = "89ab"[random() & 3];
  return id;
}

std::optional<TraceIds> parseTraceparent(std::string_view value) {
  // version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55 characters.
  if (value.size() < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  std::string_view version = value.substr(0, 2), trace = value.substr(3, 32), span = value.substr(36, 16), flags = value.substr(53, 2);
  if (!isLowerHex(version) || version == "ff" || !isLowerHex(trace) || !isLowerHex(span) || !isLowerHex(flags)) return std::nullopt;
  if (allZero(trace) || allZero(span)) return std::nullopt;
  // Version 00 has exactly these fields; a later version may append more after a dash.
  if (version == "00" ? value.size() != 55 : value.size() > 55 && value[55] != '-') return std::nullopt;
  unsigned flagBits = static_cast<unsigned>(std::stoul(std::string(flags), nullptr, 16));
  return TraceIds{std::string(trace), std::string(span), (flagBits & 1) != 0};
}

std::optional<TraceIds> parseB3(const http::fields& fields) {
  auto traceId = fields.find("x-b3-traceid");
  auto spanId = fields.find("x-b3-spanid");
  if (traceId != fields.end() && spanId != fields.end()) {
    auto sampled = fields.find("x-b3-sampled");
    auto flags = fields.find("x-b3-flags");
    std::string_view decision = flags != fields.end() && flags->value() == "1" ? "d" : sampled != fields.end() ? sampled->value() : "";
    return b3Ids(traceId->value(), spanId->value(), decision);
  }
  auto single = fields.find("b3");
  if (single == fields.end()) return std::nullopt;
  // traceid-spanid[-sampled[-parentspanid]]; "0"/"1"/"d" alone is a bare sampling decision.
  std::string_view value = single->value();
  auto first = value.find('-');
  if (first == std::string_view::npos) return std::nullopt;
  auto second = value.find('-', first + 1);
  std::string_view span = value.substr(first + 1, second == std::string_view::npos ? std::string_view::npos : second - first - 1);
  std::string_view sampled = second == std::string_view::npos ? "" : value.substr(second + 1, 1);
  return b3Ids(value.substr(0, first), span, sampled);
}

std::string formatTraceparent(const TraceIds& ids) {
  std::string out;
  out.reserve(55);
  out.append("00-").append(ids.traceId).append("-").append(ids.spanId).append(ids.sampled ? "-01" : "-00");
  return out;
}

void propagateTraceContext(http::fields& fields, std::minstd_rand& random) {
  auto traceparent = fields.find("traceparent");
  std::optional<TraceIds> w3c;
  if (traceparent != fields.end()) {
    w3c = parseTraceparent(traceparent->value());
    if (!w3c) {
      fields.erase("traceparent");
      fields.erase("tracestate");
    }
  }
  std::optional<TraceIds> b3 = parseB3(fields);
  if (w3c && b3) return;
  if (w3c) {
    // B3's trace id is the W3C one; a 64-bit B3 reader takes its low half.
    fields.set("x-b3-traceid", w3c->traceId);
    fields.set("x-b3-spanid", w3c->spanId);
    fields.set("x-b3-sampled", w3c->sampled ? "1" : "0");
    return;
  }
  if (b3) {
    fields.set("traceparent", formatTraceparent(*b3));
    return;
  }
  TraceIds fresh{randomHex(random, 32), randomHex(random, 16), false};
  fields.set("traceparent", formatTraceparent(fresh));
  fields.set("x-b3-traceid", fresh.traceId);
  fields.set("x-b3-spanid", fresh.spanId);
  fields.set("x-b3-sampled", "0");
}

}  // namespace weft::proxy
