#include "slate/internal/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace slate::internal {
namespace {

std::mutex g_mu;
std::string g_name;  // guarded by g_mu
int g_skip = 0;      // guarded by g_mu
bool g_stop = false; // guarded by g_mu: SIGSTOP instead of SIGKILL

}  // namespace

std::atomic<bool> g_crash_points_armed{false};

void TEST_ArmCrashPoint(const std::string& name, int skip, bool stop) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_name = name;
  g_skip = skip;
  g_stop = stop;
  g_crash_points_armed.store(true, std::memory_order_relaxed);
}

void TEST_DisarmCrashPoints() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_crash_points_armed.store(false, std::memory_order_relaxed);
  g_name.clear();
}

void ArmCrashPointFromEnv() {
  const char* spec = std::getenv("SLATE_CRASH_POINT");
  if (spec == nullptr || *spec == '\0') return;
  std::string s(spec);
  int skip = 0;
  bool stop = false;
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ":stop") == 0) {
    stop = true;
    s.resize(s.size() - 5);
  }
  if (const auto colon = s.find(':'); colon != std::string::npos) {
    skip = std::atoi(s.c_str() + colon + 1);
    s.resize(colon);
  }
  TEST_ArmCrashPoint(s, skip, stop);
}

void MaybeCrash(std::string_view op, std::string_view step) {
  if (!g_crash_points_armed.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    const size_t n = op.size();
    if (g_name.size() != n + 1 + step.size() || g_name.compare(0, n, op) != 0 ||
        g_name[n] != '.' || g_name.compare(n + 1, step.size(), step) != 0)
      return;
    if (g_skip-- > 0) return;
    if (!g_stop) {
      kill(getpid(), SIGKILL);
      pause();
    }
    // Stopped once; continued, the process goes on unarmed.
    g_crash_points_armed.store(false, std::memory_order_relaxed);
    g_name.clear();
  }
  kill(getpid(), SIGSTOP);
}

}  // namespace slate::internal
