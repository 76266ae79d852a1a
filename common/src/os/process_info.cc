#include "slate/internal/process_info.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace slate::internal {
namespace {

// Processes this one has checked: a pidfd each, opened once and verified
// against the start time, so that a later check is one poll() instead of
// reading /proc (a supervisor checks every agent on every tick). A pidfd
// names one process, never a later one with the same pid, and turns
// readable when it exits (a zombie included).
class PidfdCache {
 public:
  // nullopt: no pidfd (an old kernel); the caller reads /proc.
  std::optional<bool> Alive(int pid, uint64_t start_time) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = fds_.find(pid);
    if (it != fds_.end() && it->second.start_time != start_time) {
      close(it->second.fd);
      fds_.erase(it);
      it = fds_.end();
    }
    if (it == fds_.end()) {
      bool unsupported = false;
      const int fd = OpenPidfd(pid, start_time, &unsupported);
      if (unsupported) return std::nullopt;
      if (fd < 0) return false;
      if (fds_.size() >= kMaxEntries) Clear();
      it = fds_.emplace(pid, Entry{start_time, fd}).first;
    }
    pollfd p{it->second.fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 0) return true;
    close(it->second.fd);  // exited: its pid may be reused from now on
    fds_.erase(it);
    return false;
  }

 private:
  struct Entry {
    uint64_t start_time;
    int fd;  // O_CLOEXEC (pidfd_open's default)
  };
  static constexpr size_t kMaxEntries = 1024;
  void Clear() {
    for (auto& [pid, e] : fds_) close(e.fd);
    fds_.clear();
  }
  std::mutex mu_;
  std::unordered_map<int, Entry> fds_;
};

PidfdCache& Cache() {
  static PidfdCache* cache = new PidfdCache;  // never destroyed: used until exit
  return *cache;
}

}  // namespace

uint64_t ProcessStartTime(int pid) {
  if (pid <= 0) return 0;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return 0;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: count fields
  // from the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return 0;
  // A zombie has exited; only its parent has not reaped it yet.
  if (p[2] == 'Z' || p[2] == 'X') return 0;
  int field = 2;
  while (*p != '\0' && field < 22) {
    if (*p == ' ') ++field;
    ++p;
  }
  return field == 22 ? std::strtoull(p, nullptr, 10) : 0;
}

int OpenPidfd(int pid, uint64_t start_time, bool* unsupported) {
  if (pid <= 0 || start_time == 0) return -1;
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    if (errno != ESRCH && unsupported != nullptr) *unsupported = true;
    return -1;
  }
  // The pidfd is for whatever process has the pid now: it is the one meant
  // only if that one started when it did (checked after the open).
  if (ProcessStartTime(pid) != start_time) {
    close(fd);
    return -1;
  }
  return fd;
}

bool ProcessAlive(int pid, uint64_t start_time) {
  if (pid <= 0 || start_time == 0) return false;
  if (auto alive = Cache().Alive(pid, start_time)) return *alive;
  const uint64_t now = ProcessStartTime(pid);
  return now != 0 && now == start_time;
}

}  // namespace slate::internal
