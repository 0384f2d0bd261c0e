#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace weft {
namespace {

struct Pipe {
  int read = -1;
  int write = -1;
  ~Pipe() {
    if (read >= 0) close(read);
    if (write >= 0) close(write);
  }
};

Status makePipe(Pipe& p) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return makeError("pipe: {}", std::strerror(errno));
  p.read = fds[0];
  p.write = fds[1];
  return {};
}

std::string commandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    line += arg;
  }
  return line;
}

// Feeds `input` and drains the output together, so neither side can fill a pipe and
// wait on the other.
void exchange(Pipe& in, Pipe& out, std::string_view input, std::string& output) {
  size_t written = 0;
  if (input.empty()) {
    close(in.write);
    in.write = -1;
  } else {
    fcntl(in.write, F_SETFL, O_NONBLOCK);
  }
  char buffer[8192];
  while (true) {
    pollfd fds[2] = {{out.read, POLLIN, 0}, {in.write, POLLOUT, 0}};
    int n = poll(fds, in.write >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    if (in.write >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in.write, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN) written = input.size();  // the reader went away
      if (written == input.size()) {
        close(in.write);
        in.write = -1;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(out.read, buffer, sizeof buffer);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return;
      output.append(buffer, static_cast<size_t>(r));
    }
  }
}

}  // namespace

Result<CommandOutput> runCommand(const std::vector<std::string>& argv, std::string_view input) {
  if (argv.empty()) return makeError("no command given");
  Pipe in, out;
  WEFT_TRY(makePipe(in));
  WEFT_TRY(makePipe(out));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, out.write, 2);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return makeError("{}: cannot run: {}", argv[0], std::strerror(rc));
  close(in.read);
  in.read = -1;
  close(out.write);
  out.write = -1;
  CommandOutput result;
  exchange(in, out, input, result.output);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (result.exitCode == 127 && result.output.empty()) return makeError("{}: not found", argv[0]);
  return result;
}

Status runChecked(const std::vector<std::string>& argv, std::string_view input) {
  auto result = runCommand(argv, input);
  if (!result) return result.error();
  if (result->exitCode != 0) {
    std::string output = result->output;
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    return makeError("`{}` failed (exit {}): {}", commandLine(argv), result->exitCode, output);
  }
  return {};
}

std::string findInPath(std::string_view program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}

}  // namespace weft
