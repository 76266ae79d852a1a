// slate-monitor: attaches read-only to a running pool and shows what the
// group does: a full-screen live view (ncurses), or one plain-text (--once)
// or JSON (--json) snapshot. Exits with a message when the pool goes away.
#pragma once

#include <string>

namespace slate::monitor {

enum class MonitorMode { kLive, kOnce, kJson };

struct MonitorConfig {
  std::string pool;
  MonitorMode mode = MonitorMode::kLive;
  int refresh_ms = 200;
};

class MonitorApp {
 public:
  explicit MonitorApp(MonitorConfig config) : config_(std::move(config)) {}
  int Run();

 private:
  int RunLive();
  MonitorConfig config_;
};

}  // namespace slate::monitor
