#include "store/local_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "base/file_io.h"
#include "base/k8s_names.h"
#include "base/time_format.h"
#include "model/decoder.h"
#include "model/yaml_writer.h"
#include "store/store_watch.h"

namespace weft::store {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kClusterScopeDir = "_cluster";

// Holds an exclusive flock on <root>/.lock for one write operation.
class StoreLock {
 public:
  static Result<StoreLock> acquire(const fs::path& root) {
    int fd = ::open((root / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return makeError("{}: cannot open lock: {}", (root / ".lock").string(), std::strerror(errno));
    if (::flock(fd, LOCK_EX) != 0) {
      ::close(fd);
      return makeError("{}: cannot lock: {}", root.string(), std::strerror(errno));
    }
    return StoreLock(fd);
  }
  StoreLock(StoreLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ~StoreLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;
};

std::string newUid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  // RFC 4122 version 4, variant 1.
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

std::string kindDirName(const model::KindInfo& info) {
  return fmt::format("{}.{}", info.plural, info.group.empty() ? "core" : info.group);
}

// Everything but metadata and status: what `generation` counts changes of.
json::object specPart(const json::value& v) {
  json::object out = v.get_object();
  out.erase("metadata");
  out.erase("status");
  out.erase("apiVersion");
  return out;
}

bool isObjectFile(const fs::path& p) {
  auto name = p.filename().string();
  return !name.empty() && name[0] != '.' && p.extension() == ".yaml";
}

// "<name>.yaml", unless that passes the file system's 255-byte limit (names may be 253
// characters): then a prefix and a stable FNV-1a hash of the whole name. Readers take the
// name from the file's contents, never from its file name.
std::string fileNameOf(const std::string& name) {
  if (name.size() + 5 <= 255) return name + ".yaml";
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ULL;
  return fmt::format("{}~{:016x}.yaml", name.substr(0, 200), hash);
}

}  // namespace

// Names from the command line reach file paths: only Kubernetes name syntax gets there,
// never "/", "." or "..".
Status checkKeyNames(const model::ObjectKey& key) {
  if (auto why = checkDns1123Subdomain(key.name)) return makeError("invalid name: {}", *why);
  if (!key.ns.empty()) {
    if (auto why = checkDns1123Label(key.ns)) return makeError("invalid namespace: {}", *why);
  }
  return {};
}

const char* eventTypeName(EventType type) {
  switch (type) {
    case EventType::kAdded: return "ADDED";
    case EventType::kModified: return "MODIFIED";
    case EventType::kDeleted: return "DELETED";
  }
  return "?";
}

const char* applyOutcomeName(ApplyOutcome outcome) {
  switch (outcome) {
    case ApplyOutcome::kCreated: return "created";
    case ApplyOutcome::kConfigured: return "configured";
    case ApplyOutcome::kUnchanged: return "unchanged";
  }
  return "?";
}

Result<model::Object> readStoredObject(const fs::path& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  auto decoded = model::decodeYaml(*text, path.string(), {});
  if (!decoded.ok()) return makeError("stored object is invalid: {}", decoded.errors.front());
  if (decoded.objects.size() != 1) return makeError("{}: expected one object, found {}", path.string(), decoded.objects.size());
  // Objects from the store carry no file position: they are the cluster's, not a file's.
  const auto& o = decoded.objects.front();
  return model::Object(&o.info(), o.value());
}

Result<LocalStore> LocalStore::open(fs::path root, Clock clock) {
  std::error_code ec;
  fs::create_directories(root / "objects", ec);
  if (ec) return makeError("{}: cannot create store: {}", root.string(), ec.message());
  LocalStore store(std::move(root), std::move(clock));
  if (!fs::exists(store.root_ / "resource-version")) {
    std::vector<model::Object> initial;
    for (const char* ns : {"default", "kube-system", "kube-public"}) {
      json::value v = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
      initial.emplace_back(model::findKind("v1", "Namespace"), std::move(v));
    }
    auto seeded = store.apply(std::move(initial));
    if (!seeded) return seeded.error();
  }
  return store;
}

fs::path LocalStore::pathOf(const model::KindInfo& info, const std::string& ns, const std::string& name) const {
  return objectsDir() / kindDirName(info) / (info.namespaced ? ns : kClusterScopeDir) / fileNameOf(name);
}

int64_t LocalStore::currentResourceVersion() const {
  auto text = readFile(root_ / "resource-version");
  if (!text) return 0;
  try {
    return std::stoll(*text);
  } catch (...) {
    return 0;
  }
}

Result<std::vector<Applied>> LocalStore::apply(std::vector<model::Object> objects) {
  auto lock = StoreLock::acquire(root_);
  if (!lock) return lock.error();
  return applyLocked(std::move(objects));
}

Result<Applied> LocalStore::create(model::Object object) {
  auto lock = StoreLock::acquire(root_);
  if (!lock) return lock.error();
  WEFT_TRY(checkKeyNames(object.key()));
  if (fs::exists(pathOf(object.info(), object.ns(), object.name()))) {
    return makeError("{} \"{}\" already exists", object.info().plural, object.name());
  }
  auto applied = applyLocked({std::move(object)});
  if (!applied) return applied.error();
  return std::move(applied->front());
}

Result<Applied> LocalStore::update(const model::ObjectKey& key, const std::function<Status(json::value&)>& edit) {
  auto lock = StoreLock::acquire(root_);
  if (!lock) return lock.error();
  WEFT_TRY(checkKeyNames(key));
  const model::KindInfo* info = model::findKindByName(key.kind);
  if (info == nullptr) return makeError("the server doesn't have a resource type \"{}\"", key.kind);
  fs::path path = pathOf(*info, key.ns, key.name);
  if (!fs::exists(path)) return makeError("{} \"{}\" not found", info->plural, key.name);
  auto current = readStoredObject(path);
  if (!current) return current.error();
  json::value value = current->value();
  WEFT_TRY(edit(value));
  auto decoded = model::decodeDocument(model::Document{std::move(value), {}, "<edit>", {}}, {.ns = key.ns});
  if (!decoded.ok()) return makeError("{}", decoded.errors.front());
  auto applied = applyLocked(std::move(decoded.objects));
  if (!applied) return applied.error();
  return std::move(applied->front());
}

Result<std::vector<Applied>> LocalStore::applyLocked(std::vector<model::Object> objects) {
  int64_t version = currentResourceVersion();
  std::string now = formatRfc3339(clock_());

  // One result per object key, in first-seen order; when a call names an object twice the
  // last copy wins, and its outcome is decided against what is on disk, not the first copy.
  std::vector<fs::path> order;
  std::map<fs::path, model::Object> latest;
  std::set<std::string> newNamespaces;
  for (auto& o : objects) {
    if (o.kind() == "Namespace" && o.info().group.empty()) newNamespaces.insert(o.name());
  }
  for (auto& o : objects) {
    WEFT_TRY(checkKeyNames(o.key()));
    if (o.info().namespaced && !newNamespaces.count(o.ns()) &&
        !fs::exists(pathOf(*model::findKind("v1", "Namespace"), "", o.ns()))) {
      return makeError("namespaces \"{}\" not found", o.ns());
    }
    fs::path path = pathOf(o.info(), o.ns(), o.name());
    if (!latest.count(path)) order.push_back(path);
    latest.insert_or_assign(path, std::move(o));
  }

  std::vector<Applied> applied;
  std::vector<FileToWrite> writes;
  for (const auto& path : order) {
    const model::Object& o = latest.at(path);
    std::optional<model::Object> existing;
    if (fs::exists(path)) {
      auto read = readStoredObject(path);
      if (!read) return read.error();
      existing = std::move(read.value());
    }
    json::value stored = o.value();
    stored.get_object()["apiVersion"] = o.info().storageApiVersion();
    auto& meta = stored.get_object()["metadata"].get_object();
    for (const char* system : {"uid", "resourceVersion", "generation", "creationTimestamp"}) meta.erase(system);
    ApplyOutcome outcome = ApplyOutcome::kCreated;
    if (existing) {
      const auto& old = existing->metadata();
      meta["uid"] = old.at("uid");
      meta["creationTimestamp"] = old.at("creationTimestamp");
      int64_t generation = old.at("generation").as_int64();
      if (specPart(stored) != specPart(existing->value())) ++generation;
      meta["generation"] = generation;
      meta["resourceVersion"] = old.at("resourceVersion");
      if (!stored.get_object().contains("status") && existing->value().get_object().contains("status")) {
        stored.get_object()["status"] = existing->value().get_object().at("status");
      }
      outcome = stored == existing->value() ? ApplyOutcome::kUnchanged : ApplyOutcome::kConfigured;
    } else {
      meta["uid"] = newUid();
      meta["creationTimestamp"] = now;
      meta["generation"] = 1;
    }
    if (outcome != ApplyOutcome::kUnchanged) {
      meta["resourceVersion"] = std::to_string(++version);
      writes.push_back(FileToWrite{path, model::toYaml(stored), 0644});
    }
    applied.push_back(Applied{model::Object(&o.info(), std::move(stored)), outcome});
  }
  // Unchanged objects are not rewritten; the counter is part of the same group.
  if (!writes.empty()) {
    writes.push_back(FileToWrite{root_ / "resource-version", std::to_string(version), 0644});
    WEFT_TRY(writeFilesAtomically(writes));
  }
  return applied;
}

Result<std::vector<model::Object>> LocalStore::remove(const std::vector<model::ObjectKey>& keys) {
  auto lock = StoreLock::acquire(root_);
  if (!lock) return lock.error();
  std::vector<std::pair<fs::path, model::Object>> doomed;
  std::vector<fs::path> alsoUnlink;  // unreadable files of a deleted namespace
  for (const auto& key : keys) {
    WEFT_TRY(checkKeyNames(key));
    const model::KindInfo* info = model::findKindByName(key.kind);
    if (info == nullptr) return makeError("the server doesn't have a resource type \"{}\"", key.kind);
    fs::path path = pathOf(*info, key.ns, key.name);
    if (!fs::exists(path)) return makeError("{} \"{}\" not found", info->plural, key.name);
    auto object = readStoredObject(path);
    if (!object) return object.error();
    if (info->kind == "Namespace" && info->group.empty()) {
      // Everything in the namespace goes with it, before the namespace itself.
      for (const auto& dir : fs::directory_iterator(objectsDir())) {
        fs::path nsDir = dir.path() / key.name;
        if (!fs::is_directory(nsDir)) continue;
        for (const auto& file : fs::directory_iterator(nsDir)) {
          if (!isObjectFile(file.path())) continue;
          auto inner = readStoredObject(file.path());
          if (inner) doomed.emplace_back(file.path(), std::move(inner.value()));
          else alsoUnlink.push_back(file.path());  // it goes with its namespace all the same
        }
      }
    }
    doomed.emplace_back(path, std::move(object.value()));
  }
  // The counter moves first, so a watcher that sees a file vanish reads the version of
  // the deletion, not the one before it.
  int64_t version = currentResourceVersion() + 1;
  WEFT_TRY(writeFileAtomically(root_ / "resource-version", std::to_string(version)));
  std::vector<model::Object> removed;
  std::set<fs::path> unlinked;
  for (auto& [path, object] : doomed) {
    if (!unlinked.insert(path).second) continue;  // named twice, or with its namespace
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return makeError("{}: cannot delete: {}", path.string(), std::strerror(errno));
    removed.push_back(std::move(object));
  }
  for (const auto& path : alsoUnlink) ::unlink(path.c_str());
  return removed;
}

Result<std::vector<model::Object>> LocalStore::list(const std::string& kind, const std::string& ns) const {
  const model::KindInfo* info = model::findKindByName(kind);
  if (info == nullptr) return makeError("the server doesn't have a resource type \"{}\"", kind);
  return listKind(*info, ns);
}

Result<std::vector<model::Object>> LocalStore::listKind(const model::KindInfo& info, const std::string& ns) const {
  if (!ns.empty()) {
    if (auto why = checkDns1123Label(ns)) return makeError("invalid namespace: {}", *why);
  }
  fs::path kindDir = objectsDir() / kindDirName(info);
  std::vector<model::Object> out;
  std::error_code ec;
  if (!fs::is_directory(kindDir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& nsDir : fs::directory_iterator(kindDir)) {
    if (info.namespaced && !ns.empty() && nsDir.path().filename() != ns) continue;
    for (const auto& file : fs::directory_iterator(nsDir.path())) {
      if (isObjectFile(file.path())) files.push_back(file.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto object = readStoredObject(file);
    if (!object) return object.error();
    out.push_back(std::move(object.value()));
  }
  return out;
}

Result<std::optional<model::Object>> LocalStore::get(const model::ObjectKey& key) const {
  WEFT_TRY(checkKeyNames(key));
  const model::KindInfo* info = model::findKindByName(key.kind);
  if (info == nullptr) return makeError("the server doesn't have a resource type \"{}\"", key.kind);
  fs::path path = pathOf(*info, key.ns, key.name);
  if (!fs::exists(path)) return std::optional<model::Object>{};
  auto object = readStoredObject(path);
  if (!object) return object.error();
  return std::optional<model::Object>(std::move(object.value()));
}

Result<std::vector<model::Object>> LocalStore::listAll() const {
  std::vector<model::Object> out;
  for (const auto& info : model::allKinds()) {
    auto objects = listKind(info, "");
    if (!objects) return objects.error();
    for (auto& o : *objects) out.push_back(std::move(o));
  }
  return out;
}

Result<std::unique_ptr<Watch>> LocalStore::watch() const {
  auto w = StoreWatch::start(*this);
  if (!w) return w.error();
  return std::unique_ptr<Watch>(std::move(w.value()));
}

}  // namespace weft::store
