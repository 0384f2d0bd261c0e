#pragma once
// Test-only helpers for hbone_test: a mesh PKI issuing certificates valid on the real clock
// (the TLS handshake checks validity against it), and a harness running one coroutine test
// body on an io_context with a time limit.

#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "ca/test_ca.h"
#include "ca/workload_issuer.h"
#include "hbone/tls_context.h"

// ASSERT_* returns, which a coroutine cannot; these co_return instead.
#define CO_ASSERT_TRUE(cond)                     \
  if (!(cond)) {                                 \
    ADD_FAILURE() << "expected true: " #cond;    \
    co_return;                                   \
  }

namespace weft::hbone::testing {

class TestMesh {
 public:
  TestMesh();
  // A workload certificate for `spiffeUri` (any trust domain), valid from now for an hour.
  TlsCredentials issue(const std::string& spiffeUri) const;

 private:
  ca::testing::TestPki pki_;
  std::unique_ptr<ca::WorkloadIssuer> issuer_;
};

// Writes credentials as cert.pem, key.pem and root.pem under `dir`.
void writeCredentials(const std::filesystem::path& dir, const std::string& prefix, const TlsCredentials& credentials);

// Runs `body` on `io` until it finishes or `limit` passes (a failure). Leaves `io` stopped.
void runCoroutine(boost::asio::io_context& io, std::function<boost::asio::awaitable<void>()> body,
                  std::chrono::seconds limit = std::chrono::seconds(30));

// Runs `io` until it has no work or `limit` passes: lets closed connections wind down.
void drain(boost::asio::io_context& io, std::chrono::milliseconds limit = std::chrono::milliseconds(3000));

}  // namespace weft::hbone::testing
