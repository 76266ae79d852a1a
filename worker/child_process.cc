#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec_handler.h"

extern char** environ;

namespace slate::worker {
namespace {

// ThreadSanitizer takes a clone of shared memory for a fork and marks the
// worker's own memory as forked (no thread may start after): its builds
// fork, through the same child code.
#if defined(__SANITIZE_THREAD__)
#define SLATE_SPAWN_BY_FORK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SLATE_SPAWN_BY_FORK 1
#endif
#endif
#ifndef SLATE_SPAWN_BY_FORK
#define SLATE_SPAWN_BY_FORK 0
#endif

// The child's stack until it execs (execvpe builds a shell's argv on it
// for a script without a #! line, hence the room per argument).
constexpr size_t kChildStackBytes = 64 * 1024;

bool IsTaskVariable(const std::string& kv) {
  for (const char* name : {"SLATE_TASK_ID=", "SLATE_ATTEMPT=", "SLATE_REQUEST_ID=",
                           "SLATE_ITERATION=", "SLATE_META_FD=", "SLATE_RESUME="})
    if (kv.rfind(name, 0) == 0) return true;
  return false;
}

// What the child is given; built before the clone, read by the child.
struct ChildArgs {
  char** argv;
  char** envp;
  Pipes* pipes;
  bool with_meta;
};

[[noreturn]] void Child(char** argv, char** envp, Pipes& p, bool with_meta) {
  setpgid(0, 0);
  signal(SIGPIPE, SIG_DFL);  // the worker ignores it; the command must not
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The meta end is moved clear of 0-3 first, so no dup2 below lands on it.
  const int meta = with_meta ? fcntl(p.meta.fd[1], F_DUPFD_CLOEXEC, kMetaFd + 1) : -1;
  dup2(p.to.fd[0], 0);
  dup2(p.out.fd[1], 1);
  dup2(p.err.fd[1], 2);
  if (with_meta) dup2(meta, kMetaFd);  // without close-on-exec: the command inherits it
  execvpe(argv[0], argv, envp);
  static const char kMsg[] = "slate-worker: cannot run the command: ";
  (void)!write(2, kMsg, sizeof kMsg - 1);
  const char* why = strerrordesc_np(errno);
  (void)!write(2, why, strlen(why));
  (void)!write(2, "\n", 1);
  _exit(127);
}

// The child's first code, on a stack of its own, in the parent's memory
// until exec: every signal is blocked on entry. A handler would run the
// worker's code on the worker's data, so every handled signal is set back
// to its default before the command gets an empty mask (not the worker
// thread's: a command must feel the SIGTERM of a cancel).
int ChildMain(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction now {};
    if (sigaction(sig, nullptr, &now) != 0) continue;
    if (now.sa_handler != SIG_IGN && now.sa_handler != SIG_DFL) sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  Child(a->argv, a->envp, *a->pipes, a->with_meta);  // never returns
}

}  // namespace

bool Pipe::Open() { return pipe2(fd, O_CLOEXEC) == 0; }

void Pipe::Close(int end) {
  if (fd[end] >= 0) close(fd[end]);
  fd[end] = -1;
}

Result<pid_t> SpawnInGroup(const std::vector<std::string>& argv_words,
                           const std::vector<std::string>& env, bool with_meta, Pipes& p) {
  // Everything the child needs is built before fork: between fork and exec
  // a child of a threaded process may only make async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (!IsTaskVariable(*e)) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<std::string> words = argv_words;
  std::vector<char*> envp, argv;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  if (!p.to.Open() || !p.out.Open() || !p.err.Open() || (with_meta && !p.meta.Open()))
    return Status{StatusCode::kIoError, std::string("cannot create pipes: ") + strerror(errno)};
  // The child shares the worker's memory until it execs (CLONE_VM |
  // CLONE_VFORK, as posix_spawn does): no copy of the worker's page tables,
  // which made a fork most of what a short command cost. This thread waits
  // until the exec. Every signal is blocked across the clone: the worker's
  // stop handlers must not run in the child (a SIGTERM landing before the
  // exec would be lost, and the command would run on until the SIGKILL);
  // the child sets them back to default, then unblocks.
  ChildArgs args{argv.data(), envp.data(), &p, with_meta};
  std::vector<char> stack(kChildStackBytes + argv.size() * sizeof(char*));
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
#if SLATE_SPAWN_BY_FORK
  const pid_t pid = fork();
  if (pid == 0) ChildMain(&args);  // never returns
#else
  const pid_t pid = clone(ChildMain, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD,
                          &args);
#endif
  const int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0)
    return Status{StatusCode::kIoError, std::string("cannot start a process: ") +
                                            strerror(clone_errno)};
  setpgid(pid, pid);  // also here: no race with the child's own call
  p.to.Close(0);
  p.out.Close(1);
  p.err.Close(1);
  p.meta.Close(1);
  return pid;
}

Result<std::vector<std::string>> CommandArgv(const std::string& line, bool shell) {
  signal(SIGPIPE, SIG_IGN);
  if (shell) return std::vector<std::string>{"/bin/sh", "-c", line};
  return SplitCommandLine(line);
}

std::string StderrTail(const std::string& err) {
  if (err.empty()) return "";
  std::string tail = err.size() > kStderrTail ? err.substr(err.size() - kStderrTail) : err;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  return "; stderr: " + tail;
}

}  // namespace slate::worker
