#include "hbone/test_support.h"

#include <fstream>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>

#include "ca/csr.h"
#include "ca/key_spec.h"
#include "tls/pem.h"

namespace weft::hbone::testing {

namespace asio = boost::asio;

TestMesh::TestMesh() : pki_(ca::testing::TestPki::make()) {
  issuer_ = std::make_unique<ca::WorkloadIssuer>(std::make_shared<ca::CaBundle>(pki_.bundle()), systemClock());
}

TlsCredentials TestMesh::issue(const std::string& spiffeUri) const {
  auto id = tls::SpiffeId::parse(spiffeUri);
  if (!id) throw std::runtime_error(id.error().message);
  auto key = ca::generateKey(ca::KeySpec::ecdsaP256());
  auto csr = ca::makeCsr(key->get(), *id);
  auto issued = issuer_->issue({.csr = tls::toPem(csr->get()), .identity = *id, .ttl = std::chrono::hours(1)});
  if (!issued) throw std::runtime_error(issued.error().message);
  return TlsCredentials{issued->certChainPem, tls::privateKeyToPem(key->get()), issued->rootPem};
}

void writeCredentials(const std::filesystem::path& dir, const std::string& prefix, const TlsCredentials& credentials) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / (prefix + "cert.pem")) << credentials.certChainPem;
  std::ofstream(dir / (prefix + "key.pem")) << credentials.keyPem;
  std::ofstream(dir / (prefix + "root.pem")) << credentials.rootsPem;
}

void runCoroutine(asio::io_context& io, std::function<asio::awaitable<void>()> body, std::chrono::seconds limit) {
  struct Outcome {
    bool done = false;
    std::exception_ptr failure;
  };
  auto outcome = std::make_shared<Outcome>();  // outlives us if the body overruns
  asio::co_spawn(io, body(), [outcome](std::exception_ptr e) {
    outcome->done = true;
    outcome->failure = e;
  });
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!outcome->done && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(100));
  if (!outcome->done) ADD_FAILURE() << "test coroutine did not finish within " << limit.count() << " s";
  if (outcome->failure) std::rethrow_exception(outcome->failure);
}

void drain(asio::io_context& io, std::chrono::milliseconds limit) {
  io.restart();
  io.run_for(limit);
}

}  // namespace weft::hbone::testing
