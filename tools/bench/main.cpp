// slate-bench: slate against the physical floor, with real processes over a
// real pool, in one run. docs/PERFORMANCE.md explains every figure.
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "baselines.h"
#include "bench_report.h"
#include "group_workloads.h"
#include "bench_pool.h"
#include "peers.h"
#include "pool_scaling.h"
#include "slate/cli.h"
#include "slate/pool_options.h"
#include "slate/process_setup.h"
#include "slate_workloads.h"

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kWorkloads = {"throughput", "latency", "scaling",
                                             "memory",     "job",     "idle"};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The value at quantile q of sorted samples.
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

std::string SelfDir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0;
  uint64_t seed = 0, tasks = 0, large = 0;
  std::string workers_list, only, log_level, pool_prefix, assign;
  slate::bench::ProtocolOptions proto;
  slate::bench::JobOptions job;
  bool peers = false;
  po::options_description opts(
      "Usage: slate-bench [options]\n\n"
      "Measures slate with real processes over a real pool, and in the same run\n"
      "the floors it is compared with: a robust-mutex shared-memory ring and\n"
      "per-worker lock-free futex rings (throughput) and a futex ping-pong\n"
      "(latency); with --peers, also\n"
      "Python's multiprocessing.Pool (throughput). Workloads: throughput,\n"
      "latency, scaling (1k versus 1M resident entries), memory (bytes per\n"
      "entry), job (the sample run's phases) and idle (CPU of an idle group).\n"
      "Prints a table, or one JSON object with --json.\n"
      "Exit status: 0 measured, 1 a workload failed, 2 usage.\n\n"
      "Options");
  opts.add_options()
      ("help,h", "show this help")
      ("seconds", po::value(&seconds)->default_value(30), "time budget for the whole run")
      ("json", "print one JSON object instead of the table")
      ("seed", po::value(&seed)->default_value(42), "seed for payloads and query targets")
      ("workers", po::value(&workers_list)->default_value("1,2,4"),
       "worker counts for the throughput workload")
      ("tasks", po::value(&tasks)->default_value(200'000), "tasks per throughput round")
      ("batch", po::value(&proto.batch)->default_value(64),
       "tasks a worker claims and completes per lock hold (1: one at a time)")
      ("post-batch", po::value(&proto.post_batch)->default_value(256),
       "tasks the producer posts per lock hold")
      ("peers", po::bool_switch(&peers),
       "throughput: also time Python's multiprocessing.Pool mapping a no-op over the same "
       "tasks, chunks of 100, in the same run (skipped without python3)")
      ("assign", po::value(&assign)->default_value("tasks"),
       "throughput: how each post batch is spread over the workers: 'tasks' (round-robin "
       "task by task, as the supervisor does) or 'blocks' (one run of neighbouring tasks "
       "per worker: shows what slot locality is worth)")
      ("lock-profile", po::bool_switch(&proto.lock_profile),
       "throughput: also report how long the pool lock is held and waited "
       "for per task, by operation, over all processes")
      ("large", po::value(&large)->default_value(1'000'000),
       "resident entries for the large side of the scaling workload")
      ("only", po::value(&only)->default_value("throughput,latency,scaling,memory,job,idle"),
       "workloads to run, comma-separated")
      ("job-input", po::value(&job.input)->default_value("examples/docs"),
       "the job workload's input directory")
      ("job-serve",
       po::value(&job.serve)->default_value("python3 examples/agents/keywords.py --serve"),
       "the job workload's agent, kept alive by each worker (as the main job runs it)")
      ("job-exec", po::value(&job.exec)->default_value(""),
       "instead: an agent command each task runs")
      ("pool-prefix", po::value(&pool_prefix)->default_value("bench"),
       "pools are named <prefix>-<pid>-<workload>")
      ("log-level", po::value(&log_level)->default_value("warn"), "trace ... off");
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-bench", argc, argv, opts, nullptr, &vm))
    return *rc;
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "slate-bench: %s (see --help)\n", m.c_str());
    return 2;
  };
  if (!(seconds >= 1 && seconds <= 3600)) return usage("--seconds must be in [1, 3600]");
  if (tasks < 1000 || tasks > 20'000'000) return usage("--tasks must be in [1000, 20000000]");
  if (proto.batch < 1 || proto.batch > 4096) return usage("--batch must be in [1, 4096]");
  if (proto.post_batch < 1 || proto.post_batch > 4096)
    return usage("--post-batch must be in [1, 4096]");
  if (assign != "tasks" && assign != "blocks")
    return usage("unknown --assign '" + assign + "' (known: tasks, blocks)");
  proto.blocks = assign == "blocks";
  if (large < 2000 || large > 16'000'000) return usage("--large must be in [2000, 16000000]");
  std::vector<int> worker_counts;
  for (const auto& w : SplitList(workers_list)) {
    int n = 0;
    try {
      n = std::stoi(w);
    } catch (...) {
    }
    if (n < 1 || n > 64) return usage("--workers takes counts in [1, 64], e.g. 1,2,4");
    worker_counts.push_back(n);
  }
  std::set<std::string> selected;
  for (const auto& w : SplitList(only)) {
    if (std::find(kWorkloads.begin(), kWorkloads.end(), w) == kWorkloads.end())
      return usage("unknown workload '" + w + "' in --only");
    selected.insert(w);
  }
  if (selected.empty()) return usage("--only names no workload");
  if (!slate::IsValidPoolName(pool_prefix + "-0-idle"))
    return usage("--pool-prefix must be [A-Za-z0-9._-], up to 48 characters");
  slate::bench::SetPoolPrefix(pool_prefix);
  if (auto s = slate::SetUpLogging("slate-bench", log_level); !s.ok()) return usage(s.message());
  proto.seed = seed;
  job.launcher = SelfDir() + "/slate-launch";

  slate::bench::Report report;
  report.seed = seed;
  report.seconds_budget = seconds;
  report.assign = assign;
  const auto start = Clock::now();
  auto share = [&](double fraction) { return seconds * fraction; };
  int failures = 0;
  auto attempt = [&](const char* what, auto fn) {
    if (!selected.count(what)) return;
    try {
      fn();
    } catch (const std::exception& e) {
      ++failures;
      report.notes.push_back(std::string(what) + " failed: " + e.what());
      std::fprintf(stderr, "slate-bench: %s failed: %s\n", what, e.what());
    }
  };

  attempt("throughput", [&] {
    const double per_count = share(0.5) / static_cast<double>(worker_counts.size());
    slate::internal::EnableLockProfile(proto.lock_profile);
    for (int w : worker_counts) {
      std::vector<double> slate_rates, ring_rates, rings_rates;
      slate::internal::LockProfile lock;
      double lock_seconds = 0;
      const auto t0 = Clock::now();
      // Alternate slate and ring rounds, so drift on a shared machine hits both.
      do {
        const auto round = slate::bench::SlateThroughput(w, tasks, proto);
        slate_rates.push_back(round.tasks_per_s);
        lock.Add(round.lock);
        lock_seconds += round.seconds;
        ring_rates.push_back(slate::bench::RingThroughput(w, tasks, seed));
        rings_rates.push_back(slate::bench::FutexRingsThroughput(w, tasks, seed));
      } while (slate_rates.size() < 5 &&
               std::chrono::duration<double>(Clock::now() - t0).count() *
                       (1.0 + 1.0 / static_cast<double>(slate_rates.size())) <
                   per_count);
      report.throughput.push_back({w, tasks, static_cast<int>(slate_rates.size()),
                                   Median(slate_rates), Median(ring_rates),
                                   Median(rings_rates), std::nullopt, std::nullopt});
      if (peers) {
        // Its own rounds, after slate's: one is enough beside a median of
        // five, since Python's own start is outside its clock.
        const std::string python = slate::bench::PythonForPeers();
        if (python.empty())
          report.notes.push_back("--peers: no python3 found; the Python Pool was skipped");
        else
          report.throughput.back().python_pool_tasks_per_s =
              slate::bench::PythonPoolThroughput(python, w, tasks);
      }
      if (proto.lock_profile)
        report.throughput.back().lock = slate::bench::LockFiguresOf(
            lock, lock_seconds, tasks * slate_rates.size());
    }
  });
  attempt("latency", [&] {
    auto ours = slate::bench::SlateLatency(share(0.08), 1'000'000, proto);
    auto floor = slate::bench::FutexPingPong(share(0.04), 1'000'000);
    std::sort(ours.begin(), ours.end());
    std::sort(floor.begin(), floor.end());
    slate::bench::LatencyFigures l;
    l.samples = ours.size();
    l.p50_us = Quantile(ours, 0.5);
    l.p99_us = Quantile(ours, 0.99);
    l.p999_us = Quantile(ours, 0.999);
    l.max_us = ours.empty() ? 0 : ours.back();
    l.baseline_samples = floor.size();
    l.baseline_p50_us = Quantile(floor, 0.5);
    l.baseline_p99_us = Quantile(floor, 0.99);
    l.baseline_p999_us = Quantile(floor, 0.999);
    for (double q : {0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98,
                     0.99, 0.995, 0.999, 0.9995, 0.9999})
      l.cdf.push_back({q, Quantile(ours, q), Quantile(floor, q)});
    report.latency = l;
  });
  attempt("scaling", [&] {
    report.scaling = slate::bench::MeasureScaling(1000, large, 5, seed);
  });
  attempt("memory", [&] { report.memory = slate::bench::MeasureMemory(seed); });
  attempt("job", [&] {
    if (access(job.input.c_str(), R_OK) != 0)
      throw std::runtime_error("no input at '" + job.input +
                               "' (run from the repository, or pass --job-input)");
    report.job = slate::bench::MeasureJob(job);
  });
  attempt("idle", [&] {
    report.idle = slate::bench::MeasureIdle(job.launcher, 4, std::clamp(share(0.2), 2.0, 10.0));
  });
  report.seconds_used = std::chrono::duration<double>(Clock::now() - start).count();
  if (vm.count("json"))
    std::cout << slate::bench::ToJson(report).dump(2) << "\n";
  else
    std::cout << slate::bench::ToTable(report);
  return failures == 0 ? 0 : 1;
}
