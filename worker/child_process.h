// A command started for a handler, in a process group of its own, so that
// one kill ends everything it started. Its stdin, stdout and stderr are
// pipes to the worker; the meta descriptor (fd 3) too when asked for. It
// dies with the worker (PR_SET_PDEATHSIG) and keeps SIGPIPE's default.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "slate/status.h"

namespace slate::worker {

// The descriptor a command may write JSON lines to (exec_handler.h).
inline constexpr int kMetaFd = 3;

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() { CloseBoth(); }
  bool Open();
  void Close(int end);
  void CloseBoth() { Close(0); Close(1); }
};

struct Pipes {
  Pipe to, out, err, meta;  // meta: open only when asked for
};

// Starts argv (argv[0] searched in PATH) in a process group of its own,
// with the worker's environment minus the per-task SLATE_* variables, plus
// `env`; it dies with the thread that started it. On return
// the parent's ends are open: p.to.fd[1], p.out.fd[0], p.err.fd[0] (and
// p.meta.fd[0]). A command that cannot be run exits 127 with the reason on
// its stderr.
Result<pid_t> SpawnInGroup(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env, bool with_meta, Pipes& p);

// The argv of a handler's command line: /bin/sh -c LINE with `shell`,
// else its words (SplitCommandLine, no expansion). Also makes the worker
// ignore SIGPIPE: a command that stops reading then fails its task (EPIPE
// on the write) instead of killing the worker.
Result<std::vector<std::string>> CommandArgv(const std::string& line, bool shell);

// "; stderr: <its last 2 KiB>", or "" when it wrote nothing.
std::string StderrTail(const std::string& err);
inline constexpr size_t kStderrTail = 2048;

}  // namespace slate::worker
