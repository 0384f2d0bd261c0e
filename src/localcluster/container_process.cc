#include "localcluster/container_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "localcluster/netns.h"

namespace weft::localcluster {
namespace {

// Everything the child needs, as C strings made before the fork.
struct Prepared {
  std::string netnsPath;
  std::vector<char*> argv;
  std::vector<char*> env;
};

Prepared prepare(const ProcessSpec& spec) {
  Prepared p;
  p.netnsPath = std::string(kNetnsDir) + "/" + spec.netns;
  for (const auto& arg : spec.argv) p.argv.push_back(const_cast<char*>(arg.c_str()));
  p.argv.push_back(nullptr);
  for (const auto& var : spec.env) p.env.push_back(const_cast<char*>(var.c_str()));
  p.env.push_back(nullptr);
  return p;
}

// Enters the pod's namespaces. Returns the failing step, or nullptr.
const char* enterPod(const ProcessSpec& spec, const Prepared& p) {
  int fd = open(p.netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "open network namespace";
  if (setns(fd, CLONE_NEWNET) != 0) return "setns";
  close(fd);
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0) return "unshare";
  // Our mounts must not propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return "make / a slave mount";
  if (!spec.hostsFile.empty() && mount(spec.hostsFile.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    return "bind-mount /etc/hosts";
  }
  if (!spec.hostname.empty() && sethostname(spec.hostname.data(), spec.hostname.size()) != 0) return "sethostname";
  if (chdir(spec.workDir.c_str()) != 0) return "chdir";
  return nullptr;
}

void resetSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
}

[[noreturn]] void childFail(const char* step) {
  // write(2) only: this runs between fork and exec.
  const char* prefix = "weft: cannot start container: ";
  (void)!write(2, prefix, strlen(prefix));
  (void)!write(2, step, strlen(step));
  const char* reason = strerror(errno);
  (void)!write(2, ": ", 2);
  (void)!write(2, reason, strlen(reason));
  (void)!write(2, "\n", 1);
  _exit(127);
}

}  // namespace

Result<pid_t> startProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return makeError("no command to run");
  Prepared p = prepare(spec);
  int logFd = -1;
  if (!spec.logFile.empty()) {
    logFd = open(spec.logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (logFd < 0) return makeError("{}: {}", spec.logFile.string(), std::strerror(errno));
  }
  int nullFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    if (logFd >= 0) close(logFd);
    close(nullFd);
    return makeError("fork: {}", std::strerror(saved));
  }
  if (pid == 0) {
    resetSignals();
    setsid();
    if (nullFd >= 0) dup2(nullFd, 0);
    if (logFd >= 0) {
      dup2(logFd, 1);
      dup2(logFd, 2);
    }
    if (const char* failed = enterPod(spec, p)) childFail(failed);
    execve(p.argv[0], p.argv.data(), p.env.data());
    childFail(p.argv[0]);
  }
  if (logFd >= 0) close(logFd);
  close(nullFd);
  return pid;
}

Error execInPod(const ProcessSpec& spec) {
  if (spec.argv.empty()) return makeError("no command to run");
  Prepared p = prepare(spec);
  if (const char* failed = enterPod(spec, p)) return makeError("entering pod: {}: {}", failed, std::strerror(errno));
  execvpe(p.argv[0], p.argv.data(), p.env.data());
  return makeError("{}: {}", spec.argv[0], std::strerror(errno));
}

}  // namespace weft::localcluster
