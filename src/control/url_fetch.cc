#include "control/url_fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <mutex>

namespace weft::control {

namespace {

struct Body {
  std::string text;
  size_t maxBytes;
  bool tooLarge = false;
};

size_t appendBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  size_t bytes = size * count;
  if (body->text.size() + bytes > body->maxBytes) {
    body->tooLarge = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  body->text.append(data, bytes);
  return bytes;
}

const std::vector<IpRange>& alwaysBlocked() {
  static const std::vector<IpRange> ranges = [] {
    std::vector<IpRange> out;
    for (const char* cidr : {"169.254.0.0/16", "224.0.0.0/24", "fe80::/10", "ff02::/16", "100.100.100.200/32", "fd00:ec2::/32"}) {
      out.push_back(*IpRange::parse(cidr));
    }
    return out;
  }();
  return ranges;
}

std::string addressText(const sockaddr* address) {
  char printed[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, printed, sizeof printed);
  if (address->sa_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, printed, sizeof printed);
  return printed;
}

struct Guard {
  const std::vector<IpRange>* blocked;
  std::string refused;  // the address refused and why, for the error
};

// Called for every connection curl opens, after name resolution and for each redirect.
curl_socket_t openUnlessBlocked(void* user, curlsocktype, curl_sockaddr* address) {
  auto* guard = static_cast<Guard*>(user);
  const auto* peer = reinterpret_cast<const sockaddr*>(&address->addr);
  for (const auto* list : {&alwaysBlocked(), guard->blocked}) {
    for (const auto& range : *list) {
      if (range.contains(peer)) {
        guard->refused = fmt::format("{} is in the blocked range {}", addressText(peer), range.text());
        return CURL_SOCKET_BAD;
      }
    }
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

int stopIfCancelled(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel != nullptr && cancel->load() ? 1 : 0;
}

// curl_global_init is not thread-safe: the first fetch makes it, once.
void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Result<std::string> fetchUrl(const std::string& url, const FetchLimits& limits) {
  initCurlOnce();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return makeError("GET {}: cannot make a curl handle", url);
  Body body{{}, limits.maxBytes};
  Guard guard{&limits.blocked, {}};
  char detail[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  // Every option matters to what may be fetched: one curl refuses is an error, not a default.
  CURLcode set = CURLE_OK;
  auto option = [&](CURLoption which, auto value) {
    if (set == CURLE_OK) set = curl_easy_setopt(c, which, value);
  };
  option(CURLOPT_URL, url.c_str());
  option(CURLOPT_PROTOCOLS_STR, "http,https");
  option(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  option(CURLOPT_FOLLOWLOCATION, 1L);
  option(CURLOPT_MAXREDIRS, 3L);
  option(CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  option(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for name lookups in a threaded process
  option(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.maxBytes));
  option(CURLOPT_USERAGENT, "weftd/0.1.0");
  option(CURLOPT_WRITEFUNCTION, appendBody);
  option(CURLOPT_WRITEDATA, &body);
  option(CURLOPT_ERRORBUFFER, detail);
  option(CURLOPT_OPENSOCKETFUNCTION, openUnlessBlocked);
  option(CURLOPT_OPENSOCKETDATA, &guard);
  if (limits.cancel != nullptr) {
    option(CURLOPT_NOPROGRESS, 0L);
    option(CURLOPT_XFERINFOFUNCTION, stopIfCancelled);
    option(CURLOPT_XFERINFODATA, limits.cancel);
  }
  if (!limits.caFile.empty()) option(CURLOPT_CAINFO, limits.caFile.c_str());
  if (set != CURLE_OK) return makeError("GET {}: curl refused an option: {}", url, curl_easy_strerror(set));
  CURLcode code = curl_easy_perform(c);
  if (body.tooLarge || code == CURLE_FILESIZE_EXCEEDED) return makeError("GET {}: the answer is larger than {} bytes", url, limits.maxBytes);
  // A refused address only matters when no other address of the name worked (curl tries
  // the next one of a dual-stack host, as istiod's dialer does).
  if (code != CURLE_OK && !guard.refused.empty()) return makeError("GET {}: not fetched: {}", url, guard.refused);
  if (code != CURLE_OK) return makeError("GET {}: {}", url, detail[0] ? detail : curl_easy_strerror(code));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) return makeError("GET {}: HTTP {}", url, status);
  return std::move(body.text);
}

}  // namespace weft::control
