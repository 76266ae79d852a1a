// What slate-launch does when a member of its group exits unasked: when it
// starts it again, and when it stops the group instead.
//
// Backoff (the default): each member has its own streak of crashes. A
// member that had run for kHealthyRun (10 s) before it crashed starts a new
// streak and is restarted at once; each further crash of the streak waits
// twice as long as the one before, from first_delay (--restart-delay-ms,
// 100 ms) up to max_delay (--restart-delay-max-ms, 10 s). On a
// streak of kLoopingStreak (3) the member is crash-looping: said on stderr
// and written to the pool (segment conflicts, kind crash_loop), where the
// monitor, slate-dump, status and the request's summary show it. The group
// stops only when restarting cannot help: every worker, or the supervisor,
// on a streak of kHopelessStreak (8), that is after about 13 s of crashing
// with the default delays.
//
// Strict (--max-restarts R given): at most R restarts in any window of
// --restart-window-s (as OTP supervisors do), each at once; the next one
// stops the group.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "process_group.h"
#include "slate/pool.h"

namespace slate::launch {

inline constexpr auto kHealthyRun = std::chrono::seconds(10);
inline constexpr uint32_t kLoopingStreak = 3;
inline constexpr uint32_t kHopelessStreak = 8;

class Restarter {
 public:
  struct Options {
    uint32_t strict_max = 0;  // 0: backoff
    std::chrono::seconds window{60};
    std::chrono::milliseconds first_delay{100};
    std::chrono::milliseconds max_delay{10000};
  };
  // `who` prefixes messages ("slate-launch", "keeper").
  Restarter(ProcessGroup& group, Pool& pool, const Options& options, std::string who);

  // Member `index` exited unasked (not retired, not done): restarts it now
  // or later. Returns why the group must stop instead, if it must.
  std::optional<std::string> OnExit(size_t index);
  // Restarts the members whose delay is over (*restarted: whether any).
  // Returns a failure to start one, if any.
  std::optional<std::string> Tick(bool* restarted = nullptr);

 private:
  struct Streak {
    uint32_t crashes = 0;
    std::optional<std::chrono::steady_clock::time_point> restart_at;
  };
  Streak& StreakOf(size_t index);
  bool Hopeless(const std::string& name_prefix) const;
  void Report(const Member& m, const std::string& what, uint32_t crashes,
              std::chrono::milliseconds delay);

  ProcessGroup& group_;
  Pool& pool_;
  Options o_;
  std::string who_;
  std::vector<Streak> streaks_;  // by member index
  std::vector<std::chrono::steady_clock::time_point> recent_;  // strict: restarts in window
};

}  // namespace slate::launch
