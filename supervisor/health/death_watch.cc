#include "health/death_watch.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "slate/internal/process_info.h"

namespace slate::supervisor {
namespace {

// How often the set of watched members is refreshed from the agent table:
// a member that registers is watched within this long.
constexpr int kRefreshMs = 20;

struct Watched {
  AgentRef ref;
  std::string name;
  AgentRole role;
  int pid;
  int fd;
};

using Key = std::tuple<uint32_t, uint32_t>;  // row, generation

}  // namespace

DeathWatch::DeathWatch(Pool& pool, AgentRef me, std::string team)
    : pool_(pool), me_(me), team_(std::move(team)), stop_fd_(eventfd(0, EFD_CLOEXEC)) {
  if (stop_fd_ < 0) {
    spdlog::warn("no eventfd ({}); deaths are found by the periodic sweep only",
                 std::strerror(errno));
    return;
  }
  thread_ = std::thread([this] { Loop(); });
}

DeathWatch::~DeathWatch() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
}

void DeathWatch::Loop() {
  std::map<Key, Watched> watched;
  bool supported = true;
  for (;;) {
    // Refresh: watch members that registered, forget ones that left.
    auto agents = pool_.ListAgents(std::chrono::hours(24));
    if (agents.ok()) {
      std::map<Key, bool> present;
      for (const AgentInfo& a : *agents) {
        if (a.role == AgentRole::kSupervisor || a.liveness == Liveness::kGone || a.team != team_)
          continue;
        const Key k{a.ref.row, a.ref.generation};
        present[k] = true;
        if (watched.count(k) || !supported) continue;
        bool unsupported = false;
        const int fd = internal::OpenPidfd(a.pid, a.start_time, &unsupported);
        if (unsupported) {
          supported = false;
          spdlog::warn("pidfds are not supported here; deaths are found by the periodic sweep");
        }
        if (fd >= 0) watched[k] = {a.ref, a.name, a.role, a.pid, fd};
      }
      for (auto it = watched.begin(); it != watched.end();) {
        if (present.count(it->first)) { ++it; continue; }
        close(it->second.fd);
        it = watched.erase(it);
      }
    }
    std::vector<pollfd> fds = {{stop_fd_, POLLIN, 0}};
    std::vector<Key> keys;
    for (const auto& [k, w] : watched) {
      fds.push_back({w.fd, POLLIN, 0});
      keys.push_back(k);
    }
    const int n = poll(fds.data(), fds.size(), kRefreshMs);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;  // stop
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Watched w = watched[keys[i - 1]];
      close(w.fd);
      watched.erase(keys[i - 1]);
      // A member that left cleanly deregistered itself first: NotFound.
      const std::string why = std::string(AgentRoleName(w.role)) + " '" + w.name + "' died";
      const Status s = pool_.Deregister(w.ref, me_, why);
      if (s.ok()) {
        spdlog::warn("{} '{}' (pid {}) is gone; its tasks return to the backlog",
                     AgentRoleName(w.role), w.name, w.pid);
        deaths_.fetch_add(1);
      } else if (s.code() != StatusCode::kNotFound) {
        spdlog::error("cannot take back the tasks of '{}': {}", w.name, s.message());
      }
    }
  }
  for (auto& [k, w] : watched) close(w.fd);
}

}  // namespace slate::supervisor
