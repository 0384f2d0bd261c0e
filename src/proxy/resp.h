#pragma once
// RESP2, the Redis serialization protocol, sans I/O: commands are encoded as arrays of
// bulk strings; replies are parsed from the front of a byte buffer, one value at a time,
// with the answer "need more bytes" until a whole value is there. The Redis client feeds
// it what it reads; tests and the fuzzer feed it bytes.
//
// Replies come from the network and are treated as hostile: an unknown type byte, a
// length that is not a number, a missing CRLF, nesting deeper than kMaxDepth, more than
// kMaxElements items or a bulk string over kMaxBulkBytes are errors, never crashes and
// never unbounded buffering. RESP3 types are refused (the client never sends HELLO 3).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::proxy {

struct RespValue {
  enum class Type { kSimpleString, kError, kInteger, kBulkString, kNull, kArray };
  Type type = Type::kNull;
  std::string text;  // simple string, error, bulk string
  int64_t integer = 0;
  std::vector<RespValue> elements;  // array
};

// A command as RESP: "*<n>\r\n" then "$<len>\r\n<arg>\r\n" per argument.
std::string encodeCommand(const std::vector<std::string>& args);

struct RespParse {
  enum class Status { kNeedMore, kValue, kMalformed };
  Status status = Status::kNeedMore;
  RespValue value;        // kValue
  size_t consumed = 0;    // kValue: bytes of `buffer` the value used
  std::string error;      // kMalformed: what was wrong
};

inline constexpr size_t kRespMaxLineBytes = 4096;
inline constexpr int64_t kRespMaxBulkBytes = 512 * 1024;
inline constexpr int64_t kRespMaxElements = 1024;
inline constexpr int kRespMaxDepth = 8;

// The first value of `buffer`.
RespParse parseResp(std::string_view buffer);

}  // namespace weft::proxy
