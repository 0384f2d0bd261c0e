#include "proxy/protocol_sniff.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "proxy/h2_downstream.h"

namespace weft::proxy {
namespace {

using enum SniffedProtocol;

TEST(ProtocolSniff, RequestLinesAreHttp) {
  EXPECT_EQ(sniffProtocol("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), kHttp);
  EXPECT_EQ(sniffProtocol("POST /upload?x=1 HTTP/1.0\r\n"), kHttp);
  EXPECT_EQ(sniffProtocol("OPTIONS * HTTP/1.1\r\n"), kHttp);
  EXPECT_EQ(sniffProtocol("CONNECT example.com:443 HTTP/1.1\r\n"), kHttp);
  EXPECT_EQ(sniffProtocol("GET / HTTP/1.1\n"), kHttp);  // a bare LF, as parsers take it
  EXPECT_EQ(sniffProtocol(std::string(kHttp2Preface) + "\x00\x00\x00\x04"), kHttp);
}

TEST(ProtocolSniff, EveryPrefixOfARequestLineOrThePrefaceNeedsMore) {
  for (std::string whole : {std::string("GET /hostname HTTP/1.1\r\n"), std::string(kHttp2Preface)}) {
    for (size_t n = 0; n < whole.size(); ++n) EXPECT_EQ(sniffProtocol(whole.substr(0, n)), kNeedMore) << whole.substr(0, n);
    EXPECT_EQ(sniffProtocol(whole), kHttp) << whole;
  }
}

TEST(ProtocolSniff, OtherProtocolsAreNot) {
  EXPECT_EQ(sniffProtocol("hello tcp\n"), kNotHttp);         // tcp-echo: a word, a space, then no version
  EXPECT_EQ(sniffProtocol("hello world HTTP/2.0\r\n"), kNotHttp);
  EXPECT_EQ(sniffProtocol("\x16\x03\x01\x02\x00\x01"), kNotHttp);  // a TLS ClientHello
  EXPECT_EQ(sniffProtocol("*1\r\n$4\r\nPING\r\n"), kNotHttp);     // Redis
  EXPECT_EQ(sniffProtocol(" GET / HTTP/1.1\r\n"), kNotHttp);
  EXPECT_EQ(sniffProtocol("GET  / HTTP/1.1\r\n"), kNotHttp);      // an empty target
  EXPECT_EQ(sniffProtocol("GET /\t HTTP/1.1\r\n"), kNotHttp);
  EXPECT_EQ(sniffProtocol("GET / HTTP/1.2\r\n"), kNotHttp);
  EXPECT_EQ(sniffProtocol("GET / HTTP/1.1\r\r"), kNotHttp);
  EXPECT_EQ(sniffProtocol(std::string(30, 'A') + " / HTTP/1.1\r\n"), kNotHttp);  // no method is that long
  EXPECT_EQ(sniffProtocol(std::string(30, 'A')), kNotHttp);
  EXPECT_EQ(sniffProtocol("PRI * HTTP/2.0\r\n\r\nXX"), kNotHttp);
}

TEST(ProtocolSniff, ALongTargetIsTakenForHttpOnceTheBufferIsFull) {
  std::string line = "GET /" + std::string(kMaxSniffBytes, 'a');
  EXPECT_EQ(sniffProtocol(std::string_view(line).substr(0, 100)), kNeedMore);
  EXPECT_EQ(sniffProtocol(std::string_view(line).substr(0, kMaxSniffBytes)), kHttp);
  // Cut inside the version by the buffer's end: still a full peek, still HTTP.
  std::string cut = "GET /" + std::string(kMaxSniffBytes - 13, 'a') + " HTTP/1.";
  ASSERT_EQ(cut.size(), kMaxSniffBytes);
  EXPECT_EQ(sniffProtocol(cut), kHttp);
}

TEST(ProtocolSniff, RandomBytesNeverCrashAndRarelyPass) {
  std::mt19937 random(7);
  int http = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(1 + random() % 64, '\0');
    for (auto& c : bytes) c = static_cast<char>(random());
    if (sniffProtocol(bytes) == kHttp) ++http;
  }
  EXPECT_EQ(http, 0);
}

}  // namespace
}  // namespace weft::proxy
