#include "proxy/client_hello.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <memory>
#include <random>
#include <string>

#include "proxy/client_hello_test_support.h"

namespace weft::proxy {
namespace {

using State = ClientHelloScan::State;
using testing::realClientHello;

// The same handshake message cut into records of at most `piece` bytes each.
std::string reframed(const std::string& hello, size_t piece) {
  std::string message = hello.substr(5);
  std::string out;
  for (size_t at = 0; at < message.size(); at += piece) {
    std::string fragment = message.substr(at, piece);
    out += std::string{22, 3, 1, static_cast<char>(fragment.size() >> 8), static_cast<char>(fragment.size() & 0xff)} + fragment;
  }
  return out;
}

TEST(ClientHello, ReadsTheServerNameOfARealClientHelloInLowerCase) {
  auto scan = scanClientHello(realClientHello("Nginx.Example.COM"));
  EXPECT_EQ(scan.state, State::kComplete) << scan.error;
  EXPECT_EQ(scan.sni, "nginx.example.com");
}

TEST(ClientHello, AClientWithoutServerNameIsCompleteWithNone) {
  auto scan = scanClientHello(realClientHello(""));
  EXPECT_EQ(scan.state, State::kComplete) << scan.error;
  EXPECT_EQ(scan.sni, "");
}

TEST(ClientHello, EveryPrefixNeedsMoreAndTheWholeAnswers) {
  std::string hello = realClientHello("a.example.com");
  for (size_t n = 0; n < hello.size(); ++n) {
    ASSERT_EQ(scanClientHello(std::string_view(hello).substr(0, n)).state, State::kNeedMore) << n << " of " << hello.size();
  }
  // Bytes after the ClientHello (none should come before the server answers) change nothing.
  EXPECT_EQ(scanClientHello(hello + "trailing").sni, "a.example.com");
}

TEST(ClientHello, AClientHelloSplitOverSeveralRecordsIsReassembled) {
  std::string hello = reframed(realClientHello("split.example.com"), 100);
  auto scan = scanClientHello(hello);
  EXPECT_EQ(scan.state, State::kComplete) << scan.error;
  EXPECT_EQ(scan.sni, "split.example.com");
  EXPECT_EQ(scanClientHello(std::string_view(hello).substr(0, 150)).state, State::kNeedMore);
}

TEST(ClientHello, WhatIsNotAClientHelloIsRefusedWithTheReason) {
  auto http = scanClientHello("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(http.state, State::kRefused);
  EXPECT_EQ(http.error, "not a TLS handshake record");
  // A handshake record holding a ServerHello (type 2).
  EXPECT_EQ(scanClientHello(std::string{22, 3, 3, 0, 4, 2, 0, 0, 0}).error, "the first handshake message is not a ClientHello");
  EXPECT_EQ(scanClientHello(std::string{22, 3, 3, 0, 0}).error, "TLS record length 0 is out of range");
  // A message length over the bound is refused before any of it arrives.
  EXPECT_EQ(scanClientHello(std::string{22, 3, 3, 0, 4, 1, 1, 0, 0}).error, "ClientHello of 65536 bytes is over 16384 bytes");
}

TEST(ClientHello, MalformedLengthsInsideTheMessageAreRefused) {
  std::string hello = realClientHello("x.example.com");
  // The body: version (2), random (32), session id (1 + n), cipher suites (2 + n) ...
  size_t body = 5 + 4;
  size_t sessionAt = body + 2 + 32;
  std::string badSession = hello;
  badSession[sessionAt] = 33;
  EXPECT_EQ(scanClientHello(badSession).state, State::kRefused);
  size_t suitesAt = sessionAt + 1 + static_cast<uint8_t>(hello[sessionAt]);
  std::string oddSuites = hello;
  oddSuites[suitesAt + 1] = static_cast<char>(static_cast<uint8_t>(oddSuites[suitesAt + 1]) | 1);
  EXPECT_EQ(scanClientHello(oddSuites).state, State::kRefused);
  // The server name itself: a byte that no DNS name has.
  std::string badName = hello;
  badName[badName.find("x.example.com")] = '/';
  auto scan = scanClientHello(badName);
  EXPECT_EQ(scan.state, State::kRefused);
  EXPECT_EQ(scan.error, "ClientHello: server name is not a DNS name");
}

TEST(ClientHello, RandomDamageNeverReadsOutOfBounds) {
  // Under the sanitizers of the debug build, a read past the input would be reported.
  std::string hello = realClientHello("fuzz.example.com");
  std::minstd_rand random(7);
  for (int round = 0; round < 5000; ++round) {
    std::string damaged = hello;
    for (int flips = 0; flips < 3; ++flips) damaged[random() % damaged.size()] = static_cast<char>(random());
    damaged.resize(random() % (damaged.size() + 1));
    auto scan = scanClientHello(damaged);
    if (scan.state == State::kComplete) {
      EXPECT_LE(scan.sni.size(), 255u);
    }
  }
}

}  // namespace
}  // namespace weft::proxy
