#include "restarter.h"

#include <algorithm>
#include <cstdio>

#include "slate/json_payload.h"

namespace slate::launch {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Seconds(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace

Restarter::Restarter(ProcessGroup& group, Pool& pool, const Options& options, std::string who)
    : group_(group), pool_(pool), o_(options), who_(std::move(who)) {}

Restarter::Streak& Restarter::StreakOf(size_t index) {
  if (streaks_.size() <= index) streaks_.resize(index + 1);
  return streaks_[index];
}

bool Restarter::Hopeless(const std::string& name_prefix) const {
  bool any = false;
  for (size_t i = 0; i < group_.size(); ++i) {
    const Member& m = group_.member(i);
    if (m.retired || m.name.rfind(name_prefix, 0) != 0) continue;
    any = true;
    if (i >= streaks_.size() || streaks_[i].crashes < kHopelessStreak) return false;
  }
  return any;
}

std::optional<std::string> Restarter::OnExit(size_t index) {
  const Member& m = group_.member(index);
  const std::string what =
      m.name + " (pid " + std::to_string(m.pid) + ") " + DescribeWaitStatus(m.status);
  const auto now = Clock::now();
  if (o_.strict_max != 0) {
    std::erase_if(recent_, [&](auto t) { return now - t > o_.window; });
    if (recent_.size() >= o_.strict_max)
      return what + "; more than " + std::to_string(o_.strict_max) + " restarts within " +
             std::to_string(o_.window.count()) + " s, giving up on " + m.name +
             " and stopping the group";
    recent_.push_back(now);
    std::fprintf(stderr, "%s: %s; restarting it\n", who_.c_str(), what.c_str());
    if (Status s = group_.Restart(index); !s.ok()) return s.message();
    return std::nullopt;
  }
  Streak& st = StreakOf(index);
  if (now - m.started_at >= kHealthyRun) st.crashes = 0;
  st.crashes += 1;
  if (Hopeless("worker-"))
    return what + "; every worker has crashed " + std::to_string(kHopelessStreak) +
           " or more times in a row, so no worker is left to take the tasks; stopping the "
           "group";
  // The top level's supervisors; a tree's sub-supervisors ("sub-supervisor-
  // <team>") come back with backoff like any member, reported if they loop.
  if (m.name.rfind("supervisor", 0) == 0 && Hopeless("supervisor"))
    return what + "; every supervisor has crashed " + std::to_string(kHopelessStreak) +
           " or more times in a row; stopping the group";
  milliseconds delay{0};
  if (st.crashes > 1)
    delay = std::min<milliseconds>(o_.first_delay * (1u << std::min(st.crashes - 2, 16u)),
                                   o_.max_delay);
  if (st.crashes >= kLoopingStreak) Report(m, what, st.crashes, delay);
  if (delay.count() == 0) {
    std::fprintf(stderr, "%s: %s; restarting it\n", who_.c_str(), what.c_str());
    if (Status s = group_.Restart(index); !s.ok()) return s.message();
    return std::nullopt;
  }
  std::fprintf(stderr, "%s: %s; crash %u in a row, restarting it in %s\n", who_.c_str(),
               what.c_str(), st.crashes, Seconds(delay).c_str());
  st.restart_at = now + delay;
  return std::nullopt;
}

std::optional<std::string> Restarter::Tick(bool* restarted) {
  const auto now = Clock::now();
  for (size_t i = 0; i < streaks_.size(); ++i) {
    Streak& st = streaks_[i];
    if (!st.restart_at || *st.restart_at > now) continue;
    st.restart_at.reset();
    if (group_.member(i).retired) continue;
    if (Status s = group_.Restart(i); !s.ok()) return s.message();
    if (restarted != nullptr) *restarted = true;
  }
  return std::nullopt;
}

void Restarter::Report(const Member& m, const std::string& what, uint32_t crashes,
                       milliseconds delay) {
  std::fprintf(stderr, "%s: %s is crash-looping\n", who_.c_str(), m.name.c_str());
  NewEntry e;
  e.segment = segments::kConflicts;
  e.tags = {"crash_loop", "member:" + m.name};
  e.author = "slate-launch";
  e.importance = 0.9f;
  e.payload = JsonToPayload(
      {{"kind", "crash_loop"},
       {"member", m.name},
       {"crashes", crashes},
       {"restart_in_ms", delay.count()},
       {"reason", m.name + " crashed " + std::to_string(crashes) + " times in a row (last: " +
                      what + "); next restart in " + Seconds(delay)}});
  (void)pool_.Write(e);  // a report: the group goes on without it
}

}  // namespace slate::launch
