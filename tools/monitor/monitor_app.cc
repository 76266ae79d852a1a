#include "monitor_app.h"

#include <curses.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "render.h"
#include "slate/clock.h"
#include "slate/group_snapshot.h"
#include "slate/json_payload.h"
#include "slate/pool.h"
#include "slate/process_setup.h"

namespace slate::monitor {
namespace {


uint64_t Completed(const GroupSnapshot& s) {
  uint64_t n = 0;
  for (int st = 1; st < kTaskStateCount; ++st)
    if (IsFinal(static_cast<TaskState>(st))) n += s.stats.tasks_by_state[st];
  return n;
}

// Keeps the terminal sane whatever path leaves the live view.
struct Curses {
  Curses() {
    initscr();
    cbreak();
    noecho();
    curs_set(0);
    keypad(stdscr, TRUE);
  }
  ~Curses() { endwin(); }
};

}  // namespace

int MonitorApp::Run() {
  auto pool = Pool::Open(config_.pool, OpenMode::kReadOnly);
  if (!pool.ok()) {
    std::fprintf(stderr, "slate-monitor: %s\n", pool.status().message().c_str());
    return 1;
  }
  // One region copy per refresh, however many reads a snapshot makes.
  (*pool)->SetSnapshotMaxAge(std::chrono::milliseconds(config_.refresh_ms / 2));
  if (config_.mode == MonitorMode::kLive) {
    pool->reset();
    return RunLive();
  }
  auto snap = TakeGroupSnapshot(**pool);
  if (!snap.ok()) {
    std::fprintf(stderr, "slate-monitor: %s\n", snap.status().message().c_str());
    return 1;
  }
  if (config_.mode == MonitorMode::kJson) {
    std::cout << JsonText(SnapshotToJson(*snap), 2) << "\n";
    return 0;
  }
  // One look has no history of its own: the rate is the requests' own, as
  // the coordinator last reported it.
  double rate = 0;
  for (const auto& r : snap->requests) rate += r.throughput_per_s;
  for (const auto& line : RenderScreen(*snap, {rate}, {80, 1000, false, false}))
    std::cout << line << "\n";
  return 0;
}

int MonitorApp::RunLive() {
  auto pool = Pool::Open(config_.pool, OpenMode::kReadOnly);
  if (!pool.ok()) {
    std::fprintf(stderr, "slate-monitor: %s\n", pool.status().message().c_str());
    return 1;
  }
  (*pool)->SetSnapshotMaxAge(std::chrono::milliseconds(config_.refresh_ms / 2));
  std::atomic<bool>& stop = InstallStopSignals();
  ThroughputHistory history;
  GroupSnapshot last;
  bool paused = false, help = false, have = false;
  std::string gone;
  {
    Curses screen;
    timeout(50);
    int64_t next = 0;
    while (!stop.load()) {
      const int key = getch();
      if (key == 'q' || key == 'Q') break;
      if (key == 'p' || key == 'P') paused = !paused;
      if (key == '?') help = !help;
      const int64_t now = NowMonoNs();
      if (now < next && key == ERR) continue;
      if (now >= next) {
        next = now + int64_t{config_.refresh_ms} * 1'000'000;
        if (!Pool::Exists(config_.pool)) {
          gone = "pool '" + config_.pool + "' went away";
          break;
        }
        if (!paused) {
          auto snap = TakeGroupSnapshot(**pool);
          if (!snap.ok()) {
            gone = snap.status().message();
            break;
          }
          last = std::move(*snap);
          history.Add(now, Completed(last));
          have = true;
        }
      }
      if (!have) continue;
      erase();
      const auto lines = RenderScreen(last, history.PerSecond(60), {COLS, LINES, paused, help});
      for (size_t i = 0; i < lines.size(); ++i)
        mvaddnstr(static_cast<int>(i), 0, lines[i].c_str(), COLS);
      refresh();
    }
  }
  if (!gone.empty()) {
    std::fprintf(stderr, "slate-monitor: %s\n", gone.c_str());
    return 0;
  }
  return 0;
}

}  // namespace slate::monitor
