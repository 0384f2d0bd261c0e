#include "control/jwks_resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "base/subprocess.h"

namespace weft::control {
namespace {

using namespace std::chrono_literals;

// An HTTP/1.1 server on a loopback port answering each path with a canned raw response;
// "/stall" is held open without an answer until the server stops.
class CannedHttpServer {
 public:
  explicit CannedHttpServer(std::map<std::string, std::string> answers) : answers_(std::move(answers)) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listener_, 16);
    socklen_t length = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedHttpServer() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int connections() const { return connections_; }

  static std::string ok(const std::string& body) {
    return "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " + std::to_string(body.size()) +
           "\r\nconnection: close\r\n\r\n" + body;
  }

 private:
  void serve() {
    std::vector<int> stalled;
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++connections_;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd c{client, POLLIN, 0};
        if (poll(&c, 1, 2000) <= 0) break;
        ssize_t n = read(client, buffer, sizeof buffer);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      auto start = request.find(' ') + 1;
      std::string path = request.substr(start, request.find(' ', start) - start);
      if (path == "/stall") {
        stalled.push_back(client);
        continue;
      }
      auto answer = answers_.find(path);
      std::string response = answer != answers_.end() ? answer->second : "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
      [[maybe_unused]] auto written = write(client, response.data(), response.size());
      close(client);
    }
    for (int fd : stalled) close(fd);
  }

  std::map<std::string, std::string> answers_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

constexpr const char* kJwks = R"({"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]})";

JwksSource uriSource(const std::string& url) { return {url, "https://issuer.example"}; }

TEST(FetchJwks, ReadsAJwksWithALengthOrChunked) {
  CannedHttpServer server({{"/keys", CannedHttpServer::ok(kJwks)},
                           {"/chunked", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                                        "b\r\n{\"keys\":[]}\r\n0\r\n\r\n"}});
  auto keys = fetchJwks(uriSource(server.url("/keys")), {});
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(*keys, kJwks);
  auto chunked = fetchJwks(uriSource(server.url("/chunked")), {});
  ASSERT_TRUE(chunked) << chunked.error().message;
  EXPECT_EQ(*chunked, R"({"keys":[]})");
}

TEST(FetchJwks, FollowsTheIssuersDiscoveryDocument) {
  CannedHttpServer idp({{"/keys", CannedHttpServer::ok(kJwks)}});
  CannedHttpServer issuer({{"/realms/a/.well-known/openid-configuration",
                            CannedHttpServer::ok(R"({"issuer":"x","jwks_uri":")" + idp.url("/keys") + R"("})")},
                           {"/realms/b/.well-known/openid-configuration", CannedHttpServer::ok(R"({"issuer":"x"})")}});
  auto keys = fetchJwks({"", issuer.url("/realms/a/")}, {});
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(*keys, kJwks);
  auto none = fetchJwks({"", issuer.url("/realms/b")}, {});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("/realms/b/.well-known/openid-configuration: the discovery document has no http(s) jwks_uri"),
            std::string::npos)
      << none.error().message;
}

TEST(FetchJwks, RefusesWhatIsNotAJwks) {
  CannedHttpServer server({{"/html", CannedHttpServer::ok("<html>login</html>")},
                           {"/object", CannedHttpServer::ok(R"({"key":[]})")},
                           {"/array", CannedHttpServer::ok("[]")},
                           {"/moved", "HTTP/1.1 302 Found\r\nlocation: file:///etc/passwd\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"},
                           {"/big", CannedHttpServer::ok(std::string(5000, ' ') + "{\"keys\":[]}")}});
  auto message = [&](const std::string& path, FetchLimits limits = {}) {
    auto keys = fetchJwks(uriSource(server.url(path)), limits);
    return keys ? std::string("fetched") : keys.error().message;
  };
  EXPECT_NE(message("/missing").find("/missing: HTTP 404"), std::string::npos) << message("/missing");
  EXPECT_NE(message("/html").find("not JSON"), std::string::npos) << message("/html");
  EXPECT_NE(message("/object").find("not a JWKS (no \"keys\" array)"), std::string::npos) << message("/object");
  EXPECT_NE(message("/array").find("not a JSON object"), std::string::npos) << message("/array");
  EXPECT_NE(message("/moved"), "fetched") << "a redirect to file: is not followed";
  FetchLimits small;
  small.maxBytes = 1024;
  EXPECT_NE(message("/big", small).find("larger than 1024 bytes"), std::string::npos) << message("/big", small);
  EXPECT_EQ(message("/big"), "fetched");
  auto notHttp = fetchJwks(uriSource("file:///etc/passwd"), {});
  ASSERT_FALSE(notHttp);
  EXPECT_NE(notHttp.error().message.find("only http and https"), std::string::npos);
}

TEST(FetchJwks, ASilentServerCostsTheRulesTimeout) {
  CannedHttpServer server({});
  JwksSource source = uriSource(server.url("/stall"));
  source.timeout = 200ms;
  auto keys = fetchJwks(source, {});
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().message.find("timed out"), std::string::npos) << keys.error().message;
}

TEST(FetchJwks, BlockedRangesAreNeverConnectedTo) {
  CannedHttpServer server({{"/keys", CannedHttpServer::ok(kJwks)}});
  auto settings = JwksResolver::fromEnvironment(nullptr, "10.0.0.0/8, 127.0.0.0/8");
  ASSERT_TRUE(settings) << settings.error().message;
  auto keys = fetchJwks(uriSource(server.url("/keys")), settings->limits);
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().message.find("not fetched: 127.0.0.1 is in the blocked range 127.0.0.0/8"), std::string::npos) << keys.error().message;
  EXPECT_EQ(server.connections(), 0);
}

TEST(JwksResolverSettings, ReadIstiodsVariables) {
  auto defaults = JwksResolver::fromEnvironment(nullptr, nullptr);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->timing.refresh, 20min);
  EXPECT_TRUE(defaults->limits.blocked.empty());
  auto set = JwksResolver::fromEnvironment("90s", "169.254.169.254");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->timing.refresh, 90s);
  ASSERT_EQ(set->limits.blocked.size(), 1u);
  EXPECT_EQ(set->limits.blocked[0].str(), "169.254.169.254/32");
  auto badInterval = JwksResolver::fromEnvironment("soon", nullptr);
  ASSERT_FALSE(badInterval);
  EXPECT_NE(badInterval.error().message.find("PILOT_JWT_PUB_KEY_REFRESH_INTERVAL=\"soon\""), std::string::npos) << badInterval.error().message;
  EXPECT_FALSE(JwksResolver::fromEnvironment("-1m", nullptr));
  auto badCidr = JwksResolver::fromEnvironment(nullptr, "10.0.0.0/8,10.1.2.3/8");
  ASSERT_FALSE(badCidr);
  EXPECT_NE(badCidr.error().message.find("BLOCKED_CIDRS_IN_JWKS_URIS: \"10.1.2.3/8\""), std::string::npos) << badCidr.error().message;
}

// `openssl s_server -WWW`: files of a directory over HTTPS, with a certificate for
// 127.0.0.1 made by the openssl command; stopped on destruction.
class OpensslWwwServer {
 public:
  explicit OpensslWwwServer(const std::filesystem::path& dir) {
    auto made = runCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                            (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-subj", "/CN=jwks", "-addext",
                            "subjectAltName=IP:127.0.0.1", "-days", "1"});
    if (!made || made->exitCode != 0) ADD_FAILURE() << (made ? made->output : made.error().message);
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      if (chdir(dir.c_str()) != 0) _exit(127);
      execlp("openssl", "openssl", "s_server", "-WWW", "-accept", "127.0.0.1:0", "-cert", "cert.pem", "-key", "key.pem",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    // It prints "ACCEPT 127.0.0.1:<port>" once listening (after a line about DH
    // parameters); the wait is bounded.
    std::string printed;
    char buffer[256];
    auto accepted = [&] {
      auto at = printed.find("ACCEPT ");
      return at != std::string::npos && printed.find('\n', at) != std::string::npos;
    };
    for (int i = 0; i < 100 && !accepted(); ++i) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      printed.append(buffer, static_cast<size_t>(n));
    }
    close(out[0]);
    if (accepted()) {
      auto line = printed.substr(printed.find("ACCEPT "));
      port_ = std::stoi(line.substr(line.find(':') + 1));
    }
  }
  ~OpensslWwwServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string url(const std::string& file) const { return "https://127.0.0.1:" + std::to_string(port_) + "/" + file; }
  bool started() const { return port_ > 0; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/weft-jwks-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(FetchJwks, HttpsChecksTheServersCertificate) {
  TempDir dir;
  std::ofstream(dir.path() / "jwks.json") << kJwks;
  OpensslWwwServer server(dir.path());
  ASSERT_TRUE(server.started());
  FetchLimits withCa;
  withCa.caFile = (dir.path() / "cert.pem").string();
  auto trusted = fetchJwks(uriSource(server.url("jwks.json")), withCa);
  ASSERT_TRUE(trusted) << trusted.error().message;
  EXPECT_EQ(*trusted, kJwks);
  auto untrusted = fetchJwks(uriSource(server.url("jwks.json")), {});
  ASSERT_FALSE(untrusted) << "a certificate the system's roots do not sign is refused";
  EXPECT_NE(untrusted.error().message.find("certificate"), std::string::npos) << untrusted.error().message;
}

// Waits (bounded) for the resolver to signal a change.
bool changeSignalled(const JwksResolver& resolver) {
  pollfd p{resolver.changedFd(), POLLIN, 0};
  return poll(&p, 1, 10000) == 1;
}

TEST(JwksResolver, FetchesWantedSourcesInTheBackgroundAndSignals) {
  CannedHttpServer server({{"/keys", CannedHttpServer::ok(kJwks)}});
  JwksResolver resolver({});
  resolver.want({uriSource(server.url("/keys")), uriSource(server.url("/gone"))});
  std::map<std::string, FetchedJwks> results;
  for (int i = 0; i < 5 && (results.size() < 2 || results.begin()->second == FetchedJwks{} || std::next(results.begin())->second == FetchedJwks{}); ++i) {
    ASSERT_TRUE(changeSignalled(resolver));
    resolver.takeChange();
    results = resolver.results();
  }
  EXPECT_EQ(results[server.url("/keys")].jwks, kJwks);
  EXPECT_NE(results[server.url("/gone")].error.find("HTTP 404"), std::string::npos);
  EXPECT_EQ(resolver.fetchesSucceeded(), 1u);
  EXPECT_GE(resolver.fetchesFailed(), 1u);
}

}  // namespace
}  // namespace weft::control
