#include "exec_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "slate/json_payload.h"

extern char** environ;

namespace slate::worker {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kStderrTail = 2048;

// The command may write JSON lines to this descriptor (named in
// SLATE_META_FD): {"importance": x} sets its result's importance, x in
// [0, 1]; {"checkpoint": state} saves state in the pool as the task's
// checkpoint, at once, replacing the last one: the task's next attempt
// gets it in $SLATE_RESUME (and a plan's envelope as "resume"). Anything
// else there is ignored.
constexpr int kMetaFd = 3;
constexpr size_t kMaxMetaLine = 1024 * 1024;

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { CloseBoth(); }
  bool Open() { return pipe2(fd, O_CLOEXEC) == 0; }
  void Close(int end) {
    if (fd[end] >= 0) close(fd[end]);
    fd[end] = -1;
  }
  void CloseBoth() { Close(0); Close(1); }
};

struct Pipes {
  Pipe to, out, err, meta;
};

// What the command writes on its meta descriptor, acted on line by line as
// it arrives: a checkpoint must be in the pool before a SIGKILL can come.
class MetaLines {
 public:
  explicit MetaLines(RunControl& control) : control_(control) {}
  void Feed(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (p[i] != '\n') {
        if (partial_.size() < kMaxMetaLine) partial_.push_back(p[i]);
        else too_long_ = true;
        continue;
      }
      if (!too_long_) Line(partial_);
      partial_.clear();
      too_long_ = false;
    }
  }
  // The command is gone: a last line without its newline counts too.
  void Finish() {
    if (!partial_.empty() && !too_long_) Line(partial_);
    partial_.clear();
  }
  std::optional<float> importance() const { return importance_; }

 private:
  void Line(const std::string& text) {
    const auto line = nlohmann::json::parse(text, nullptr, false);
    if (!line.is_object()) return;
    if (line.contains("importance") && line["importance"].is_number()) {
      const double x = line["importance"].get<double>();
      if (x >= 0 && x <= 1) importance_ = static_cast<float>(x);
    }
    if (line.contains("checkpoint"))
      if (Status s = control_.SaveCheckpoint(line["checkpoint"]); !s.ok())
        spdlog::warn("checkpoint not saved: {}", s.message());
  }

  RunControl& control_;
  std::string partial_;
  bool too_long_ = false;
  std::optional<float> importance_;
};

std::string StdinText(const nlohmann::json& payload) {
  return payload.is_string() ? payload.get<std::string>() : JsonText(payload);
}

nlohmann::json ResultOf(const std::string& out) {
  auto parsed = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) return parsed;
  std::string text = out;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

class ExecHandler : public Handler {
 public:
  ExecHandler(std::vector<std::string> argv, const HandlerOptions& o)
      : argv_(std::move(argv)), options_(o) {}

  Outcome Run(const TaskInput& in, RunControl& control) override {
    // Everything the child needs is built before fork: between fork and exec
    // a child of a threaded process may only make async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv(*e);
      if (kv.rfind("SLATE_TASK_ID=", 0) == 0 || kv.rfind("SLATE_ATTEMPT=", 0) == 0 ||
          kv.rfind("SLATE_REQUEST_ID=", 0) == 0 || kv.rfind("SLATE_ITERATION=", 0) == 0 ||
          kv.rfind("SLATE_META_FD=", 0) == 0 || kv.rfind("SLATE_RESUME=", 0) == 0)
        continue;
      env_strings.push_back(kv);
    }
    env_strings.push_back("SLATE_TASK_ID=" + std::to_string(in.task_id));
    env_strings.push_back("SLATE_ATTEMPT=" + std::to_string(in.attempt));
    env_strings.push_back("SLATE_REQUEST_ID=" + in.request_id);
    env_strings.push_back("SLATE_ITERATION=" + std::to_string(in.iteration));
    env_strings.push_back("SLATE_META_FD=" + std::to_string(kMetaFd));
    if (!in.resume.is_null()) env_strings.push_back("SLATE_RESUME=" + JsonText(in.resume));
    std::vector<char*> envp, argv;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (auto& w : argv_) argv.push_back(w.data());
    argv.push_back(nullptr);
    Pipes p;
    if (!p.to.Open() || !p.out.Open() || !p.err.Open() || !p.meta.Open())
      return Outcome::Failure(std::string("cannot create pipes: ") + strerror(errno));
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
      Child(argv.data(), envp.data(), p);  // never returns
    }
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    if (pid < 0) return Outcome::Failure(std::string("cannot fork: ") + strerror(errno));
    p.to.Close(0);
    p.out.Close(1);
    p.err.Close(1);
    p.meta.Close(1);
    return Supervise(pid, in, control, p);
  }

 private:
  [[noreturn]] static void Child(char** argv, char** envp, Pipes& p) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);  // the worker ignores it; the command must not
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The meta end is moved clear of 0-3 first, so no dup2 below lands on it.
    const int meta = fcntl(p.meta.fd[1], F_DUPFD_CLOEXEC, kMetaFd + 1);
    dup2(p.to.fd[0], 0);
    dup2(p.out.fd[1], 1);
    dup2(p.err.fd[1], 2);
    dup2(meta, kMetaFd);  // without close-on-exec: the command inherits it
    execvpe(argv[0], argv, envp);
    static const char kMsg[] = "slate-worker: cannot run the command: ";
    (void)!write(2, kMsg, sizeof kMsg - 1);
    const char* why = strerrordesc_np(errno);
    (void)!write(2, why, strlen(why));
    (void)!write(2, "\n", 1);
    _exit(127);
  }

  Outcome Supervise(pid_t pid, const TaskInput& in, RunControl& control, Pipes& p) {
    Pipe& to = p.to;
    Pipe& out = p.out;
    Pipe& err = p.err;
    Pipe& meta = p.meta;
    setpgid(pid, pid);  // also here: no race with the child's own call
    // Readable once the child exits; an unreaped child's pid is not reused.
    // -1 without pidfds: exits are then seen at the next poll tick.
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    const std::string input = StdinText(in.plan ? in.envelope : in.payload);
    size_t written = 0;
    std::string stdout_buf, stderr_buf;
    MetaLines meta_lines(control);
    const uint32_t timeout_ms = in.timeout_ms ? in.timeout_ms : options_.default_timeout_ms;
    const auto start = Clock::now();
    fcntl(to.fd[1], F_SETFL, O_NONBLOCK);
    std::string failure;
    int status = 0;
    bool exited = false;
    Clock::time_point exited_at;
    for (;;) {
      if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        exited_at = Clock::now();
      }
      const bool pipes_open = out.fd[0] >= 0 || err.fd[0] >= 0;
      // After the leader exits, give its pipes a moment to drain; a
      // grandchild holding them open is killed with the group below.
      if (exited && (!pipes_open || Clock::now() - exited_at > std::chrono::milliseconds(200)))
        break;
      if (control.cancel.load()) { failure = "cancelled"; break; }
      const auto elapsed = Clock::now() - start;
      if (timeout_ms != 0 && elapsed > std::chrono::milliseconds(timeout_ms)) {
        failure = "timed out after " + std::to_string(timeout_ms) + " ms; process group killed";
        break;
      }
      pollfd fds[5];
      int n = 0;
      if (pidfd >= 0) fds[n++] = {pidfd, POLLIN, 0};
      if (out.fd[0] >= 0) fds[n++] = {out.fd[0], POLLIN, 0};
      if (err.fd[0] >= 0) fds[n++] = {err.fd[0], POLLIN, 0};
      if (meta.fd[0] >= 0) fds[n++] = {meta.fd[0], POLLIN, 0};
      if (to.fd[1] >= 0) fds[n++] = {to.fd[1], POLLOUT, 0};
      poll(fds, static_cast<nfds_t>(n), 5);  // also how soon a cancel is seen
      for (int i = 0; i < n; ++i) {
        if (fds[i].revents == 0 || fds[i].fd == pidfd) continue;
        if (fds[i].fd == to.fd[1]) {
          const ssize_t w = write(to.fd[1], input.data() + written, input.size() - written);
          if (w > 0) written += static_cast<size_t>(w);
          if (w < 0 && errno != EAGAIN) to.Close(1);  // EPIPE: it stopped reading
          if (written == input.size()) to.Close(1);
          continue;
        }
        const bool is_out = fds[i].fd == out.fd[0];
        char buf[65536];
        const ssize_t r = read(fds[i].fd, buf, sizeof buf);
        if (fds[i].fd == meta.fd[0]) {
          if (r <= 0) meta.Close(0);
          else meta_lines.Feed(buf, static_cast<size_t>(r));
          continue;
        }
        if (r <= 0) {
          (is_out ? out : err).Close(0);
          continue;
        }
        std::string& dst = is_out ? stdout_buf : stderr_buf;
        dst.append(buf, static_cast<size_t>(r));
        if (!is_out && dst.size() > 4 * kStderrTail) dst.erase(0, dst.size() - kStderrTail);
      }
      if (stdout_buf.size() > options_.max_output_bytes) {
        failure = "output exceeds " + std::to_string(options_.max_output_bytes) +
                  " bytes; process group killed";
        break;
      }
      if (to.fd[1] >= 0 && written == input.size()) to.Close(1);
    }
    if (failure == "cancelled" && !exited)
      exited = Terminate(pid, pidfd, control.grace_ms.load(), meta, meta_lines, &status);
    if (pidfd >= 0) close(pidfd);
    kill(-pid, SIGKILL);  // the whole group, whatever happened
    if (!exited) waitpid(pid, &status, 0);
    DrainMeta(meta, meta_lines, 0);  // the group is dead: every writer is gone
    meta_lines.Finish();
    if (!failure.empty()) return Outcome::Failure(failure + Tail(stderr_buf));
    if (WIFSIGNALED(status))
      return Outcome::Failure("killed by signal " + std::to_string(WTERMSIG(status)) +
                              Tail(stderr_buf));
    if (WEXITSTATUS(status) != 0)
      return Outcome::Failure("exit code " + std::to_string(WEXITSTATUS(status)) +
                              Tail(stderr_buf));
    Outcome ok = Outcome::Success(ResultOf(stdout_buf));
    ok.importance = meta_lines.importance();
    return ok;
  }

  // Reads what the meta pipe holds, waiting up to wait_ms for more; false
  // once it is closed.
  static bool DrainMeta(Pipe& meta, MetaLines& lines, int wait_ms) {
    while (meta.fd[0] >= 0) {
      pollfd p = {meta.fd[0], POLLIN, 0};
      if (poll(&p, 1, wait_ms) <= 0) return true;
      char buf[65536];
      const ssize_t r = read(meta.fd[0], buf, sizeof buf);
      if (r <= 0) {
        meta.Close(0);
        return false;
      }
      lines.Feed(buf, static_cast<size_t>(r));
      wait_ms = 0;
    }
    return false;
  }

  // A cancelled task's group gets SIGTERM and grace_ms to finish (save a
  // checkpoint, clean up) before the SIGKILL every ending sends. What it
  // writes on its meta descriptor meanwhile is read; its exit is seen at
  // once on its pidfd (else within a millisecond).
  static bool Terminate(pid_t pid, int pidfd, uint32_t grace_ms, Pipe& meta, MetaLines& lines,
                        int* status) {
    kill(-pid, SIGTERM);
    const auto until = Clock::now() + std::chrono::milliseconds(grace_ms);
    for (;;) {
      if (waitpid(pid, status, WNOHANG) == pid) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      pollfd fds[2];
      int n = 0;
      if (pidfd >= 0) fds[n++] = {pidfd, POLLIN, 0};
      if (meta.fd[0] >= 0) fds[n++] = {meta.fd[0], POLLIN, 0};
      const int wait_ms = pidfd >= 0 ? static_cast<int>(std::min<int64_t>(left.count(), 1000)) : 1;
      if (poll(fds, static_cast<nfds_t>(n), wait_ms) > 0 && meta.fd[0] >= 0)
        for (int i = 0; i < n; ++i)
          if (fds[i].fd == meta.fd[0] && fds[i].revents != 0) DrainMeta(meta, lines, 0);
    }
  }

  static std::string Tail(const std::string& err) {
    if (err.empty()) return "";
    std::string tail = err.size() > kStderrTail ? err.substr(err.size() - kStderrTail) : err;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    return "; stderr: " + tail;
  }

  std::vector<std::string> argv_;
  HandlerOptions options_;
};

}  // namespace

Result<std::unique_ptr<Handler>> MakeExecHandler(const HandlerOptions& options) {
  // A command that exits without reading its stdin must fail its task, not
  // kill the worker: writes to its pipe then fail with EPIPE instead.
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> argv = {"/bin/sh", "-c", options.exec_command};
  if (!options.exec_shell) {
    auto words = SplitCommandLine(options.exec_command);
    if (!words.ok()) return words.status();
    argv = std::move(*words);
  }
  return std::unique_ptr<Handler>(new ExecHandler(std::move(argv), options));
}

}  // namespace slate::worker
