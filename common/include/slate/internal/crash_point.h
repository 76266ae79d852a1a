// Test-only crash points: the process kills itself with SIGKILL when it
// reaches the armed point, so tests can die at a chosen instruction while
// holding the pool lock. Points are named "<op>.<step>", e.g.
// "write.before_commit"; the supervisor's "supervisor.<decision>" points
// sit just before it acts, outside the lock, where a stop tests fencing.
// Unarmed, a point costs one relaxed atomic load.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

namespace slate::internal {

// Arms `name`: the (skip+1)-th time it is reached, the process dies; with
// `stop`, it stops (SIGSTOP) instead, and goes on unarmed when continued.
void TEST_ArmCrashPoint(const std::string& name, int skip = 0, bool stop = false);
void TEST_DisarmCrashPoints();
// Arms from SLATE_CRASH_POINT="<op>.<step>[:skip][:stop]" if set. Called on
// attach.
void ArmCrashPointFromEnv();
// True while a point is armed: callers skip building the point's name.
extern std::atomic<bool> g_crash_points_armed;  // written by the arming calls only
inline bool CrashPointsArmed() { return g_crash_points_armed.load(std::memory_order_relaxed); }
void MaybeCrash(std::string_view op, std::string_view step);

}  // namespace slate::internal
