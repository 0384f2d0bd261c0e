#pragma once
// Watching the local store with inotify. Objects only ever appear by rename (atomic
// writes), so IN_MOVED_TO and IN_DELETE on object files are the whole story; directories
// for new kinds and namespaces are watched as they appear, and scanned, since a file can
// land in a new directory before its watch exists.

#include <filesystem>
#include <map>
#include <memory>

#include "store/local_store.h"

namespace weft::store {

class StoreWatch : public Watch {
 public:
  static Result<std::unique_ptr<StoreWatch>> start(const LocalStore& store);
  ~StoreWatch() override;

  int fd() const override { return fd_; }
  Result<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) override;

 private:
  StoreWatch(const LocalStore& store, int fd) : store_(store), fd_(fd) {}
  Status addDirectory(const std::filesystem::path& dir, std::vector<WatchEvent>& events);
  void fileAppeared(const std::filesystem::path& path, std::vector<WatchEvent>& events);
  void fileRemoved(const std::filesystem::path& path, std::vector<WatchEvent>& events);

  const LocalStore& store_;
  int fd_;
  std::map<int, std::filesystem::path> dirs_;            // watch descriptor -> directory
  std::map<std::filesystem::path, model::Object> known_;  // object file -> last state seen
  std::vector<WatchEvent> initial_;                       // the ADDED events of the first call
};

}  // namespace weft::store
