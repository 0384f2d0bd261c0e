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

}  // namespace

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
  return objectsDir() / kindDirName(info) / (info.namespaced ? ns : kClusterScopeDir) / (name + ".yaml");
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
  int64_t version = currentResourceVersion();
  std::string now = formatRfc3339(clock_());

  std::set<std::string> newNamespaces;
  for (const auto& o : objects) {
    if (o.kind() == "Namespace" && o.info().group.empty()) newNamespaces.insert(o.name());
  }
  std::vector<Applied> applied;
  std::vector<FileToWrite> files;
  std::map<fs::path, size_t> pending;  // a later duplicate in one call replaces the earlier
  for (auto& o : objects) {
    if (o.info().namespaced && !newNamespaces.count(o.ns()) &&
        !fs::exists(pathOf(*model::findKind("v1", "Namespace"), "", o.ns()))) {
      return makeError("namespaces \"{}\" not found", o.ns());
    }
    fs::path path = pathOf(o.info(), o.ns(), o.name());
    std::optional<model::Object> existing;
    if (auto it = pending.find(path); it != pending.end()) {
      existing = applied[it->second].object;
    } else if (fs::exists(path)) {
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
    if (outcome != ApplyOutcome::kUnchanged) meta["resourceVersion"] = std::to_string(++version);
    // Keep metadata's system fields in kubectl's order: name, namespace first.
    model::Object result(&o.info(), std::move(stored));
    if (auto it = pending.find(path); it != pending.end()) {
      applied[it->second] = Applied{std::move(result), outcome};
      files[it->second].contents = model::toYaml(applied[it->second].object.value());
      continue;
    }
    pending[path] = applied.size();
    files.push_back(FileToWrite{path, model::toYaml(result.value()), 0644});
    applied.push_back(Applied{std::move(result), outcome});
  }
  // Unchanged objects are not rewritten; the counter is part of the same group.
  std::vector<FileToWrite> writes;
  for (size_t i = 0; i < files.size(); ++i) {
    if (applied[i].outcome != ApplyOutcome::kUnchanged) writes.push_back(std::move(files[i]));
  }
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
  for (const auto& key : keys) {
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
        }
      }
    }
    doomed.emplace_back(path, std::move(object.value()));
  }
  int64_t version = currentResourceVersion() + 1;
  std::vector<model::Object> removed;
  for (auto& [path, object] : doomed) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return makeError("{}: cannot delete: {}", path.string(), std::strerror(errno));
    removed.push_back(std::move(object));
  }
  WEFT_TRY(writeFileAtomically(root_ / "resource-version", std::to_string(version)));
  return removed;
}

Result<std::vector<model::Object>> LocalStore::list(const std::string& kind, const std::string& ns) const {
  const model::KindInfo* info = model::findKindByName(kind);
  if (info == nullptr) return makeError("the server doesn't have a resource type \"{}\"", kind);
  return listKind(*info, ns);
}

Result<std::vector<model::Object>> LocalStore::listKind(const model::KindInfo& kind, const std::string& ns) const {
  const model::KindInfo* info = &kind;
  fs::path kindDir = objectsDir() / kindDirName(*info);
  std::vector<model::Object> out;
  std::error_code ec;
  if (!fs::is_directory(kindDir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& nsDir : fs::directory_iterator(kindDir)) {
    if (info->namespaced && !ns.empty() && nsDir.path().filename() != ns) continue;
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
