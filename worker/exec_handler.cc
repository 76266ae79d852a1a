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
#include <thread>

#include "slate/json_payload.h"

extern char** environ;

namespace slate::worker {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kStderrTail = 2048;

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

  Outcome Run(const TaskInput& in, const std::atomic<bool>& cancel) override {
    // Everything the child needs is built before fork: between fork and exec
    // a child of a threaded process may only make async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv(*e);
      if (kv.rfind("SLATE_TASK_ID=", 0) == 0 || kv.rfind("SLATE_ATTEMPT=", 0) == 0 ||
          kv.rfind("SLATE_REQUEST_ID=", 0) == 0 || kv.rfind("SLATE_ITERATION=", 0) == 0)
        continue;
      env_strings.push_back(kv);
    }
    env_strings.push_back("SLATE_TASK_ID=" + std::to_string(in.task_id));
    env_strings.push_back("SLATE_ATTEMPT=" + std::to_string(in.attempt));
    env_strings.push_back("SLATE_REQUEST_ID=" + in.request_id);
    env_strings.push_back("SLATE_ITERATION=" + std::to_string(in.iteration));
    std::vector<char*> envp, argv;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (auto& w : argv_) argv.push_back(w.data());
    argv.push_back(nullptr);
    Pipe to, out, err;
    if (!to.Open() || !out.Open() || !err.Open())
      return Outcome::Failure(std::string("cannot create pipes: ") + strerror(errno));
    const pid_t pid = fork();
    if (pid < 0) return Outcome::Failure(std::string("cannot fork: ") + strerror(errno));
    if (pid == 0) Child(argv.data(), envp.data(), to, out, err);  // never returns
    to.Close(0);
    out.Close(1);
    err.Close(1);
    return Supervise(pid, in, cancel, to, out, err);
  }

 private:
  [[noreturn]] static void Child(char** argv, char** envp, Pipe& to, Pipe& out, Pipe& err) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);  // the worker ignores it; the command must not
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(to.fd[0], 0);
    dup2(out.fd[1], 1);
    dup2(err.fd[1], 2);
    execvpe(argv[0], argv, envp);
    static const char kMsg[] = "slate-worker: cannot run the command: ";
    (void)!write(2, kMsg, sizeof kMsg - 1);
    const char* why = strerrordesc_np(errno);
    (void)!write(2, why, strlen(why));
    (void)!write(2, "\n", 1);
    _exit(127);
  }

  Outcome Supervise(pid_t pid, const TaskInput& in, const std::atomic<bool>& cancel,
                    Pipe& to, Pipe& out, Pipe& err) {
    setpgid(pid, pid);  // also here: no race with the child's own call
    const std::string input = StdinText(in.plan ? in.envelope : in.payload);
    size_t written = 0;
    std::string stdout_buf, stderr_buf;
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
      if (cancel.load()) { failure = "cancelled"; break; }
      const auto elapsed = Clock::now() - start;
      if (timeout_ms != 0 && elapsed > std::chrono::milliseconds(timeout_ms)) {
        failure = "timed out after " + std::to_string(timeout_ms) + " ms; process group killed";
        break;
      }
      pollfd fds[3];
      int n = 0;
      if (out.fd[0] >= 0) fds[n++] = {out.fd[0], POLLIN, 0};
      if (err.fd[0] >= 0) fds[n++] = {err.fd[0], POLLIN, 0};
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
    if (failure == "cancelled" && !exited) exited = Terminate(pid, &status);
    kill(-pid, SIGKILL);  // the whole group, whatever happened
    if (!exited) waitpid(pid, &status, 0);
    if (!failure.empty()) return Outcome::Failure(failure + Tail(stderr_buf));
    if (WIFSIGNALED(status))
      return Outcome::Failure("killed by signal " + std::to_string(WTERMSIG(status)) +
                              Tail(stderr_buf));
    if (WEXITSTATUS(status) != 0)
      return Outcome::Failure("exit code " + std::to_string(WEXITSTATUS(status)) +
                              Tail(stderr_buf));
    return Outcome::Success(ResultOf(stdout_buf));
  }

  // A cancelled task's group gets SIGTERM and stop_grace_ms to finish
  // (save its work, clean up) before the SIGKILL every ending sends.
  bool Terminate(pid_t pid, int* status) const {
    kill(-pid, SIGTERM);
    const auto until = Clock::now() + std::chrono::milliseconds(options_.stop_grace_ms);
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
