#include "control/url_fetch.h"

#include <curl/curl.h>

#include <arpa/inet.h>
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

struct Guard {
  const std::vector<Ipv4Cidr>* blocked;
  std::string refused;  // the address refused, for the error
};

// Called for every connection curl opens, after name resolution and for each redirect.
curl_socket_t openUnlessBlocked(void* user, curlsocktype, curl_sockaddr* address) {
  auto* guard = static_cast<Guard*>(user);
  if (address->family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address->addr);
    Ipv4Address peer{ntohl(in->sin_addr.s_addr)};
    for (const auto& cidr : *guard->blocked) {
      if (cidr.contains(peer)) {
        guard->refused = fmt::format("{} is in the blocked range {}", peer.str(), cidr.str());
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

// curl_global_init is not thread-safe; weftd's resolver thread is the only caller, tests
// may be others.
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
  char detail[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for name lookups in a threaded process
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.maxBytes));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "weftd/0.1.0");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
  Guard guard{&limits.blocked, {}};
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, openUnlessBlocked);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &guard);
  if (limits.cancel != nullptr) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stopIfCancelled);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, limits.cancel);
  }
  if (!limits.caFile.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, limits.caFile.c_str());
  CURLcode code = curl_easy_perform(c);
  if (body.tooLarge || code == CURLE_FILESIZE_EXCEEDED) return makeError("GET {}: the answer is larger than {} bytes", url, limits.maxBytes);
  if (!guard.refused.empty()) return makeError("GET {}: not fetched: {}", url, guard.refused);
  if (code != CURLE_OK) return makeError("GET {}: {}", url, detail[0] ? detail : curl_easy_strerror(code));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return makeError("GET {}: HTTP {}", url, status);
  return std::move(body.text);
}

}  // namespace weft::control
