#include "xds/certificate_manager.h"

#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

#include "ca/csr.h"
#include "ca/key_spec.h"
#include "tls/pem.h"
#include "tls/spiffe_id.h"

namespace weft::xds {
namespace {

constexpr auto kMaxBackoff = std::chrono::seconds(150);
constexpr auto kRequestDeadline = std::chrono::seconds(10);

}  // namespace

CertificateManager::CertificateManager(std::shared_ptr<grpc::Channel> ca, Clock clock, std::chrono::seconds ttl)
    : stub_(weft::v1::CertificateService::NewStub(std::move(ca))), clock_(std::move(clock)), ttl_(ttl) {}

CertificateManager::~CertificateManager() { stop(); }

void CertificateManager::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void CertificateManager::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CertificateManager::setWanted(const std::set<std::string>& identities) {
  {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const auto& entry) { return !identities.contains(entry.first); });
    for (const auto& identity : identities) entries_.try_emplace(identity);
  }
  wake_.notify_all();
}

std::shared_ptr<const WorkloadCertificate> CertificateManager::get(const std::string& identity) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(identity);
  return it == entries_.end() ? nullptr : it->second.certificate;
}

std::map<std::string, std::shared_ptr<const WorkloadCertificate>> CertificateManager::all() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::shared_ptr<const WorkloadCertificate>> out;
  for (const auto& [identity, entry] : entries_) {
    if (entry.certificate) out[identity] = entry.certificate;
  }
  return out;
}

void CertificateManager::onIssued(Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void CertificateManager::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // The identity whose turn comes first: never asked, due for renewal, or retrying.
    SystemTime now = clock_();
    std::string due;
    SystemTime earliest = SystemTime::max();
    for (const auto& [identity, entry] : entries_) {
      SystemTime when = entry.nextAttempt;
      if (entry.certificate) when = std::max(when, entry.certificate->refreshAt());
      if (when <= now) {
        due = identity;
        break;
      }
      earliest = std::min(earliest, when);
    }
    if (due.empty()) {
      // Wake at the next due time (bounded, so a clock jump is noticed within a minute).
      auto wait = earliest == SystemTime::max() ? std::chrono::seconds(60)
                                                : std::min<std::chrono::nanoseconds>(earliest - now, std::chrono::seconds(60));
      wake_.wait_for(lock, wait);
      continue;
    }
    lock.unlock();
    refresh(due);
    lock.lock();
  }
}

void CertificateManager::refresh(const std::string& identity) {
  auto issued = request(identity);
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(identity);
    if (it == entries_.end()) return;  // no longer wanted
    Entry& entry = it->second;
    if (!issued) {
      ++counters_.failed;
      entry.nextAttempt = clock_() + entry.backoff;
      // A still-valid certificate is kept: weftd being away must not take identity away.
      spdlog::warn("certificate for {}: {} (retry in {}s{})", identity, issued.error().message, entry.backoff.count(),
                   entry.certificate && entry.certificate->validAt(clock_()) ? ", keeping the current one" : "");
      entry.backoff = std::min(entry.backoff * 2, std::chrono::seconds(kMaxBackoff));
      return;
    }
    ++counters_.issued;
    issued->serial = ++serial_;
    entry.certificate = std::make_shared<const WorkloadCertificate>(std::move(*issued));
    entry.backoff = std::chrono::seconds(1);
    entry.nextAttempt = {};
    listeners = listeners_;
    spdlog::info("certificate for {} issued, valid until {:%FT%TZ}, renews at {:%FT%TZ}", identity,
                 std::chrono::floor<std::chrono::seconds>(entry.certificate->notAfter),
                 std::chrono::floor<std::chrono::seconds>(entry.certificate->refreshAt()));
  }
  for (const auto& listener : listeners) listener(identity);
}

Result<WorkloadCertificate> CertificateManager::request(const std::string& identity) {
  auto id = tls::SpiffeId::parse(identity);
  if (!id) return id.error();
  auto key = ca::generateKey(ca::KeySpec::ecdsaP256());
  if (!key) return key.error();
  auto csr = ca::makeCsr(key->get(), *id);
  if (!csr) return csr.error();
  weft::v1::CertificateRequest request;
  request.set_csr(tls::toPem(csr->get()));
  request.set_validity_seconds(ttl_.count());
  request.set_namespace_(id->ns);
  request.set_service_account(id->serviceAccount);
  weft::v1::CertificateResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRequestDeadline);
  grpc::Status status = stub_->CreateCertificate(&context, request, &response);
  if (!status.ok()) return makeError("weftd refused or was unreachable: {}", status.error_message());
  std::vector<std::string> chain(response.cert_chain().begin(), response.cert_chain().end());
  return acceptIssuedChain(identity, std::move(chain), tls::privateKeyToPem(key->get()));
}

}  // namespace weft::xds
