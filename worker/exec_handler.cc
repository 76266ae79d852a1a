#include "exec_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "slate/json_payload.h"

extern char** environ;

namespace slate::worker {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kStderrTail = 2048;

// The command may write JSON lines to this descriptor (named in
// SLATE_META_FD): {"importance": x} sets its result's importance, x in
// [0, 1]. Anything else there is ignored.
constexpr int kMetaFd = 3;
constexpr size_t kMaxMetaBytes = 64 * 1024;

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

// The last valid importance the command declared on its meta descriptor.
std::optional<float> ImportanceIn(const std::string& meta) {
  std::optional<float> importance;
  size_t at = 0;
  while (at < meta.size()) {
    size_t end = meta.find('\n', at);
    if (end == std::string::npos) end = meta.size();
    const auto line = nlohmann::json::parse(meta.substr(at, end - at), nullptr, false);
    at = end + 1;
    if (!line.is_object() || !line.contains("importance") || !line["importance"].is_number())
      continue;
    const double x = line["importance"].get<double>();
    if (x >= 0 && x <= 1) importance = static_cast<float>(x);
  }
  return importance;
}

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
          kv.rfind("SLATE_META_FD=", 0) == 0)
        continue;
      env_strings.push_back(kv);
    }
    env_strings.push_back("SLATE_TASK_ID=" + std::to_string(in.task_id));
    env_strings.push_back("SLATE_ATTEMPT=" + std::to_string(in.attempt));
    env_strings.push_back("SLATE_REQUEST_ID=" + in.request_id);
    env_strings.push_back("SLATE_ITERATION=" + std::to_string(in.iteration));
    env_strings.push_back("SLATE_META_FD=" + std::to_string(kMetaFd));
    std::vector<char*> envp, argv;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (auto& w : argv_) argv.push_back(w.data());
    argv.push_back(nullptr);
    Pipes p;
    if (!p.to.Open() || !p.out.Open() || !p.err.Open() || !p.meta.Open())
      return Outcome::Failure(std::string("cannot create pipes: ") + strerror(errno));
    const pid_t pid = fork();
    if (pid < 0) return Outcome::Failure(std::string("cannot fork: ") + strerror(errno));
    if (pid == 0) Child(argv.data(), envp.data(), p);  // never returns
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
    const std::string input = StdinText(in.plan ? in.envelope : in.payload);
    size_t written = 0;
    std::string stdout_buf, stderr_buf, meta_buf;
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
      pollfd fds[4];
      int n = 0;
      if (out.fd[0] >= 0) fds[n++] = {out.fd[0], POLLIN, 0};
      if (err.fd[0] >= 0) fds[n++] = {err.fd[0], POLLIN, 0};
      if (meta.fd[0] >= 0) fds[n++] = {meta.fd[0], POLLIN, 0};
      if (to.fd[1] >= 0) fds[n++] = {to.fd[1], POLLOUT, 0};
      poll(fds, static_cast<nfds_t>(n), 20);
      for (int i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
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
          else if (meta_buf.size() < kMaxMetaBytes) meta_buf.append(buf, static_cast<size_t>(r));
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
    if (failure == "cancelled" && !exited) exited = Terminate(pid, control.grace_ms.load(), &status);
    kill(-pid, SIGKILL);  // the whole group, whatever happened
    if (!exited) waitpid(pid, &status, 0);
    if (!failure.empty()) return Outcome::Failure(failure + Tail(stderr_buf));
    if (WIFSIGNALED(status))
      return Outcome::Failure("killed by signal " + std::to_string(WTERMSIG(status)) +
                              Tail(stderr_buf));
    if (WEXITSTATUS(status) != 0)
      return Outcome::Failure("exit code " + std::to_string(WEXITSTATUS(status)) +
                              Tail(stderr_buf));
    Outcome ok = Outcome::Success(ResultOf(stdout_buf));
    ok.importance = ImportanceIn(meta_buf);
    return ok;
  }

  // A cancelled task's group gets SIGTERM and grace_ms to finish (save a
  // checkpoint, clean up) before the SIGKILL every ending sends.
  static bool Terminate(pid_t pid, uint32_t grace_ms, int* status) {
    kill(-pid, SIGTERM);
    const auto until = Clock::now() + std::chrono::milliseconds(grace_ms);
    while (Clock::now() < until) {
      if (waitpid(pid, status, WNOHANG) == pid) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
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
