#include "bench_report.h"

#include <fmt/format.h>

#include <algorithm>

namespace slate::bench {
namespace {

double Ratio(double a, double b) { return b > 0 ? a / b : 0; }

constexpr internal::LockUse kUses[] = {internal::LockUse::kPost, internal::LockUse::kClaim,
                                       internal::LockUse::kComplete, internal::LockUse::kRead,
                                       internal::LockUse::kOther};

double HoldUs(const LockFigures& l, internal::LockUse u) {
  return l.hold_us_per_task[static_cast<int>(u)];
}

}  // namespace

LockFigures LockFiguresOf(const internal::LockProfile& p, double seconds, uint64_t tasks) {
  LockFigures f;
  double held_ns = 0, wait_ns = 0;
  const double per_task = tasks > 0 ? 1e-3 / static_cast<double>(tasks) : 0;  // ns -> us/task
  for (int i = 0; i < internal::kLockUses; ++i) {
    held_ns += static_cast<double>(p.use[i].hold_ns);
    wait_ns += static_cast<double>(p.use[i].wait_ns);
    f.hold_us_per_task[i] = static_cast<double>(p.use[i].hold_ns) * per_task;
    f.tasks_per_hold[i] = Ratio(static_cast<double>(tasks), static_cast<double>(p.use[i].holds));
  }
  f.held_fraction = seconds > 0 ? held_ns / (seconds * 1e9) : 0;
  f.wait_us_per_task = wait_ns * per_task;
  return f;
}

nlohmann::ordered_json ToJson(const Report& r) {
  nlohmann::ordered_json j;
  j["seed"] = r.seed;
  j["seconds_budget"] = r.seconds_budget;
  j["seconds_used"] = r.seconds_used;
  j["assign"] = r.assign;
  j["throughput"] = nlohmann::ordered_json::array();
  for (const auto& t : r.throughput) {
    j["throughput"].push_back({{"workers", t.workers},
                               {"tasks", t.tasks},
                               {"rounds", t.rounds},
                               {"tasks_per_s", t.tasks_per_s},
                               {"baseline_tasks_per_s", t.baseline_tasks_per_s},
                               {"ratio", Ratio(t.tasks_per_s, t.baseline_tasks_per_s)},
                               {"futex_rings_tasks_per_s", t.futex_rings_tasks_per_s},
                               {"futex_rings_ratio",
                                Ratio(t.tasks_per_s, t.futex_rings_tasks_per_s)}});
    if (t.python_pool_tasks_per_s) {
      j["throughput"].back()["python_pool_tasks_per_s"] = *t.python_pool_tasks_per_s;
      j["throughput"].back()["python_pool_ratio"] =
          Ratio(t.tasks_per_s, *t.python_pool_tasks_per_s);
    }
    if (t.lock) {
      nlohmann::ordered_json hold, batch;
      for (auto u : kUses) {
        hold[internal::LockUseName(u)] = HoldUs(*t.lock, u);
        batch[internal::LockUseName(u)] = t.lock->tasks_per_hold[static_cast<int>(u)];
      }
      j["throughput"].back()["lock"] = {{"held_fraction", t.lock->held_fraction},
                                        {"hold_us_per_task", hold},
                                        {"tasks_per_hold", batch},
                                        {"wait_us_per_task", t.lock->wait_us_per_task}};
    }
  }
  if (r.latency) {
    const auto& l = *r.latency;
    j["latency"] = {{"samples", l.samples},         {"p50_us", l.p50_us},
                    {"p99_us", l.p99_us},           {"p999_us", l.p999_us},
                    {"max_us", l.max_us},           {"baseline_samples", l.baseline_samples},
                    {"baseline_p50_us", l.baseline_p50_us},
                    {"baseline_p99_us", l.baseline_p99_us},
                    {"baseline_p999_us", l.baseline_p999_us},
                    {"cdf", l.cdf}};
  }
  if (r.scaling) {
    const auto& s = *r.scaling;
    j["scaling"] = {{"small_entries", s.small},
                    {"large_entries", s.large},
                    {"claim_us_small", s.claim_us_small},
                    {"claim_us_large", s.claim_us_large},
                    {"claim_ratio", Ratio(s.claim_us_large, s.claim_us_small)},
                    {"query_us_small", s.query_us_small},
                    {"query_us_large", s.query_us_large},
                    {"query_ratio", Ratio(s.query_us_large, s.query_us_small)}};
  }
  if (r.memory) {
    const auto& m = *r.memory;
    j["memory"] = {{"payload_bytes", m.payload_bytes},
                   {"slot_fixed_bytes", m.slot_fixed_bytes},
                   {"entry_overhead_bytes", m.entry_overhead},
                   {"task_overhead_bytes", m.task_overhead},
                   {"result_overhead_bytes", m.result_overhead}};
  }
  if (r.job) {
    const auto& b = *r.job;
    j["job"] = {{"command", b.command},         {"exit_code", b.exit_code},
                {"tasks", b.tasks},             {"startup_ms", b.startup_ms},
                {"work_ms", b.work_ms},         {"shutdown_ms", b.shutdown_ms},
                {"total_ms", b.total_ms}};
  }
  if (r.idle) {
    j["idle"] = {{"processes", r.idle->processes},
                 {"seconds", r.idle->seconds},
                 {"cpu_percent_of_core", r.idle->cpu_percent},
                 {"resolution_percent", r.idle->resolution_percent}};
  }
  j["notes"] = r.notes;
  return j;
}

std::string ToTable(const Report& r) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  line(fmt::format("slate-bench: seed {}, {:.1f} s of a {:.0f} s budget", r.seed,
                   r.seconds_used, r.seconds_budget));
  if (!r.throughput.empty()) {
    line("");
    line(std::string("throughput: no-op tasks, 64-byte payloads and results, end to end") +
         (r.assign == "blocks" ? "; each post batch assigned in one block per worker" : ""));
    const bool peers = std::any_of(r.throughput.begin(), r.throughput.end(),
                                   [](auto& t) { return t.python_pool_tasks_per_s; });
    line(fmt::format("  {:>7} {:>9} {:>6} {:>14} {:>14} {:>7} {:>14} {:>7}{}", "workers",
                     "tasks", "rounds", "slate tasks/s", "ring items/s", "ratio",
                     "rings items/s", "ratio",
                     peers ? fmt::format(" {:>16} {:>7}", "Python Pool/s", "ratio") : ""));
    for (const auto& t : r.throughput) {
      std::string peer;
      if (t.python_pool_tasks_per_s)
        peer = fmt::format(" {:>16.0f} {:>7.2f}", *t.python_pool_tasks_per_s,
                           Ratio(t.tasks_per_s, *t.python_pool_tasks_per_s));
      line(fmt::format("  {:>7} {:>9} {:>6} {:>14.0f} {:>14.0f} {:>7.2f} {:>14.0f} {:>7.3f}{}",
                       t.workers, t.tasks, t.rounds, t.tasks_per_s, t.baseline_tasks_per_s,
                       Ratio(t.tasks_per_s, t.baseline_tasks_per_s),
                       t.futex_rings_tasks_per_s,
                       Ratio(t.tasks_per_s, t.futex_rings_tasks_per_s), peer));
    }
    line("  (ring: one robust-mutex ring for all workers; rings: a lock-free ring per "
         "worker each way, futex waits; ratio: slate / it)");
    if (peers)
      line("  (Python Pool: multiprocessing.Pool(workers).map of a no-op, chunks of 100; "
           "ratio: slate / it)");
    if (std::any_of(r.throughput.begin(), r.throughput.end(), [](auto& t) { return t.lock; })) {
      line("");
      line("pool lock per task, all processes (us held, by operation; us waited)");
      line(fmt::format("  {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "workers",
                       "held %", "post", "claim", "complete", "read", "other", "total",
                       "waited"));
      for (const auto& t : r.throughput) {
        if (!t.lock) continue;
        const LockFigures& l = *t.lock;
        double total = 0;
        for (auto u : kUses) total += HoldUs(l, u);
        line(fmt::format("  {:>7} {:>7.1f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}",
                         t.workers, 100 * l.held_fraction, HoldUs(l, internal::LockUse::kPost),
                         HoldUs(l, internal::LockUse::kClaim),
                         HoldUs(l, internal::LockUse::kComplete),
                         HoldUs(l, internal::LockUse::kRead),
                         HoldUs(l, internal::LockUse::kOther), total, l.wait_us_per_task));
        auto per_hold = [&](internal::LockUse u) { return l.tasks_per_hold[static_cast<int>(u)]; };
        line(fmt::format("  {:>7} {:>7} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f}   (tasks per hold)", "",
                         "", per_hold(internal::LockUse::kPost), per_hold(internal::LockUse::kClaim),
                         per_hold(internal::LockUse::kComplete),
                         per_hold(internal::LockUse::kRead)));
      }
    }
  }
  if (r.latency) {
    const auto& l = *r.latency;
    line("");
    line("latency: one worker, one task in flight, round trip (us)");
    line(fmt::format("  {:<16} {:>9} {:>8} {:>8} {:>8}", "", "samples", "p50", "p99",
                     "p99.9"));
    line(fmt::format("  {:<16} {:>9} {:>8.1f} {:>8.1f} {:>8.1f}", "slate", l.samples,
                     l.p50_us, l.p99_us, l.p999_us));
    line(fmt::format("  {:<16} {:>9} {:>8.1f} {:>8.1f} {:>8.1f}", "futex ping-pong",
                     l.baseline_samples, l.baseline_p50_us, l.baseline_p99_us,
                     l.baseline_p999_us));
    line(fmt::format("  p50 ratio {:.2f}", Ratio(l.p50_us, l.baseline_p50_us)));
  }
  if (r.scaling) {
    const auto& s = *r.scaling;
    line("");
    line(fmt::format("pool-size scaling: {} versus {} resident entries (us per op)",
                     s.small, s.large));
    line(fmt::format("  claim  {:>8.3f} {:>8.3f}  ratio {:.2f}", s.claim_us_small,
                     s.claim_us_large, Ratio(s.claim_us_large, s.claim_us_small)));
    line(fmt::format("  query  {:>8.3f} {:>8.3f}  ratio {:.2f}", s.query_us_small,
                     s.query_us_large, Ratio(s.query_us_large, s.query_us_small)));
  }
  if (r.memory) {
    const auto& m = *r.memory;
    line("");
    line(fmt::format("memory: region bytes per entry beyond a {}-byte payload",
                     m.payload_bytes));
    line(fmt::format("  slot + index share {:.0f}; entry {:.0f}, task {:.0f}, result {:.0f}",
                     m.slot_fixed_bytes, m.entry_overhead, m.task_overhead,
                     m.result_overhead));
  }
  if (r.job) {
    const auto& b = *r.job;
    line("");
    line(fmt::format("main job: {} tasks, exit {} ({})", b.tasks, b.exit_code, b.command));
    line(fmt::format("  start-up {:.0f} ms, work {:.0f} ms, shut-down {:.0f} ms, total {:.0f} ms",
                     b.startup_ms, b.work_ms, b.shutdown_ms, b.total_ms));
  }
  if (r.idle) {
    line("");
    line(fmt::format("idle group: {} processes over {:.1f} s use {:.2f}% of one core "
                     "(resolution {:.2f}%)",
                     r.idle->processes, r.idle->seconds, r.idle->cpu_percent,
                     r.idle->resolution_percent));
  }
  for (const auto& n : r.notes) line("note: " + n);
  return out;
}

}  // namespace slate::bench
