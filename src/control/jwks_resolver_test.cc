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
  // `host` is an IPv4 or IPv6 address; listening() says whether it could be bound.
  explicit CannedHttpServer(std::map<std::string, std::string> answers, const char* host = "127.0.0.1")
      : answers_(std::move(answers)), host_(host) {
    sockaddr_storage address{};
    socklen_t length = 0;
    if (host_.find(':') != std::string::npos) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
      in6->sin6_family = AF_INET6;
      inet_pton(AF_INET6, host, &in6->sin6_addr);
      length = sizeof *in6;
    } else {
      auto* in = reinterpret_cast<sockaddr_in*>(&address);
      in->sin_family = AF_INET;
      inet_pton(AF_INET, host, &in->sin_addr);
      length = sizeof *in;
    }
    listener_ = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    listening_ = bind(listener_, reinterpret_cast<sockaddr*>(&address), length) == 0 && listen(listener_, 16) == 0;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  bool listening() const { return listening_; }
  ~CannedHttpServer() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }
  std::string url(const std::string& path) const {
    std::string host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    return "http://" + host + ":" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

  static std::string redirect(const std::string& location) {
    return "HTTP/1.1 302 Found\r\nlocation: " + location + "\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
  }

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
  std::string host_;
  int listener_ = -1;
  int port_ = 0;
  bool listening_ = false;
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
                           {"/to-file", CannedHttpServer::redirect("file:///etc/passwd")},
                           {"/to-ftp", CannedHttpServer::redirect("ftp://127.0.0.1/keys")},
                           {"/created", "HTTP/1.1 203 Non-Authoritative Information\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"keys\":[]}"},
                           {"/big", CannedHttpServer::ok(std::string(5000, ' ') + "{\"keys\":[]}")}});
  auto message = [&](const std::string& path, FetchLimits limits = {}) {
    auto keys = fetchJwks(uriSource(server.url(path)), limits);
    return keys ? std::string("fetched") : keys.error().message;
  };
  EXPECT_NE(message("/missing").find("/missing: HTTP 404"), std::string::npos) << message("/missing");
  EXPECT_NE(message("/html").find("not JSON"), std::string::npos) << message("/html");
  EXPECT_NE(message("/object").find("not a JWKS (no \"keys\" array)"), std::string::npos) << message("/object");
  EXPECT_NE(message("/array").find("not a JSON object"), std::string::npos) << message("/array");
  // A redirect to another protocol is refused by curl's protocol list, not left as a 302.
  EXPECT_NE(message("/to-file").find("file"), std::string::npos) << message("/to-file");
  EXPECT_EQ(message("/to-file").find("HTTP 302"), std::string::npos) << message("/to-file");
  EXPECT_NE(message("/to-ftp").find("ftp"), std::string::npos) << message("/to-ftp");
  EXPECT_EQ(message("/created"), "fetched") << "any 2xx, as istiod";
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

TEST(FetchJwks, FollowsRedirectsCountingEachGet) {
  CannedHttpServer target({{"/keys", CannedHttpServer::ok(kJwks)}});
  CannedHttpServer first({{"/moved", CannedHttpServer::redirect(target.url("/keys"))}});
  FetchCounts counts;
  auto keys = fetchJwks(uriSource(first.url("/moved")), {}, &counts);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(*keys, kJwks);
  EXPECT_EQ(counts.succeeded, 1u) << "one GET, whatever its redirects";
  CannedHttpServer idp({{"/.well-known/openid-configuration", CannedHttpServer::ok(R"({"jwks_uri":")" + target.url("/keys") + R"("})")}});
  ASSERT_TRUE(fetchJwks({"", idp.url("")}, {}, &counts));
  EXPECT_EQ(counts.succeeded, 3u) << "discovery is two GETs";
  EXPECT_FALSE(fetchJwks(uriSource(idp.url("/missing")), {}, &counts));
  EXPECT_EQ(counts.failed, 1u);
}

TEST(FetchJwks, BlockedRangesAreNeverConnectedTo) {
  CannedHttpServer server({{"/keys", CannedHttpServer::ok(kJwks)}});
  auto settings = JwksResolver::fromEnvironment(nullptr, "10.0.0.0/8, 127.0.0.0/8");
  EXPECT_TRUE(settings.warnings.empty());
  auto keys = fetchJwks(uriSource(server.url("/keys")), settings.limits);
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().message.find("not fetched: 127.0.0.1 is in the blocked range 127.0.0.0/8"), std::string::npos) << keys.error().message;
  EXPECT_EQ(server.connections(), 0);
}

// A name with several addresses (localhost: 127.0.0.1, then ::1) fails only if none is
// allowed: curl goes on to the next address after a refused one. The server is on ::1,
// so the refused 127.0.0.1 is tried first.
TEST(FetchJwks, ABlockedAddressOfADualStackNameLeavesTheOther) {
  CannedHttpServer server({{"/keys", CannedHttpServer::ok(kJwks)}}, "::1");
  if (!server.listening()) GTEST_SKIP() << "no IPv6 loopback here";
  auto settings = JwksResolver::fromEnvironment(nullptr, "127.0.0.1");
  auto keys = fetchJwks(uriSource("http://localhost:" + std::to_string(server.port()) + "/keys"), settings.limits);
  ASSERT_TRUE(keys) << keys.error().message;
  auto both = JwksResolver::fromEnvironment(nullptr, "::1,127.0.0.1");
  auto none = fetchJwks(uriSource("http://localhost:" + std::to_string(server.port()) + "/keys"), both.limits);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("blocked range"), std::string::npos) << none.error().message;
}

// A redirect or an IPv4-mapped IPv6 address is checked as the address connected to.
TEST(FetchJwks, RedirectsAndMappedAddressesCannotReachABlockedRange) {
  CannedHttpServer hidden({{"/keys", CannedHttpServer::ok(kJwks)}}, "127.0.0.2");
  CannedHttpServer open({{"/moved", CannedHttpServer::redirect(hidden.url("/keys"))}});
  auto settings = JwksResolver::fromEnvironment(nullptr, "127.0.0.2");
  auto redirected = fetchJwks(uriSource(open.url("/moved")), settings.limits);
  ASSERT_FALSE(redirected);
  EXPECT_NE(redirected.error().message.find("127.0.0.2 is in the blocked range 127.0.0.2/32"), std::string::npos) << redirected.error().message;
  auto mapped = fetchJwks(uriSource("http://[::ffff:127.0.0.2]:" + std::to_string(hidden.port()) + "/keys"), settings.limits);
  ASSERT_FALSE(mapped);
  EXPECT_NE(mapped.error().message.find("is in the blocked range 127.0.0.2/32"), std::string::npos) << mapped.error().message;
  auto v6Range = JwksResolver::fromEnvironment(nullptr, "::ffff:127.0.0.0/104");
  ASSERT_EQ(v6Range.limits.blocked.size(), 1u);
  EXPECT_EQ(v6Range.limits.blocked[0].text(), "127.0.0.0/8") << "an IPv4 range written as mapped IPv6 is that IPv4 range";
  auto viaV6 = fetchJwks(uriSource(hidden.url("/keys")), v6Range.limits);
  ASSERT_FALSE(viaV6);
  EXPECT_NE(viaV6.error().message.find("127.0.0.2 is in the blocked range 127.0.0.0/8"), std::string::npos) << viaV6.error().message;
  auto linkLocal = fetchJwks(uriSource("http://169.254.169.254/latest/meta-data"), {});
  ASSERT_FALSE(linkLocal);
  EXPECT_NE(linkLocal.error().message.find("169.254.169.254 is in the blocked range 169.254.0.0/16"), std::string::npos)
      << "link-local is always blocked: " << linkLocal.error().message;
  EXPECT_EQ(hidden.connections(), 0);
}

// As istiod reads them: host bits masked, IPv6 taken, a bad entry or interval skipped
// with a warning rather than stopping weftd.
TEST(JwksResolverSettings, ReadIstiodsVariables) {
  auto defaults = JwksResolver::fromEnvironment(nullptr, nullptr);
  EXPECT_EQ(defaults.timing.refresh, 20min);
  EXPECT_TRUE(defaults.limits.blocked.empty());
  EXPECT_TRUE(defaults.warnings.empty());
  auto set = JwksResolver::fromEnvironment("90s", "169.254.169.254, 10.1.2.3/8,fd00::/8");
  EXPECT_EQ(set.timing.refresh, 90s);
  ASSERT_EQ(set.limits.blocked.size(), 3u);
  EXPECT_EQ(set.limits.blocked[0].text(), "169.254.169.254/32");
  EXPECT_EQ(set.limits.blocked[1].text(), "10.0.0.0/8");
  EXPECT_EQ(set.limits.blocked[2].text(), "fd00::/8");
  auto spaced = JwksResolver::fromEnvironment(nullptr, "\t10.0.0.0/8,\n192.168.0.0/16\n");
  EXPECT_TRUE(spaced.warnings.empty()) << "white space around entries, as a YAML block leaves it";
  EXPECT_EQ(spaced.limits.blocked.size(), 2u);
  EXPECT_EQ(JwksResolver::fromEnvironment(nullptr, "10.0.0.0/-0").warnings.size(), 1u) << "no sign on a prefix length";
  auto bad = JwksResolver::fromEnvironment("soon", "10.0.0.0/8,not-an-address,10.0.0.0/33");
  EXPECT_EQ(bad.timing.refresh, 20min);
  ASSERT_EQ(bad.limits.blocked.size(), 1u);
  ASSERT_EQ(bad.warnings.size(), 3u);
  EXPECT_NE(bad.warnings[0].find("PILOT_JWT_PUB_KEY_REFRESH_INTERVAL=\"soon\""), std::string::npos) << bad.warnings[0];
  EXPECT_NE(bad.warnings[1].find("\"not-an-address\""), std::string::npos) << bad.warnings[1];
  EXPECT_NE(bad.warnings[2].find("0 to 32"), std::string::npos) << bad.warnings[2];
  EXPECT_EQ(JwksResolver::fromEnvironment("-1m", nullptr).warnings.size(), 1u);
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
