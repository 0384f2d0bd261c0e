#pragma once
// The local store: a directory with one YAML file per object,
//   <root>/objects/<plural>.<group|core>/<namespace|_cluster>/<name>.yaml
// and <root>/resource-version holding the last version handed out. Every write goes
// through a temporary file, fsync and rename; one apply writes all its objects (and the
// counter) as a group, under an exclusive lock, or nothing at all.

#include <filesystem>
#include <functional>

#include "base/clock.h"
#include "store/object_source.h"

namespace weft::store {

enum class ApplyOutcome { kCreated, kConfigured, kUnchanged };
const char* applyOutcomeName(ApplyOutcome outcome);

struct Applied {
  model::Object object;  // as stored, with uid, resourceVersion, generation, creationTimestamp
  ApplyOutcome outcome;
};

class LocalStore : public ObjectSource {
 public:
  // Opens (creating when missing) the store at `root`. A new store holds the namespaces
  // every Kubernetes cluster starts with: default, kube-system, kube-public.
  static Result<LocalStore> open(std::filesystem::path root, Clock clock = systemClock());

  // Creates or updates every object, or none. A namespaced object whose namespace neither
  // exists nor is created by the same call is refused, as the API server refuses it.
  // Updates keep uid and creationTimestamp, bump generation when anything outside
  // metadata and status changed, and keep the stored status when the new object has none.
  Result<std::vector<Applied>> apply(std::vector<model::Object> objects);

  // Creates `object`, refusing with "<plural> \"<name>\" already exists" when it does: the
  // check and the write happen under one lock, so two racing creates cannot both succeed.
  Result<Applied> create(model::Object object);

  // Reads, edits and writes one object under one lock, so concurrent edits are not lost.
  // The edited object is validated again, as an apply would validate it.
  Result<Applied> update(const model::ObjectKey& key, const std::function<Status(boost::json::value&)>& edit);

  // Deletes the objects; refuses (deleting nothing) when one does not exist. Deleting a
  // namespace deletes everything in it.
  Result<std::vector<model::Object>> remove(const std::vector<model::ObjectKey>& keys);

  Result<std::vector<model::Object>> list(const std::string& kind, const std::string& ns) const override;
  Result<std::optional<model::Object>> get(const model::ObjectKey& key) const override;
  Result<std::vector<model::Object>> listAll() const override;
  Result<std::vector<model::Object>> listKind(const model::KindInfo& kind, const std::string& ns) const;
  Result<std::unique_ptr<Watch>> watch() const override;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path objectsDir() const { return root_ / "objects"; }
  std::filesystem::path pathOf(const model::KindInfo& info, const std::string& ns, const std::string& name) const;
  int64_t currentResourceVersion() const;

 private:
  LocalStore(std::filesystem::path root, Clock clock) : root_(std::move(root)), clock_(std::move(clock)) {}
  Result<std::vector<Applied>> applyLocked(std::vector<model::Object> objects);

  std::filesystem::path root_;
  Clock clock_;
};

// Refuses names and namespaces that are not Kubernetes names (they become file paths).
Status checkKeyNames(const model::ObjectKey& key);

// Reads one stored object file (used by the store and its watcher).
Result<model::Object> readStoredObject(const std::filesystem::path& path);

}  // namespace weft::store
