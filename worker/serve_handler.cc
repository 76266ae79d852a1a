#include "serve_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

#include "child_process.h"
#include "exec_handler.h"
#include "slate/json_payload.h"

namespace slate::worker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The command while it lives. Owned by the handler, which one worker
// thread calls one task at a time.
struct Served {
  pid_t pgid = -1;  // its process group: the command's first pid
  pid_t pid = -1;   // -1 once reaped
  int pidfd = -1;  // readable once it exits; -1 without pidfds
  Pipes pipes;
  std::string out;  // stdout read past the last answer
  std::string err;  // its stderr's recent tail
};

class ServeHandler : public Handler {
 public:
  ServeHandler(std::vector<std::string> argv, const HandlerOptions& o)
      : argv_(std::move(argv)), options_(o) {}
  ~ServeHandler() override { Stop(options_.stop_grace_ms); }

  void Prepare() override {
    if (Status s = Start(); !s.ok())
      spdlog::warn("serve: cannot start '{}' yet: {}", options_.exec_command, s.message());
  }

  Outcome Run(const TaskInput& in, RunControl& control) override {
    if (!cmd_) {
      if (Status s = Start(); !s.ok()) return Outcome::Failure(s.message());
    }
    std::string line = JsonText(in.plan ? in.envelope : in.payload);
    line.push_back('\n');
    const uint32_t timeout_ms = in.timeout_ms ? in.timeout_ms : options_.default_timeout_ms;
    const auto deadline =
        timeout_ms ? std::optional(Clock::now() + milliseconds(timeout_ms)) : std::nullopt;
    size_t written = 0;
    for (;;) {
      if (auto answer = TakeLine()) return Answer(*answer);
      if (cmd_->out.size() > options_.max_output_bytes) {
        Stop(0);
        return Outcome::Failure("the answer is longer than " +
                                std::to_string(options_.max_output_bytes) +
                                " bytes; the command is started again for the next task");
      }
      // The worker also cancels a task past its timeout: that is a timeout.
      const bool late = deadline && Clock::now() > *deadline;
      if (control.cancel.load() && !late) {
        const std::string tail = Stop(control.grace_ms.load());
        return Outcome::Failure("cancelled; the command is started again for the next task" +
                                tail);
      }
      if (late) {
        const std::string tail = Stop(0);
        return Outcome::Failure("timed out after " + std::to_string(timeout_ms) +
                                " ms; the command's process group was killed and is started "
                                "again for the next task" + tail);
      }
      if (auto ended = Exited()) {
        DrainRest();
        std::optional<std::string> last = TakeLine();  // it answered, then went
        const std::string tail = StderrTail(cmd_->err);
        Stop(0);
        if (last) return Answer(*last);
        return Outcome::Failure("the command " + *ended + " before it answered; it is started "
                                "again for the next task" + tail);
      }
      Pump(line, &written);
    }
  }

 private:
  Status Start() {
    auto served = std::make_unique<Served>();
    auto pid = SpawnInGroup(argv_, {}, /*with_meta=*/false, served->pipes);
    if (!pid.ok()) return pid.status();
    served->pid = served->pgid = *pid;
    served->pidfd = static_cast<int>(syscall(SYS_pidfd_open, *pid, 0));
    fcntl(served->pipes.to.fd[1], F_SETFL, O_NONBLOCK);
    cmd_ = std::move(served);
    spdlog::info("serve: started '{}' (pid {})", options_.exec_command, *pid);
    return Status::Ok();
  }

  // One round of waiting: writes what the task's line still needs, reads
  // what the command printed; returns within 5 ms so a cancel is seen.
  void Pump(const std::string& line, size_t* written) {
    Served& c = *cmd_;
    pollfd fds[4];
    int n = 0;
    if (c.pidfd >= 0) fds[n++] = {c.pidfd, POLLIN, 0};
    if (c.pipes.out.fd[0] >= 0) fds[n++] = {c.pipes.out.fd[0], POLLIN, 0};
    if (c.pipes.err.fd[0] >= 0) fds[n++] = {c.pipes.err.fd[0], POLLIN, 0};
    if (*written < line.size() && c.pipes.to.fd[1] >= 0)
      fds[n++] = {c.pipes.to.fd[1], POLLOUT, 0};
    poll(fds, static_cast<nfds_t>(n), 5);
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0 || fds[i].fd == c.pidfd) continue;
      if (fds[i].fd == c.pipes.to.fd[1]) {
        const ssize_t w = write(c.pipes.to.fd[1], line.data() + *written, line.size() - *written);
        if (w > 0) *written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) c.pipes.to.Close(1);  // EPIPE: it is going
        continue;
      }
      const bool is_out = fds[i].fd == c.pipes.out.fd[0];
      char buf[65536];
      const ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r <= 0) {
        (is_out ? c.pipes.out : c.pipes.err).Close(0);
        continue;
      }
      std::string& dst = is_out ? c.out : c.err;
      dst.append(buf, static_cast<size_t>(r));
      if (!is_out && dst.size() > 4 * kStderrTail) dst.erase(0, dst.size() - kStderrTail);
    }
  }

  // What an ended command left in its pipes (a grandchild holding them
  // open gets 50 ms, then is killed with the group).
  void DrainRest() {
    const std::string none;
    size_t all = 0;
    for (int i = 0; i < 10 && (cmd_->pipes.out.fd[0] >= 0 || cmd_->pipes.err.fd[0] >= 0); ++i)
      Pump(none, &all);
  }

  // The first whole line the command printed, if any.
  std::optional<std::string> TakeLine() {
    const size_t nl = cmd_->out.find('\n');
    if (nl == std::string::npos || nl > options_.max_output_bytes) return std::nullopt;
    std::string line = cmd_->out.substr(0, nl);
    cmd_->out.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

  Outcome Answer(const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
      return Outcome::Failure("not a JSON line: " + line.substr(0, 200) +
                              (line.size() > 200 ? "..." : ""));
    if (j.is_object() && j.size() == 1 && j.contains("error"))
      return Outcome::Failure(j["error"].is_string() ? j["error"].get<std::string>()
                                                     : j["error"].dump());
    return Outcome::Success(std::move(j));
  }

  // How the command ended ("exited with code 3", "was killed by signal
  // 9"), once it has, else nothing. Its stdout closing counts: it can
  // answer no more.
  std::optional<std::string> Exited() {
    const bool mute = cmd_->pipes.out.fd[0] < 0 && cmd_->out.find('\n') == std::string::npos;
    // A command that closed its stdout is most likely exiting: its status
    // says more than the closing, so it gets a moment to be seen.
    if (mute && cmd_->pidfd >= 0) {
      pollfd p = {cmd_->pidfd, POLLIN, 0};
      poll(&p, 1, 200);
    }
    int status = 0;
    if (waitpid(cmd_->pid, &status, WNOHANG) == cmd_->pid) {
      cmd_->pid = -1;  // reaped
      if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
      return "exited with code " + std::to_string(WEXITSTATUS(status));
    }
    if (mute) return std::string("closed its stdout");
    return std::nullopt;
  }

  // Ends the command: its stdin closed, then SIGTERM to its group and up
  // to grace_ms to exit, then SIGKILL. Returns its stderr's tail.
  std::string Stop(uint32_t grace_ms) {
    if (!cmd_) return "";
    Served& c = *cmd_;
    c.pipes.to.Close(1);
    if (c.pid > 0) {
      kill(-c.pgid, SIGTERM);
      const auto until = Clock::now() + milliseconds(grace_ms);
      int status = 0;
      while (waitpid(c.pid, &status, WNOHANG) != c.pid) {
        if (Clock::now() >= until) {
          kill(-c.pgid, SIGKILL);
          waitpid(c.pid, &status, 0);
          break;
        }
        if (c.pidfd >= 0) {
          pollfd p = {c.pidfd, POLLIN, 0};
          poll(&p, 1, 10);
        } else {
          usleep(1000);
        }
      }
    }
    kill(-c.pgid, SIGKILL);  // whatever it started
    if (c.pidfd >= 0) close(c.pidfd);
    std::string tail = StderrTail(c.err);
    cmd_.reset();
    return tail;
  }

  std::vector<std::string> argv_;
  HandlerOptions options_;
  std::unique_ptr<Served> cmd_;  // null until Prepare or a task starts it, and after it ended
};

}  // namespace

Result<std::unique_ptr<Handler>> MakeServeHandler(const HandlerOptions& options) {
  auto argv = CommandArgv(options.exec_command, options.exec_shell);
  if (!argv.ok()) return argv.status();
  return std::unique_ptr<Handler>(new ServeHandler(std::move(*argv), options));
}

}  // namespace slate::worker
