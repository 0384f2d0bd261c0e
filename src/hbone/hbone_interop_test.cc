// Interop with an independent HTTP/2 stack: python3-h2 with Python's ssl module, as HBONE
// client against our server and as HBONE server against our client
// (scripts in tests/hbone_interop/).

#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/subprocess.h"
#include "hbone/hbone_fixture.h"

namespace weft::hbone::testing {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path kScripts = WEFT_HBONE_INTEROP_DIR;

// The first python3 that can import h2 (a pyenv python3 on PATH may lack Debian's package).
std::string pythonWithH2() {
  for (std::string candidate : {"/usr/bin/python3", "python3"}) {
    auto ran = runCommand({candidate, "-c", "import h2"});
    if (ran && ran->exitCode == 0) return candidate;
  }
  return "";
}

class HboneInterop : public HboneLoopback {
 protected:
  void SetUp() override {
    python_ = pythonWithH2();
    if (python_.empty()) GTEST_SKIP() << "no python3 with the h2 module";
    HboneLoopback::SetUp();
    char pattern[] = "/tmp/hbone-interop-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    writeCredentials(dir_, "client-", mesh_->issue(kClientId));
    writeCredentials(dir_, "server-", mesh_->issue(kServerId));
  }
  void TearDown() override {
    if (python_.empty()) return;
    HboneLoopback::TearDown();
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> tlsArgs(const std::string& prefix) const {
    return {"--cert", (dir_ / (prefix + "cert.pem")).string(), "--key", (dir_ / (prefix + "key.pem")).string(),
            "--roots", (dir_ / (prefix + "root.pem")).string()};
  }

  // Runs the python client on a thread while our server serves on this one.
  CommandOutput runPythonClient(const std::string& method, const std::string& authority) {
    std::vector<std::string> argv = {python_, (kScripts / "h2_client.py").string(), "--port",
                                     std::to_string(hboneEndpoint().port()), "--authority", authority, "--method",
                                     method, "--payload", "through python h2"};
    for (auto& arg : tlsArgs("client-")) argv.push_back(arg);
    std::atomic<bool> finished = false;
    CommandOutput output;
    std::thread client([&] {
      auto ran = runCommand(argv);
      output = ran ? std::move(ran.value()) : CommandOutput{-1, ran.error().message};
      finished = true;
    });
    runCoroutine(io_, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 2000 && !finished; ++i) co_await sleep(10ms);
    }, 40s);
    client.join();
    return output;
  }

  std::string python_;
  std::filesystem::path dir_;
};

TEST_F(HboneInterop, PythonClientTunnelsThroughOurServer) {
  auto output = runPythonClient("CONNECT", formatAuthority(echoEndpoint()));
  EXPECT_EQ(output.exitCode, 0) << output.output;
  EXPECT_NE(output.output.find("\"status\": 200"), std::string::npos) << output.output;
  EXPECT_NE(output.output.find("\"echo\": \"through python h2\""), std::string::npos) << output.output;
  EXPECT_NE(output.output.find(kServerId), std::string::npos) << output.output;
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].peerIdentity, kClientId);
  EXPECT_EQ(findHeader(requests_[0].headers, "baggage"), "k8s.cluster.name=interop");
}

TEST_F(HboneInterop, PythonClientGetIsRefusedWith400) {
  auto output = runPythonClient("GET", formatAuthority(echoEndpoint()));
  EXPECT_EQ(output.exitCode, 0) << output.output;
  EXPECT_NE(output.output.find("\"status\": 400"), std::string::npos) << output.output;
  EXPECT_TRUE(requests_.empty());
  EXPECT_EQ(serverCounters_.badConnects.load(), 1u);
}

TEST_F(HboneInterop, OurClientTunnelsThroughPythonServer) {
  std::string command = python_ + " " + (kScripts / "h2_server.py").string();
  for (auto& arg : tlsArgs("server-")) command += " " + arg;
  FILE* server = popen(command.c_str(), "r");
  ASSERT_NE(server, nullptr);
  char line[4096] = {};
  ASSERT_NE(fgets(line, sizeof line, server), nullptr) << "python server did not print its port";
  const int port = std::atoi(line);
  ASSERT_GT(port, 0) << line;

  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto t = target();
    t.peer = tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    t.authority = "10.0.0.9:8080";
    auto stream = co_await pool().connect(t);
    CO_ASSERT_TRUE(stream.ok());
    std::string payload(200000, 'z');
    CO_ASSERT_TRUE((co_await stream->write(payload)).ok());
    CO_ASSERT_TRUE(stream->closeWrite().ok());
    const std::string echoed = co_await readAll(**stream);
    EXPECT_EQ(echoed.size(), payload.size());
    stream.value().reset();
    pool().closeAll();
  });
  drain(io_, 500ms);

  std::string report;
  while (fgets(line, sizeof line, server) != nullptr) report += line;
  const int status = pclose(server);
  EXPECT_EQ(status, 0) << report;
  EXPECT_NE(report.find("\"method\": \"CONNECT\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"authority\": \"10.0.0.9:8080\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"forwarded\": \"for=\\\"127.0.0.1:4444\\\"\""), std::string::npos) << report;
  EXPECT_NE(report.find(kClientId), std::string::npos) << report;
  EXPECT_NE(report.find("\"echoed\": 200000"), std::string::npos) << report;
}

}  // namespace
}  // namespace weft::hbone::testing
