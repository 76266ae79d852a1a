#include "render.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "slate/dump.h"

namespace slate::monitor {
namespace {

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

std::string Cut(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width);
}

void RenderRequests(const GroupSnapshot& s, const std::vector<double>& rates,
                    std::vector<std::string>* out) {
  if (s.requests.empty()) out->push_back("no active request");
  for (const auto& r : s.requests) {
    std::string eta = r.eta_s ? Fmt("ETA %.0fs", *r.eta_s) : "ETA -";
    std::string name = r.priority ? Fmt("%s (priority %d)", r.id.c_str(), r.priority) : r.id;
    if (!r.team.empty()) name += " [" + r.team + "]";
    out->push_back(Fmt("request %s %s %" PRIu64 "/%" PRIu64 " done, %" PRIu64 " failed, %.0f/s, %s",
                       name.c_str(), ProgressBar(r.Finished(), r.total, 20).c_str(), r.done,
                       r.total, r.dead_lettered + r.failed, r.throughput_per_s, eta.c_str()));
    // Only when there are any: tasks waiting on dependencies, held,
    // skipped, cancelled, or carrying a checkpoint.
    std::string plan;
    auto add = [&](uint64_t n, const char* what) {
      if (n != 0) plan += Fmt("%s%" PRIu64 " %s", plan.empty() ? "  " : ", ", n, what);
    };
    add(r.waiting, "waiting");
    add(r.held, "held for review");
    add(r.skipped, "skipped");
    add(r.cancelled, "cancelled");
    add(r.checkpointed, "checkpointed");
    if (!plan.empty()) out->push_back(plan);
  }
  const double now = rates.empty() ? 0 : rates.back();
  out->push_back("rate  " + Sparkline(rates) + Fmt(" %.0f/s", now));
}

void RenderAgents(const GroupSnapshot& s, size_t rows, std::vector<std::string>* out) {
  out->push_back("WORKER            PID STATE  TASK       DONE  FAIL  HB ms BREAKER");
  std::string others;
  size_t shown = 0, workers = 0;
  for (const auto& w : s.agents) {
    const AgentInfo& a = w.info;
    if (a.role == AgentRole::kSupervisor) continue;  // the LEAD lines name them
    if (!TakesTasks(a.role)) {
      others += Fmt("%s %s (pid %d)  ", AgentRoleName(a.role), LivenessName(a.liveness), a.pid);
      continue;
    }
    ++workers;
    if (shown >= rows) continue;
    ++shown;
    out->push_back(Fmt("%-16s %5d %-6s %-8s %6" PRIu64 " %5" PRIu64 " %6.0f %s",
                       Cut(a.name, 16).c_str(), a.pid, LivenessName(a.liveness),
                       w.current_task ? std::to_string(*w.current_task).c_str() : "-", a.done,
                       a.failed, static_cast<double>(a.heartbeat_age_ns) / 1e6,
                       w.breaker.c_str()));
  }
  if (workers > shown) out->push_back(Fmt("... and %zu more workers", workers - shown));
  if (workers == 0) out->push_back("no workers registered");
  if (!others.empty()) out->push_back(others);
  std::vector<AgentInfo> infos;
  for (const auto& w : s.agents) infos.push_back(w.info);
  const std::string lead = FormatLead(s.stats, infos);
  for (size_t from = 0; from <= lead.size();) {
    const size_t nl = std::min(lead.find('\n', from), lead.size());
    out->push_back(lead.substr(from, nl - from));
    from = nl + 1;
  }
}

void RenderPool(const GroupSnapshot& s, std::vector<std::string>* out) {
  const PoolStats& st = s.stats;
  std::string segs = "SEGMENTS";
  for (const auto& seg : st.segments) segs += Fmt(" %s %" PRIu64, seg.name.c_str(), seg.entries);
  out->push_back(segs);
  const double slots =
      100.0 * static_cast<double>(st.entries) / static_cast<double>(st.slot_capacity);
  const double data = st.data_bytes_total
                          ? 100.0 * static_cast<double>(st.data_bytes_used) /
                                static_cast<double>(st.data_bytes_total)
                          : 0;
  out->push_back(Fmt("capacity %" PRIu64 "/%u slots (%.0f%%), data %.0f%%, evictions %" PRIu64
                     ", recoveries %" PRIu64 "%s",
                     st.entries, st.slot_capacity, slots, data, st.evictions, st.recoveries,
                     st.quarantined ? Fmt(", QUARANTINED %" PRIu64, st.quarantined).c_str()
                                    : ""));
}

}  // namespace

void ThroughputHistory::Add(int64_t mono_ns, uint64_t completed) {
  samples_.emplace_back(mono_ns, completed);
  while (!samples_.empty() && mono_ns - samples_.front().first > 61'000'000'000) samples_.pop_front();
}

std::vector<double> ThroughputHistory::PerSecond(int seconds) const {
  std::vector<double> out(static_cast<size_t>(seconds), 0.0);
  if (samples_.size() < 2) return out;
  const int64_t end = samples_.back().first;
  for (size_t i = 1; i < samples_.size(); ++i) {
    const auto [t0, c0] = samples_[i - 1];
    const auto [t1, c1] = samples_[i];
    const int64_t age = (end - t1) / 1'000'000'000;
    if (age >= seconds || c1 < c0) continue;
    out[static_cast<size_t>(seconds - 1 - age)] += static_cast<double>(c1 - c0);
  }
  return out;
}

std::string Sparkline(const std::vector<double>& values) {
  static const char kLevels[] = " _.-=+*#@";
  const double top = values.empty() ? 0 : *std::max_element(values.begin(), values.end());
  std::string out;
  for (double v : values) {
    const int level = top > 0 ? static_cast<int>(v / top * 8 + 0.5) : 0;
    out.push_back(v > 0 && level == 0 ? kLevels[1] : kLevels[level]);
  }
  return out;
}

std::string ProgressBar(uint64_t done, uint64_t total, int width) {
  const int filled =
      total ? static_cast<int>(static_cast<double>(width) * static_cast<double>(done) /
                               static_cast<double>(total))
            : 0;
  std::string bar = "[" + std::string(static_cast<size_t>(std::min(filled, width)), '#');
  bar.resize(static_cast<size_t>(width) + 1, '.');
  return bar + "]";
}

std::vector<std::string> RenderScreen(const GroupSnapshot& s, const std::vector<double>& rates,
                                      const ScreenOptions& o) {
  std::vector<std::string> out;
  out.push_back(Fmt("slate-monitor  pool '%s'  %s  %s", s.stats.name.c_str(),
                    FormatTime(s.taken_ns).c_str(),
                    o.paused ? "PAUSED  [p]resume [q]uit" : "[q]uit [p]ause [?]help"));
  if (o.help) {
    for (const char* l : {"", "q  quit", "p  pause / resume refreshing", "?  this help",
                          "", "Workers: STATE alive/stale/gone, TASK the task it runs,",
                          "HB ms its heartbeat age, BREAKER closed/open/probation.",
                          "Recent: the latest errors and conflicts, newest first."})
      out.push_back(l);
    return out;
  }
  RenderRequests(s, rates, &out);
  out.push_back("");
  // Room for workers: what is left after the fixed parts and 3 events.
  const int fixed = static_cast<int>(out.size()) + 2 + 4 + 1 + 3 + 1;
  RenderAgents(s, static_cast<size_t>(std::max(1, o.height - fixed)), &out);
  out.push_back("");
  RenderPool(s, &out);
  out.push_back("");
  out.push_back("RECENT ERRORS AND CONFLICTS");
  if (s.recent.empty()) out.push_back("none");
  for (const auto& e : s.recent) {
    if (static_cast<int>(out.size()) >= o.height) break;
    out.push_back(FormatTime(e.at_ns).substr(11, 8) + " " + e.kind + " " + e.text);
  }
  for (auto& line : out) line = Cut(line, static_cast<size_t>(o.width));
  if (static_cast<int>(out.size()) > o.height) out.resize(static_cast<size_t>(o.height));
  return out;
}

}  // namespace slate::monitor
