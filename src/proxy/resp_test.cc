#include "proxy/resp.h"

#include <gtest/gtest.h>

namespace weft::proxy {
namespace {

using Status = RespParse::Status;

RespParse parse(std::string_view bytes) { return parseResp(bytes); }

TEST(Resp, EncodesCommandsAsArraysOfBulkStrings) {
  EXPECT_EQ(encodeCommand({"INCR", "weft:rl:a"}), "*2\r\n$4\r\nINCR\r\n$9\r\nweft:rl:a\r\n");
  EXPECT_EQ(encodeCommand({"SET", "k", ""}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  EXPECT_EQ(encodeCommand({"SET", "k", "a\r\nb"}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n") << "binary safe";
}

TEST(Resp, ParsesEveryRESP2Type) {
  auto simple = parse("+OK\r\n");
  ASSERT_EQ(simple.status, Status::kValue);
  EXPECT_EQ(simple.value.type, RespValue::Type::kSimpleString);
  EXPECT_EQ(simple.value.text, "OK");
  EXPECT_EQ(simple.consumed, 5u);

  auto error = parse("-ERR unknown command\r\n");
  EXPECT_EQ(error.value.type, RespValue::Type::kError);
  EXPECT_EQ(error.value.text, "ERR unknown command");

  auto integer = parse(":42\r\n:7\r\n");
  EXPECT_EQ(integer.value.type, RespValue::Type::kInteger);
  EXPECT_EQ(integer.value.integer, 42);
  EXPECT_EQ(integer.consumed, 5u) << "one value at a time";

  auto bulk = parse("$5\r\na\r\nbc\r\n");
  EXPECT_EQ(bulk.value.type, RespValue::Type::kBulkString);
  EXPECT_EQ(bulk.value.text, "a\r\nbc");

  EXPECT_EQ(parse("$-1\r\n").value.type, RespValue::Type::kNull);
  EXPECT_EQ(parse("*-1\r\n").value.type, RespValue::Type::kNull);
  EXPECT_EQ(parse("$0\r\n\r\n").value.type, RespValue::Type::kBulkString);

  auto array = parse("*3\r\n:1\r\n*1\r\n+x\r\n$-1\r\n");
  ASSERT_EQ(array.status, Status::kValue);
  ASSERT_EQ(array.value.elements.size(), 3u);
  EXPECT_EQ(array.value.elements[1].elements[0].text, "x");
  EXPECT_EQ(array.value.elements[2].type, RespValue::Type::kNull);
}

TEST(Resp, EveryPrefixOfAValueNeedsMore) {
  const std::string whole = "*2\r\n$3\r\nabc\r\n:-12\r\n";
  for (size_t n = 0; n < whole.size(); ++n) {
    EXPECT_EQ(parse(std::string_view(whole).substr(0, n)).status, Status::kNeedMore) << n;
  }
  EXPECT_EQ(parse(whole).status, Status::kValue);
}

TEST(Resp, MalformedRepliesAreErrorsNotCrashes) {
  struct Case {
    const char* bytes;
    const char* why;
  };
  const Case cases[] = {
      {"!oops\r\n", "unknown RESP type byte 0x21"},
      {"%1\r\n+a\r\n+b\r\n", "unknown RESP type byte 0x25"},  // RESP3 map
      {"_\r\n", "unknown RESP type byte 0x5f"},              // RESP3 null
      {":12a\r\n", "integer \"12a\" is not a number"},
      {":\r\n", "integer \"\" is not a number"},
      {":99999999999999999999\r\n", "integer \"99999999999999999999\" is not a number"},
      {"$-2\r\n", "bulk length -2 is out of range"},
      {"$x\r\n", "bulk length \"x\" is not a number"},
      {"$9999999\r\n", "bulk length 9999999 is out of range"},
      {"$3\r\nabcXY", "a bulk string not followed by CRLF"},
      {"*-5\r\n", "array length -5 is out of range"},
      {"*100000\r\n", "array length 100000 is out of range"},
      {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "arrays nested deeper than 8"},
  };
  for (const auto& c : cases) {
    auto result = parse(c.bytes);
    EXPECT_EQ(result.status, Status::kMalformed) << c.bytes;
    EXPECT_EQ(result.error, c.why) << c.bytes;
  }
  std::string longLine = "+" + std::string(5000, 'a');
  EXPECT_EQ(parse(longLine).status, Status::kMalformed) << "no CRLF within 4 KiB";
  EXPECT_EQ(parse(longLine + "\r\n").status, Status::kMalformed);
  EXPECT_EQ(parse("*1\r\n!x\r\n").status, Status::kMalformed) << "inside an array too";
}

}  // namespace
}  // namespace weft::proxy
