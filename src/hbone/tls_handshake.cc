#include "hbone/tls_handshake.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <functional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tls/openssl_error.h"
#include "tls/x509_info.h"

namespace weft::hbone {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {

// What the verify callback learned; shared with it because OpenSSL calls it mid-handshake.
struct VerifyState {
  std::optional<tls::SpiffeId> identity;
  std::string refusal;
  bool identityRefused = false;
};

// Checks the leaf once OpenSSL has verified the chain; `accept` decides on the identity.
using IdentityCheck = std::function<Status(const tls::SpiffeId&)>;

void installVerifier(TlsStream& stream, std::shared_ptr<VerifyState> state, IdentityCheck accept) {
  stream.set_verify_callback([state, accept](bool preverified, ssl::verify_context& ctx) {
    X509_STORE_CTX* store = ctx.native_handle();
    if (!preverified) {
      state->refusal = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
      return false;
    }
    if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
    auto id = spiffeIdOf(X509_STORE_CTX_get_current_cert(store));
    if (!id) {
      state->refusal = id.error().message;
      state->identityRefused = true;
      return false;
    }
    if (auto ok = accept(*id); !ok) {
      state->refusal = ok.error().message;
      state->identityRefused = true;
      return false;
    }
    state->identity = *id;
    return true;
  });
}

bool isNoApplicationProtocol(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_NO_APPLICATION_PROTOCOL;
}

bool negotiatedH2(TlsStream& stream) {
  const unsigned char* alpn = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(stream.native_handle(), &alpn, &length);
  return length == 2 && alpn[0] == 'h' && alpn[1] == '2';
}

asio::awaitable<Result<TlsPeer>> handshake(asio::ip::tcp::socket socket, std::shared_ptr<ssl::context> context,
                                          ssl::stream_base::handshake_type side, IdentityCheck accept,
                                          std::chrono::milliseconds timeout, HboneCounters& counters,
                                          HboneCounters::Counter& identityRefusals) {
  boost::system::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  auto stream = std::make_unique<TlsStream>(std::move(socket), *context);
  auto state = std::make_shared<VerifyState>();
  installVerifier(*stream, state, std::move(accept));

  // A peer that stalls mid-handshake is cut off: the timer closes the socket under it.
  asio::steady_timer timer(stream->get_executor());
  timer.expires_after(timeout);
  auto finished = std::make_shared<bool>(false);
  timer.async_wait([finished, raw = stream.get()](boost::system::error_code ec) {
    if (!ec && !*finished) raw->lowest_layer().close();
  });
  auto [ec] = co_await stream->async_handshake(side, asio::as_tuple(asio::use_awaitable));
  *finished = true;
  timer.cancel();
  tls::clearOpensslErrors();

  if (ec) {
    if (state->identityRefused) {
      HboneCounters::bump(identityRefusals);
      co_return makeError("TLS peer refused: {}", state->refusal);
    }
    if (isNoApplicationProtocol(ec)) {
      HboneCounters::bump(counters.alpnRefusals);
      co_return Error{"TLS peer refused: ALPN h2 not offered"};
    }
    HboneCounters::bump(counters.tlsHandshakeFailures);
    if (!state->refusal.empty()) co_return makeError("TLS handshake failed: {}", state->refusal);
    co_return makeError("TLS handshake failed: {}", ec.message());
  }
  if (!negotiatedH2(*stream)) {
    HboneCounters::bump(counters.alpnRefusals);
    co_return Error{"TLS peer refused: ALPN h2 not negotiated"};
  }
  if (!state->identity) {  // cannot happen with SSL_VERIFY_PEER, but never trust silence
    HboneCounters::bump(counters.tlsHandshakeFailures);
    co_return Error{"TLS peer presented no certificate"};
  }
  co_return TlsPeer{std::move(context), std::move(stream), std::move(*state->identity)};
}

}  // namespace

Result<tls::SpiffeId> spiffeIdOf(X509* cert) {
  std::vector<std::string> spiffe;
  for (auto& uri : tls::uriSans(cert))
    if (uri.starts_with("spiffe://")) spiffe.push_back(std::move(uri));
  if (spiffe.size() != 1) return makeError("certificate has {} SPIFFE URI SANs, want exactly 1", spiffe.size());
  return tls::SpiffeId::parse(spiffe.front());
}

asio::awaitable<Result<TlsPeer>> acceptHboneTls(asio::ip::tcp::socket socket, std::shared_ptr<ssl::context> context,
                                                std::string trustDomain, std::chrono::milliseconds timeout,
                                                HboneCounters& counters) {
  auto accept = [trustDomain](const tls::SpiffeId& id) -> Status {
    if (id.trustDomain != trustDomain)
      return makeError("client {} is outside trust domain {}", id.uri(), trustDomain);
    return {};
  };
  co_return co_await handshake(std::move(socket), std::move(context), ssl::stream_base::server, accept, timeout,
                               counters, counters.trustDomainRefusals);
}

asio::awaitable<Result<TlsPeer>> connectHboneTls(asio::ip::tcp::socket socket, std::shared_ptr<ssl::context> context,
                                                 std::vector<std::string> expectedServerIds,
                                                 std::chrono::milliseconds timeout, HboneCounters& counters) {
  auto accept = [expected = std::move(expectedServerIds)](const tls::SpiffeId& id) -> Status {
    if (std::find(expected.begin(), expected.end(), id.uri()) == expected.end())
      return makeError("server {} is not an expected identity", id.uri());
    return {};
  };
  co_return co_await handshake(std::move(socket), std::move(context), ssl::stream_base::client, accept, timeout,
                               counters, counters.serverIdentityRefusals);
}

}  // namespace weft::hbone
