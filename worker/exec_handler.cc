#include "exec_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "child_process.h"
#include "slate/json_payload.h"

namespace slate::worker {
namespace {

using Clock = std::chrono::steady_clock;

// The command may write JSON lines to this descriptor (named in
// SLATE_META_FD): {"importance": x} sets its result's importance, x in
// [0, 1]; {"checkpoint": state} saves state in the pool as the task's
// checkpoint, at once, replacing the last one: the task's next attempt
// gets it in $SLATE_RESUME (and a plan's envelope as "resume"). Anything
// else there is ignored.
constexpr size_t kMaxMetaLine = 1024 * 1024;

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
    std::vector<std::string> env = {
        "SLATE_TASK_ID=" + std::to_string(in.task_id),
        "SLATE_ATTEMPT=" + std::to_string(in.attempt),
        "SLATE_REQUEST_ID=" + in.request_id,
        "SLATE_ITERATION=" + std::to_string(in.iteration),
        "SLATE_META_FD=" + std::to_string(kMetaFd)};
    if (!in.resume.is_null()) env.push_back("SLATE_RESUME=" + JsonText(in.resume));
    Pipes p;
    auto pid = SpawnInGroup(argv_, env, /*with_meta=*/true, p);
    if (!pid.ok()) return Outcome::Failure(pid.status().message());
    return Supervise(*pid, in, control, p);
  }

 private:
  Outcome Supervise(pid_t pid, const TaskInput& in, RunControl& control, Pipes& p) {
    Pipe& to = p.to;
    Pipe& out = p.out;
    Pipe& err = p.err;
    Pipe& meta = p.meta;
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
    if (!failure.empty()) return Outcome::Failure(failure + StderrTail(stderr_buf));
    if (WIFSIGNALED(status))
      return Outcome::Failure("killed by signal " + std::to_string(WTERMSIG(status)) +
                              StderrTail(stderr_buf));
    if (WEXITSTATUS(status) != 0)
      return Outcome::Failure("exit code " + std::to_string(WEXITSTATUS(status)) +
                              StderrTail(stderr_buf));
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

  std::vector<std::string> argv_;
  HandlerOptions options_;
};

}  // namespace

Result<std::unique_ptr<Handler>> MakeExecHandler(const HandlerOptions& options) {
  auto argv = CommandArgv(options.exec_command, options.exec_shell);
  if (!argv.ok()) return argv.status();
  return std::unique_ptr<Handler>(new ExecHandler(std::move(*argv), options));
}

}  // namespace slate::worker
