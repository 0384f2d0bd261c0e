#pragma once
// The client's side of a relay when the gateway terminated its TLS (a Gateway server with
// protocol TLS and tls mode SIMPLE or MUTUAL, whose bytes then go on as TCP): a
// net::RelaySide over the TLS stream.
//
// How the two directions end: the client's close_notify (or its TCP FIN without one, which
// many clients send) is the end of its sending, passed on to the upstream as a half-close;
// the upstream's end is a close_notify to the client, sent without waiting for the
// client's own, after which nothing more is read from the client: bytes it sends after the
// upstream finished are dropped (Envoy would still read them; clients of request/response
// protocols have nothing more to say by then). The close_notify may take a second at most,
// as the HTTPS path's does: a client that stopped reading cannot hold the relay.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace weft::proxy {

class TlsRelaySide {
 public:
  using Stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  explicit TlsRelaySide(Stream& stream) : stream_(stream) {}

  // One TLS record per read is what OpenSSL gives; a client that writes small pieces sends
  // small records, and relaying each alone costs the upstream a system call apiece. So the
  // application data already received is taken too, up to `into`'s size: those reads
  // complete without touching the socket.
  boost::asio::awaitable<size_t> readSome(boost::asio::mutable_buffer into, boost::system::error_code& ec) {
    size_t n = co_await stream_.async_read_some(into, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec == boost::asio::ssl::error::stream_truncated) ec = boost::asio::error::eof;
    SSL* ssl = stream_.native_handle();
    while (!ec && n < into.size() && dataBuffered(ssl)) {
      boost::system::error_code more;
      size_t got = co_await stream_.async_read_some(into + n, boost::asio::redirect_error(boost::asio::use_awaitable, more));
      n += got;
      // What was read is relayed first; an end or an error shows on the next read.
      if (more || got == 0) break;
    }
    co_return n;
  }

  boost::asio::awaitable<size_t> writeSome(boost::asio::const_buffer from, boost::system::error_code& ec) {
    co_return co_await stream_.async_write_some(from, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }

  boost::asio::awaitable<void> endSending() {
    // Marked as if the client's close_notify had come: SSL_shutdown then only writes ours
    // (one write, which may run next to the other direction's pending read), and a read of
    // the client's side from now on ends at once.
    SSL* ssl = stream_.native_handle();
    SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
    // At most a second: then both ways are shut down (not closed: the descriptor stays
    // this connection's until its owners let go), which ends the write.
    // The handler may run after this side is gone (it fired just as the write finished):
    // it holds the descriptor and a flag, never `this`.
    auto finished = std::make_shared<bool>(false);
    boost::asio::steady_timer deadline(stream_.get_executor());
    deadline.expires_after(std::chrono::seconds(1));
    deadline.async_wait([finished, descriptor = socket().native_handle()](boost::system::error_code ec) {
      if (!ec && !*finished) ::shutdown(descriptor, SHUT_RDWR);
    });
    boost::system::error_code ignored;
    co_await stream_.async_shutdown(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    *finished = true;
    deadline.cancel();
    stopReceiving();
  }

  // Whether application data can be read now without waiting on the client. A peek
  // processes the records the engine's memory BIO holds (it never blocks); a record that
  // carries no data (a KeyUpdate, an alert) or one cut short leaves nothing pending, and
  // then the bytes already read go on at once. A KeyUpdate's answer the peek wrote waits in
  // the BIO for the engine's next operation to send it.
  static bool dataBuffered(SSL* ssl) {
    if (SSL_pending(ssl) > 0) return true;
    ERR_clear_error();
    unsigned char byte;
    size_t peeked = 0;
    bool any = SSL_peek_ex(ssl, &byte, 1, &peeked) == 1 && SSL_pending(ssl) > 0;
    ERR_clear_error();  // a want-read or an end is the next read's to report
    return any;
  }

  void stopReceiving() {
    boost::system::error_code ignored;
    socket().shutdown(boost::asio::socket_base::shutdown_receive, ignored);
  }

  void abort() {
    boost::system::error_code ignored;
    socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
  }

 private:
  boost::asio::ip::tcp::socket& socket() { return stream_.next_layer().socket(); }

  Stream& stream_;
};

}  // namespace weft::proxy
