#pragma once
// What every consumer of configuration (weftd, the local runtime, analyze) reads through:
// list and watch, with Kubernetes' semantics (ADDED / MODIFIED / DELETED, each carrying a
// resourceVersion). The local store implements it today; a Kubernetes API watcher will
// implement the same interface.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/object.h"

namespace weft::store {

enum class EventType { kAdded, kModified, kDeleted };
const char* eventTypeName(EventType type);

struct WatchEvent {
  EventType type;
  model::Object object;  // for kDeleted, the last state seen
  int64_t resourceVersion = 0;
};

class Watch {
 public:
  virtual ~Watch() = default;
  // A descriptor that becomes readable when events may be waiting (for an event loop).
  virtual int fd() const = 0;
  // Waits up to `timeout` for changes and returns them in order. Never blocks past it.
  virtual Result<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) = 0;
};

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // `kind` as KindInfo::kind; `ns` empty for all namespaces. Sorted by namespace, name.
  virtual Result<std::vector<model::Object>> list(const std::string& kind, const std::string& ns) const = 0;
  virtual Result<std::optional<model::Object>> get(const model::ObjectKey& key) const = 0;
  virtual Result<std::vector<model::Object>> listAll() const = 0;
  // Starts with an ADDED event for every existing object, then reports changes.
  virtual Result<std::unique_ptr<Watch>> watch() const = 0;
};

}  // namespace weft::store
