#include "cli/ztunnel_admin.h"

#include <future>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "localcluster/netns.h"
#include "model/json_access.h"

namespace weft::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using model::stringAt;

constexpr int kAdminPort = 15000;

Result<std::string> httpGet(const std::string& address, int port, const std::string& target) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return makeError("ztunnel address {:?}: {}", address, ec.message());
  socket.connect({ip, static_cast<unsigned short>(port)}, ec);
  if (ec) return makeError("connecting to ztunnel's admin port {}:{}: {}", address, port, ec.message());
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, address);
  http::write(socket, request, ec);
  if (ec) return makeError("asking ztunnel at {}: {}", address, ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(socket, buffer, parser, ec);
  if (ec) return makeError("reading ztunnel's answer from {}: {}", address, ec.message());
  if (parser.get().result_int() != 200) return makeError("ztunnel at {} answered {} for {}", address, parser.get().result_int(), target);
  return parser.get().body();
}

}  // namespace

Result<model::Object> ztunnelOnNode(const store::LocalStore& store, const std::string& node) {
  auto pods = store.list("Pod", "istio-system");
  if (!pods) return pods.error();
  for (const auto& pod : *pods) {
    if (pod.label("app") != "ztunnel" || stringAt(pod.value(), {"spec", "nodeName"}) != node) continue;
    if (stringAt(pod.value(), {"status", "phase"}) != "Running") continue;
    return pod;
  }
  return makeError("no ztunnel is running on node {} (is the mesh installed? `weft get pods -n istio-system`)", node);
}

Result<json::value> fetchConfigDump(const ClusterContext& cluster, const model::Object& ztunnelPod) {
  std::string address = stringAt(ztunnelPod.value(), {"status", "podIP"});
  std::string netns = podNetns(cluster, ztunnelPod);
  // Entering a namespace moves only the calling thread: the request runs on its own.
  std::packaged_task<Result<std::string>()> task([&] () -> Result<std::string> {
    if (auto entered = localcluster::enterNetns(netns); !entered) return entered.error();
    return httpGet(address, kAdminPort, "/config_dump");
  });
  auto body = task.get_future();
  std::thread(std::move(task)).join();
  auto text = body.get();
  if (!text) return text.error();
  boost::system::error_code ec;
  json::value parsed = json::parse(*text, ec);
  if (ec) return makeError("ztunnel {} sent a config dump that is not JSON: {}", ztunnelPod.name(), ec.message());
  return parsed;
}

}  // namespace weft::cli
