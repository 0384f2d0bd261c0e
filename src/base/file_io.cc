#include "base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

namespace weft {
namespace {

Error errnoError(const std::filesystem::path& path, std::string_view action, int err) {
  return makeError("{}: cannot {}: {}", path.string(), action, std::strerror(err));
}

std::filesystem::path temporarySibling(const std::filesystem::path& path) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  // Short on purpose: a name of 253 characters (valid for a Kubernetes object) plus a
  // suffix would pass the file system's 255-byte limit.
  return path.parent_path() / fmt::format(".tmp-{:016x}", rng());
}

Status writeAndSync(const std::filesystem::path& path, const std::string& contents, mode_t mode, bool sync) {
  // O_EXCL: the temporary name is ours alone; mode is applied at creation so a private key
  // is never readable by others, not even for a moment.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errnoError(path, "create", errno);
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errnoError(path, "write", err);
    }
    written += static_cast<size_t>(n);
  }
  // umask may have narrowed the mode; the caller's mode is the contract.
  if (::fchmod(fd, mode) != 0 || (sync && ::fsync(fd) != 0)) {
    int err = errno;
    ::close(fd);
    return errnoError(path, "sync", err);
  }
  if (::close(fd) != 0) return errnoError(path, "close", errno);
  return {};
}

}  // namespace

Result<std::string> readFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return makeError("{}: is a directory, expected a file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) return errnoError(path, "open", errno ? errno : ENOENT);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return errnoError(path, "read", errno);
  return buffer.str();
}

Status writeFilesAtomically(const std::vector<FileToWrite>& files) {
  std::vector<std::filesystem::path> temporaries;
  auto discardTemporaries = [&] {
    for (const auto& tmp : temporaries) ::unlink(tmp.c_str());
  };
  for (const auto& file : files) {
    std::error_code ec;
    auto parent = file.path.parent_path();
    if (!parent.empty()) {
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        discardTemporaries();
        return makeError("{}: cannot create directory: {}", parent.string(), ec.message());
      }
    }
    auto tmp = temporarySibling(file.path);
    // One file: fsync it. Many (an apply of thousands of objects): one syncfs below
    // flushes them all, instead of paying a disk flush per file.
    if (auto status = writeAndSync(tmp, file.contents, file.mode, files.size() == 1); !status) {
      ::unlink(tmp.c_str());
      discardTemporaries();
      return status.error();
    }
    temporaries.push_back(tmp);
  }
  if (files.size() > 1) {
    int fd = ::open(temporaries.front().c_str(), O_RDONLY | O_CLOEXEC);
    int synced = fd >= 0 ? ::syncfs(fd) : -1;
    int err = errno;
    if (fd >= 0) ::close(fd);
    if (synced != 0) {
      discardTemporaries();
      return makeError("{}: cannot sync: {}", files.front().path.string(), std::strerror(err));
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (::rename(temporaries[i].c_str(), files[i].path.c_str()) != 0) {
      int err = errno;
      // Renames within one directory only fail on programming errors or a vanished
      // directory; undoing the renames already done is not possible, so say so plainly.
      discardTemporaries();
      return makeError("{}: cannot rename into place: {} ({} of {} files were written)", files[i].path.string(),
                       std::strerror(err), i, files.size());
    }
  }
  // Make the renames durable: fsync each distinct parent directory.
  std::vector<std::filesystem::path> synced;
  for (const auto& file : files) {
    auto parent = file.path.parent_path().empty() ? std::filesystem::path(".") : file.path.parent_path();
    if (std::find(synced.begin(), synced.end(), parent) != synced.end()) continue;
    synced.push_back(parent);
    int dirfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd >= 0) {
      ::fsync(dirfd);
      ::close(dirfd);
    }
  }
  return {};
}

}  // namespace weft
