#include "admin/http_endpoints.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace weft::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct HttpEndpoints::State {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::map<std::string, HttpHandler> handlers;
};

namespace {

asio::awaitable<void> serve(tcp::socket socket, HttpEndpoints::State& state) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  while (true) {
    http::request<http::string_body> request;
    co_await http::async_read(socket, buffer, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::string path(request.target());
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    HttpAnswer answer{404, "text/plain; charset=utf-8", "not found\n"};
    if (auto found = state.handlers.find(path); found != state.handlers.end()) answer = found->second();
    http::response<http::string_body> response{static_cast<http::status>(answer.status), request.version()};
    response.set(http::field::content_type, answer.contentType);
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    response.keep_alive(request.keep_alive());
    response.body() = std::move(answer.body);
    response.prepare_payload();
    co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !response.keep_alive()) co_return;
  }
}

asio::awaitable<void> acceptLoop(HttpEndpoints::State& state) {
  while (true) {
    boost::system::error_code ec;
    tcp::socket socket = co_await state.acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(state.io, serve(std::move(socket), state), asio::detached);
  }
}

}  // namespace

Result<std::unique_ptr<HttpEndpoints>> HttpEndpoints::bind(const std::string& address, int port, std::map<std::string, HttpHandler> handlers,
                                                           bool shared) {
  auto state = std::make_unique<State>();
  state->handlers = std::move(handlers);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return makeError("{}: not an IP address", address);
  tcp::endpoint endpoint(ip, static_cast<uint16_t>(port));
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && shared) state->acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return makeError("listening on {}:{}: {}", address, port, ec.message());
  return std::unique_ptr<HttpEndpoints>(new HttpEndpoints(std::move(state)));
}

HttpEndpoints::HttpEndpoints(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpEndpoints::~HttpEndpoints() { stop(); }

void HttpEndpoints::start() {
  asio::co_spawn(state_->io, acceptLoop(*state_), asio::detached);
  thread_ = std::thread([this] { state_->io.run(); });
}

void HttpEndpoints::stop() {
  state_->io.stop();
  if (thread_.joinable()) thread_.join();
}

int HttpEndpoints::port() const { return state_->acceptor.local_endpoint().port(); }

}  // namespace weft::admin
