#include "control/jwks_resolver.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cctype>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "base/duration.h"

namespace weft::control {

namespace {

Result<boost::json::object> jsonObject(const std::string& body, const std::string& url) {
  boost::system::error_code error;
  auto value = boost::json::parse(body, error);
  if (error) return makeError("GET {}: not JSON: {}", url, error.message());
  if (!value.is_object()) return makeError("GET {}: not a JSON object", url);
  return std::move(value.get_object());
}

bool httpUrl(std::string_view url) { return url.starts_with("http://") || url.starts_with("https://"); }

Result<std::string> countedFetch(const std::string& url, const FetchLimits& limits, FetchCounts* counts) {
  auto body = fetchUrl(url, limits);
  if (counts != nullptr) ++(body ? counts->succeeded : counts->failed);
  return body;
}

}  // namespace

Result<std::string> fetchJwks(const JwksSource& source, const FetchLimits& limits, FetchCounts* counts) {
  std::string url = source.firstUrl();
  if (!httpUrl(url)) return makeError("{}: only http and https URLs are fetched", url);
  FetchLimits ruleLimits = limits;
  ruleLimits.timeout = source.timeout;
  if (source.discovers()) {
    // Both GETs share the rule's timeout: the JWKS gets what the document left.
    auto deadline = std::chrono::steady_clock::now() + source.timeout;
    auto document = countedFetch(url, ruleLimits, counts);
    if (!document) return document.error();
    auto object = jsonObject(*document, url);
    if (!object) return object.error();
    const auto* jwksUri = object->if_contains("jwks_uri");
    if (jwksUri == nullptr || !jwksUri->is_string() || !httpUrl(jwksUri->get_string())) {
      return makeError("GET {}: the discovery document has no http(s) jwks_uri", url);
    }
    url = std::string(jwksUri->get_string());
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) return makeError("GET {}: no time left of the rule's timeout after discovery", url);
    ruleLimits.timeout = left;
  }
  auto jwks = countedFetch(url, ruleLimits, counts);
  if (!jwks) return jwks.error();
  auto object = jsonObject(*jwks, url);
  if (!object) return object.error();
  const auto* keys = object->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return makeError("GET {}: not a JWKS (no \"keys\" array)", url);
  return std::move(*jwks);
}

JwksResolver::Settings JwksResolver::fromEnvironment(const char* refreshInterval, const char* blockedCidrs) {
  Settings settings;
  if (refreshInterval != nullptr && *refreshInterval != '\0') {
    auto interval = parseDuration(refreshInterval);
    if (interval && *interval > std::chrono::nanoseconds::zero()) {
      settings.timing.refresh = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*interval), std::chrono::milliseconds(1));
    } else {
      settings.warnings.push_back(fmt::format("PILOT_JWT_PUB_KEY_REFRESH_INTERVAL={:?}: {}: the default 20m is used", refreshInterval,
                                              interval ? "must be positive" : interval.error().message));
    }
  }
  std::string_view list = blockedCidrs == nullptr ? "" : blockedCidrs;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
    // Any white space, as Go's strings.TrimSpace: a value from a YAML block ends in a newline.
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (item.empty()) continue;
    auto range = IpRange::parse(item);
    if (range) {
      settings.limits.blocked.push_back(*range);
    } else {
      settings.warnings.push_back(fmt::format("BLOCKED_CIDRS_IN_JWKS_URIS: {}: skipped", range.error().message));
    }
  }
  return settings;
}

JwksResolver::JwksResolver(Settings settings)
    : settings_(std::move(settings)), changed_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), schedule_(settings_.timing) {
  settings_.limits.cancel = &stopping_;
  for (int i = 0; i < std::max(1, settings_.threads); ++i) workers_.emplace_back([this] { run(); });
}

JwksResolver::~JwksResolver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
  if (changed_ >= 0) close(changed_);
}

void JwksResolver::want(const std::vector<JwksSource>& sources) {
  {
    std::lock_guard lock(mutex_);
    // New sources change nothing the registry reads until they are fetched.
    schedule_.want(sources, std::chrono::steady_clock::now());
  }
  wake_.notify_all();
}

FetchedJwksByKey JwksResolver::results() const {
  std::lock_guard lock(mutex_);
  return schedule_.results();
}

void JwksResolver::takeChange() {
  uint64_t count;
  [[maybe_unused]] auto ignored = read(changed_, &count, sizeof count);
}

void JwksResolver::signalChange() {
  uint64_t one = 1;
  [[maybe_unused]] auto ignored = write(changed_, &one, sizeof one);
}

void JwksResolver::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto taken = schedule_.take(std::chrono::steady_clock::now());
    if (!taken) {
      auto next = schedule_.nextDue();
      if (next == JwksSchedule::TimePoint::max()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, next);
      }
      continue;
    }
    lock.unlock();
    auto jwks = fetchJwks(taken->source, settings_.limits, &counts_);
    lock.lock();
    if (stopping_) return;
    bool changed = schedule_.record(*taken, jwks, std::chrono::steady_clock::now());
    const JwksSource* source = &taken->source;
    // Another worker may be waiting for a time this fetch has just moved.
    wake_.notify_all();
    if (!changed) continue;
    if (jwks) {
      spdlog::info("jwks: {}: keys fetched", source->key());
    } else {
      spdlog::warn("jwks: {}: {}", source->key(), jwks.error().message);
    }
    signalChange();
  }
}

}  // namespace weft::control
