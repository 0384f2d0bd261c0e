#include "proxy/resp.h"

#include <fmt/format.h>

#include <charconv>

namespace weft::proxy {

namespace {

struct Cursor {
  std::string_view buffer;
  size_t at = 0;
};

// Outcome of one step: a value, "need more", or malformed (with `error`).
enum class Step { kValue, kNeedMore, kMalformed };

struct Parser {
  Cursor c;
  std::string error;

  Step malformed(std::string why) {
    error = std::move(why);
    return Step::kMalformed;
  }

  // The line at the cursor without its CRLF; the cursor moves past the CRLF.
  Step line(std::string_view& out) {
    std::string_view rest = c.buffer.substr(c.at);
    auto crlf = rest.find("\r\n");
    if (crlf == std::string_view::npos) {
      if (rest.size() > kRespMaxLineBytes) return malformed("a line longer than 4096 bytes without CRLF");
      return Step::kNeedMore;
    }
    if (crlf > kRespMaxLineBytes) return malformed("a line longer than 4096 bytes");
    out = rest.substr(0, crlf);
    c.at += crlf + 2;
    return Step::kValue;
  }

  Step number(std::string_view text, int64_t& out, const char* what) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      return malformed(fmt::format("{} {:?} is not a number", what, text));
    }
    return Step::kValue;
  }

  Step value(RespValue& out, int depth) {
    if (depth > kRespMaxDepth) return malformed("arrays nested deeper than 8");
    if (c.at >= c.buffer.size()) return Step::kNeedMore;
    char type = c.buffer[c.at++];
    std::string_view text;
    if (Step s = line(text); s != Step::kValue) return s;
    switch (type) {
      case '+':
        out.type = RespValue::Type::kSimpleString;
        out.text = text;
        return Step::kValue;
      case '-':
        out.type = RespValue::Type::kError;
        out.text = text;
        return Step::kValue;
      case ':':
        out.type = RespValue::Type::kInteger;
        return number(text, out.integer, "integer");
      case '$': {
        int64_t length = 0;
        if (Step s = number(text, length, "bulk length"); s != Step::kValue) return s;
        if (length == -1) {
          out.type = RespValue::Type::kNull;
          return Step::kValue;
        }
        if (length < 0 || length > kRespMaxBulkBytes) return malformed(fmt::format("bulk length {} is out of range", length));
        auto size = static_cast<size_t>(length);
        if (c.buffer.size() - c.at < size + 2) return Step::kNeedMore;
        if (c.buffer.substr(c.at + size, 2) != "\r\n") return malformed("a bulk string not followed by CRLF");
        out.type = RespValue::Type::kBulkString;
        out.text = c.buffer.substr(c.at, size);
        c.at += size + 2;
        return Step::kValue;
      }
      case '*': {
        int64_t count = 0;
        if (Step s = number(text, count, "array length"); s != Step::kValue) return s;
        if (count == -1) {
          out.type = RespValue::Type::kNull;
          return Step::kValue;
        }
        if (count < 0 || count > kRespMaxElements) return malformed(fmt::format("array length {} is out of range", count));
        out.type = RespValue::Type::kArray;
        for (int64_t i = 0; i < count; ++i) {
          RespValue element;
          if (Step s = value(element, depth + 1); s != Step::kValue) return s;
          out.elements.push_back(std::move(element));
        }
        return Step::kValue;
      }
      default:
        return malformed(fmt::format("unknown RESP type byte 0x{:02x}", static_cast<unsigned char>(type)));
    }
  }
};

}  // namespace

std::string encodeCommand(const std::vector<std::string>& args) {
  std::string out = fmt::format("*{}\r\n", args.size());
  for (const auto& a : args) {
    out += fmt::format("${}\r\n", a.size());
    out += a;
    out += "\r\n";
  }
  return out;
}

RespParse parseResp(std::string_view buffer) {
  Parser p{{buffer, 0}, {}};
  RespParse result;
  switch (p.value(result.value, 0)) {
    case Step::kValue:
      result.status = RespParse::Status::kValue;
      result.consumed = p.c.at;
      break;
    case Step::kNeedMore:
      result.status = RespParse::Status::kNeedMore;
      result.value = {};
      break;
    case Step::kMalformed:
      result.status = RespParse::Status::kMalformed;
      result.error = std::move(p.error);
      result.value = {};
      break;
  }
  return result;
}

}  // namespace weft::proxy
