#pragma once
// File helpers with the guarantees Weft promises users: a read names the file it failed on,
// and a group of writes lands whole or not at all.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"

namespace weft {

Result<std::string> readFile(const std::filesystem::path& path);

struct FileToWrite {
  std::filesystem::path path;
  std::string contents;
  mode_t mode = 0644;
};

// Writes every file through a temporary sibling (write, flush to disk, rename) so a reader
// never sees a half-written file. A single file is flushed with fsync; a group with one
// syncfs, so applying thousands of objects costs one flush, not thousands. All temporaries are written before the first rename, so a
// failure while writing (disk full, no permission) leaves every target untouched.
// Parent directories are created as needed.
Status writeFilesAtomically(const std::vector<FileToWrite>& files);

inline Status writeFileAtomically(const std::filesystem::path& path, std::string contents, mode_t mode = 0644) {
  return writeFilesAtomically({FileToWrite{path, std::move(contents), mode}});
}

}  // namespace weft
