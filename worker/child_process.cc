#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec_handler.h"

extern char** environ;

namespace slate::worker {
namespace {

bool IsTaskVariable(const std::string& kv) {
  for (const char* name : {"SLATE_TASK_ID=", "SLATE_ATTEMPT=", "SLATE_REQUEST_ID=",
                           "SLATE_ITERATION=", "SLATE_META_FD=", "SLATE_RESUME="})
    if (kv.rfind(name, 0) == 0) return true;
  return false;
}

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
  // The worker's stop signals are caught by its handler, which a child
  // keeps until exec: a SIGTERM (a preemption, a cancel) landing between
  // fork and exec would run it and be lost, and the command would run
  // on until the SIGKILL. So they are blocked across fork, and the child
  // takes them back with their default action before it unblocks them.
  sigset_t stops, before;
  sigemptyset(&stops);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stops, sig);
  pthread_sigmask(SIG_BLOCK, &stops, &before);
  const pid_t pid = fork();
  if (pid == 0) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &dfl, nullptr);
    sigprocmask(SIG_SETMASK, &before, nullptr);
    Child(argv.data(), envp.data(), p, with_meta);  // never returns
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) return Status{StatusCode::kIoError, std::string("cannot fork: ") + strerror(errno)};
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
