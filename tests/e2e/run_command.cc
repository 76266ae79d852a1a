#include "run_command.h"

#include "slate/pool.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <fstream>
#include <sstream>
#include <thread>

namespace slate::testing {
std::string BinDir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string path(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return path.substr(0, path.rfind('/'));
}

namespace {

std::string Resolve(const std::string& prog) {
  return prog.find('/') == std::string::npos && prog.rfind("slate-", 0) == 0
             ? BinDir() + "/" + prog
             : prog;
}

pid_t Spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  std::vector<std::string> args = argv;
  args[0] = Resolve(args[0]);
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(out_fd >= 0 ? out_fd : null_fd, 1);
    dup2(err_fd >= 0 ? err_fd : null_fd, 2);
    execvp(cargs[0], cargs.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

std::string SourceDir() { return SLATE_SOURCE_DIR; }

CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return {};
  const pid_t pid = Spawn(argv, out[1], err[1]);
  close(out[1]);
  close(err[1]);
  CommandResult r;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && std::chrono::steady_clock::now() < end) {
    pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    poll(fds, 2, 50);
    char buf[65536];
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      else (i == 0 ? out_open : err_open) = false;
    }
  }
  close(out[0]);
  close(err[0]);
  r.exit_code = WaitCommand(pid, 1000);
  return r;
}

pid_t StartCommand(const std::vector<std::string>& argv) { return Spawn(argv, -1, -1); }

pid_t StartCommandToFile(const std::vector<std::string>& argv, const std::string& stdout_path) {
  const int fd = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t pid = Spawn(argv, fd, -1);
  close(fd);
  return pid;
}

int WaitCommand(pid_t pid, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const pid_t pid = static_cast<pid_t>(atoi(e->d_name));
    if (pid <= 0 || pid == getpid()) continue;
    std::ifstream f("/proc/" + std::string(e->d_name) + "/cmdline");
    std::stringstream s;
    s << f.rdbuf();
    std::string cmd = s.str();
    std::ifstream st("/proc/" + std::string(e->d_name) + "/stat");
    std::string stat_line;
    std::getline(st, stat_line);
    const auto paren = stat_line.rfind(')');
    const bool zombie = paren != std::string::npos && paren + 2 < stat_line.size() &&
                        stat_line[paren + 2] == 'Z';
    if (!zombie && cmd.find(needle) != std::string::npos) out.push_back(pid);
  }
  closedir(d);
  return out;
}

std::vector<pid_t> MembersRunning(const std::string& pool, const std::string& program) {
  std::vector<pid_t> out;
  for (pid_t p : ProcessesMentioning(pool)) {
    std::ifstream f("/proc/" + std::to_string(p) + "/cmdline");
    std::string argv0;
    std::getline(f, argv0, '\0');  // the program itself, not its arguments
    if (argv0.size() >= program.size() &&
        argv0.compare(argv0.size() - program.size(), program.size(), program) == 0)
      out.push_back(p);
  }
  return out;
}

bool PoolExists(const std::string& pool) {
  return Pool::Exists(pool);
}

std::string TempPath(const std::string& name) {
  return "/tmp/slate-e2e-" + std::to_string(getpid()) + "-" + name;
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  const std::string path = TempPath(name);
  std::ofstream(path) << content;
  return path;
}

}  // namespace slate::testing
