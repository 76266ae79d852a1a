#include "children.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>
#include <thread>

namespace slate::bench {
namespace {

std::atomic<bool> g_stop{false};
void OnTerm(int) { g_stop.store(true); }

}  // namespace

SharedPage::SharedPage(size_t bytes) : bytes_(bytes) {
  data_ = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (data_ == MAP_FAILED) throw std::bad_alloc();
}

SharedPage::~SharedPage() { munmap(data_, bytes_); }

Children::Children() {
  if (pipe2(pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
}

Children::~Children() {
  StopAll();
  close(pipe_[0]);
  close(pipe_[1]);
}

pid_t Children::Spawn(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    StopFlag();  // SIGTERM asks; the body decides when to return
    int rc = 1;
    try {
      rc = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "slate-bench child: %s\n", e.what());
    }
    std::fflush(nullptr);
    _exit(rc);
  }
  pids_.push_back(pid);
  return pid;
}

void Children::Ready() {
  const char c = 'r';
  (void)!write(pipe_[1], &c, 1);
}

bool Children::AwaitReady() {
  size_t ready = 0;
  while (ready < pids_.size()) {
    pollfd pfd{pipe_[0], POLLIN, 0};
    if (poll(&pfd, 1, 100) == 1) {
      char c;
      if (read(pipe_[0], &c, 1) == 1) ++ready;
      continue;
    }
    // A child that exits before reporting never will.
    for (pid_t p : pids_) {
      int st;
      if (waitpid(p, &st, WNOHANG) == p) {
        std::fprintf(stderr, "slate-bench: child %d exited during set-up\n", p);
        return false;
      }
    }
  }
  return true;
}

bool Children::StopAll() {
  bool ok = true;
  for (pid_t p : pids_) kill(p, SIGTERM);
  for (pid_t p : pids_) {
    int st = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      const pid_t r = waitpid(p, &st, WNOHANG);
      if (r == p || r < 0) break;
      if (std::chrono::steady_clock::now() > deadline) {
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        ok = false;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = false;
  }
  pids_.clear();
  return ok;
}

std::atomic<bool>& StopFlag() {
  struct sigaction sa {};
  sa.sa_handler = OnTerm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  return g_stop;
}

}  // namespace slate::bench
