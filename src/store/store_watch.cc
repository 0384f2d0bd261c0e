#include "store/store_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>

namespace weft::store {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kDirMask = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR;

bool isObjectFile(const fs::path& p) {
  auto name = p.filename().string();
  return !name.empty() && name[0] != '.' && p.extension() == ".yaml";
}

int64_t versionOf(const model::Object& o) {
  const auto* rv = o.metadata().if_contains("resourceVersion");
  if (rv == nullptr || !rv->is_string()) return 0;
  try {
    return std::stoll(std::string(rv->get_string()));
  } catch (...) {
    return 0;
  }
}

}  // namespace

Result<std::unique_ptr<StoreWatch>> StoreWatch::start(const LocalStore& store) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return makeError("inotify: {}", std::strerror(errno));
  std::unique_ptr<StoreWatch> watch(new StoreWatch(store, fd));
  WEFT_TRY(watch->addDirectory(store.objectsDir(), watch->initial_));
  return watch;
}

StoreWatch::~StoreWatch() { ::close(fd_); }

Status StoreWatch::addDirectory(const fs::path& dir, std::vector<WatchEvent>& events) {
  int wd = ::inotify_add_watch(fd_, dir.c_str(), kDirMask);
  if (wd < 0) {
    if (errno == ENOENT) return {};  // gone again before we looked
    return makeError("{}: inotify_add_watch: {}", dir.string(), std::strerror(errno));
  }
  dirs_[wd] = dir;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory()) {
      WEFT_TRY(addDirectory(entry.path(), events));
    } else if (isObjectFile(entry.path())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) fileAppeared(file, events);
  return {};
}

void StoreWatch::fileAppeared(const fs::path& path, std::vector<WatchEvent>& events) {
  auto object = readStoredObject(path);
  if (!object) return;  // removed again, or unreadable: a later event or relist settles it
  int64_t version = versionOf(*object);
  auto found = known_.find(path);
  if (found != known_.end()) {
    if (versionOf(found->second) == version) return;  // seen already (a directory scan raced the event)
    found->second = *object;
    events.push_back(WatchEvent{EventType::kModified, std::move(object.value()), version});
    return;
  }
  known_.emplace(path, *object);
  events.push_back(WatchEvent{EventType::kAdded, std::move(object.value()), version});
}

void StoreWatch::fileRemoved(const fs::path& path, std::vector<WatchEvent>& events) {
  auto found = known_.find(path);
  if (found == known_.end()) return;
  events.push_back(WatchEvent{EventType::kDeleted, std::move(found->second), store_.currentResourceVersion()});
  known_.erase(found);
}

Result<std::vector<WatchEvent>> StoreWatch::next(std::chrono::milliseconds timeout) {
  std::vector<WatchEvent> events = std::move(initial_);
  initial_.clear();
  if (!events.empty()) return events;
  pollfd pfd{fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) return makeError("poll: {}", std::strerror(errno));
  if (ready <= 0) return events;
  alignas(inotify_event) char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return makeError("inotify read: {}", std::strerror(errno));
    }
    for (char* p = buffer; p < buffer + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) return makeError("inotify queue overflowed; the watch must be restarted");
      auto dir = dirs_.find(ev->wd);
      if (dir == dirs_.end() || ev->len == 0) {
        if (ev->mask & IN_IGNORED) dirs_.erase(ev->wd);
        continue;
      }
      fs::path path = dir->second / ev->name;
      if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) WEFT_TRY(addDirectory(path, events));
      } else if (isObjectFile(path)) {
        if (ev->mask & IN_MOVED_TO) fileAppeared(path, events);
        if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) fileRemoved(path, events);
      }
    }
  }
  return events;
}

}  // namespace weft::store
