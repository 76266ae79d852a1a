#include "process_group.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstring>
#include <thread>

namespace slate::launch {

ProcessGroup::~ProcessGroup() { StopAll(std::chrono::milliseconds(2000)); }

namespace {

// A child not yet reaped keeps its pid, so this names it and no other.
int PidfdOf(pid_t child) { return static_cast<int>(syscall(SYS_pidfd_open, child, 0)); }

void ClosePidfd(Member& m) {
  if (m.pidfd >= 0) close(m.pidfd);
  m.pidfd = -1;
}

Result<pid_t> Spawn(const std::string& name, const std::vector<std::string>& argv,
                    bool discard_stdout, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  // The launcher catches SIGINT/SIGTERM; a member must start with the
  // defaults. Blocked across fork, so a signal sent to the new child before
  // it resets them is not caught by the launcher's handler and lost: it
  // stays pending and is delivered, with its default action, on unblock.
  sigset_t stop_signals, old_mask;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
  const pid_t pid = fork();
  if (pid != 0) sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0)
    return Status{StatusCode::kIoError, "cannot start " + name + ": " + strerror(errno)};
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);  // ignored by the launcher, not by members
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    if (!log_path.empty()) {
      const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (log_fd >= 0) {
        dup2(log_fd, 1);
        dup2(log_fd, 2);
      }
    }
    if (discard_stdout) {
      const int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd >= 0) dup2(null_fd, 1);
    }
    execv(args[0], args.data());
    static const char kMsg[] = "slate-launch: cannot execute a group member\n";
    (void)!write(2, kMsg, sizeof kMsg - 1);
    _exit(127);
  }
  return pid;
}

}  // namespace

Result<size_t> ProcessGroup::Start(const std::string& name,
                                   const std::vector<std::string>& argv,
                                   std::vector<std::string> restart_argv,
                                   bool discard_stdout, const std::string& log_path) {
  auto pid = Spawn(name, argv, discard_stdout, log_path);
  if (!pid.ok()) return pid.status();
  if (restart_argv.empty()) restart_argv = argv;
  Member m;
  m.name = name;
  m.argv = argv;
  m.restart_argv = std::move(restart_argv);
  m.discard_stdout = discard_stdout;
  m.log_path = log_path;
  m.pid = *pid;
  m.pidfd = PidfdOf(*pid);
  m.started_at = std::chrono::steady_clock::now();
  members_.push_back(std::move(m));
  return members_.size() - 1;
}

void ProcessGroup::Retire(size_t index) {
  Member& m = members_[index];
  m.retired = true;
  if (!m.exited) kill(m.pid, SIGTERM);
}

Status ProcessGroup::Restart(size_t index) {
  Member& m = members_[index];
  auto pid = Spawn(m.name, m.restart_argv, m.discard_stdout, m.log_path);
  if (!pid.ok()) return pid.status();
  m.pid = *pid;
  ClosePidfd(m);
  m.pidfd = PidfdOf(*pid);
  m.exited = false;
  m.status = 0;
  m.restarts += 1;
  m.started_at = std::chrono::steady_clock::now();
  return Status::Ok();
}

std::vector<size_t> ProcessGroup::Reap() {
  std::vector<size_t> out;
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& m = members_[i];
    if (m.exited) continue;
    if (waitpid(m.pid, &m.status, WNOHANG) == m.pid) {
      m.exited = true;
      ClosePidfd(m);
      out.push_back(i);
    }
  }
  return out;
}

void ProcessGroup::WaitForExit(std::chrono::milliseconds timeout) const {
  std::vector<pollfd> fds;
  for (const Member& m : members_)
    if (!m.exited && m.pidfd >= 0) fds.push_back({m.pidfd, POLLIN, 0});
  if (fds.empty()) {
    std::this_thread::sleep_for(timeout);
    return;
  }
  (void)poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
}

void ProcessGroup::StopAll(std::chrono::milliseconds grace) {
  for (Member& m : members_)
    if (!m.exited) kill(m.pid, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + grace;
  for (;;) {
    Reap();
    bool running = false;
    for (const Member& m : members_) running |= !m.exited;
    if (!running) return;
    if (std::chrono::steady_clock::now() > until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (Member& m : members_) {
    if (m.exited) continue;
    std::fprintf(stderr, "slate-launch: %s (pid %d) did not stop within %lld ms; killing it\n",
                 m.name.c_str(), m.pid, static_cast<long long>(grace.count()));
    kill(m.pid, SIGKILL);
    waitpid(m.pid, &m.status, 0);
    m.exited = true;
  }
  for (Member& m : members_) ClosePidfd(m);
}

std::string SelfDirectory() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace slate::launch
