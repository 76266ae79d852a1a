// Chaos suite (ctest label "chaos"): a real group runs 20,000 tasks while
// members are SIGKILLed at random every 20-50 ms (workers mostly, the
// supervisor and coordinator several times each) and a worker is SIGSTOPped
// past its lease, then resumed. Kills are also paced by progress, at most
// one per kTasksPerWorkerKill tasks done (kTasksPerLeaderKill for the
// supervisor and coordinator). slate-launch restarts what dies. At the end:
// every task has exactly one result or a dead letter (lost 0), no task has
// two results (duplicates 0), the pool check is clean, and nothing is left.
//
// A second run does the same to a plan, a third to priorities that
// preempt, a fourth to three requests side by side in a service group,
// and a fifth to a group of three supervisors whose leader is killed and
// stopped past its lease in turn (below).
//
// SLATE_CHAOS_TASKS, SLATE_CHAOS_PLAN_LINES, SLATE_CHAOS_PREEMPT_LINES,
// SLATE_CHAOS_REQUEST_LINES and SLATE_CHAOS_LEADER_TASKS set the sizes
// (scripts/chaos.sh runs them longer).
#include <openssl/evp.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "e2e/group_fixture.h"
#include "slate/json_payload.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

size_t PlanLines() {
  const char* env = std::getenv("SLATE_CHAOS_PLAN_LINES");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : 2000;
}

size_t PreemptLines() {
  const char* env = std::getenv("SLATE_CHAOS_PREEMPT_LINES");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : 400;
}

size_t RequestLines() {
  const char* env = std::getenv("SLATE_CHAOS_REQUEST_LINES");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : 700;
}

size_t LeaderTasks() {
  const char* env = std::getenv("SLATE_CHAOS_LEADER_TASKS");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : 5000;
}

size_t TreeTasks() {
  const char* env = std::getenv("SLATE_CHAOS_TREE_TASKS");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : 1200;
}

size_t ChaosTasks() {
  const char* env = std::getenv("SLATE_CHAOS_TASKS");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : 20000;
}

struct Tally {
  std::atomic<int> workers{0}, supervisors{0}, coordinators{0}, stops{0};
  int Total() const { return workers + supervisors + coordinators; }
};

// Workers are killed only once they have been seen alive for kMinWorkerAge.
// Killing every 20-50 ms, the monkey would otherwise outrun the restarts of
// a slow build on a loaded machine (under ASan with two busy CPUs a worker
// takes longer to start than the 140 ms it then lives), and the run would
// stop making progress without anything being lost. A worker that lives
// 100 ms has claimed and is mid-task when it dies, which is the case that
// tests loss and duplication.
constexpr auto kMinWorkerAge = std::chrono::milliseconds(100);

// Kills paced by time alone feed on themselves on a slow machine (a
// sanitizer build beside other tests): the run slows, so more kills land
// per task, and each restart costs CPU the run needed. Observed: the ASan
// run took 17-150 s alone and 449 s beside another test, for the same
// build. So a kill also waits for this many tasks done since the last one
// of its kind: a fast run (about 150 worker kills, 5 supervisor kills) is
// not held back, and a slow run gets no more than 500 worker and 40
// supervisor and coordinator kills.
constexpr uint64_t kTasksPerWorkerKill = 40;
constexpr uint64_t kTasksPerLeaderKill = 500;

// Tasks done so far, from the group's pool once slate-launch has made it.
class Progress {
 public:
  explicit Progress(std::string pool) : pool_(std::move(pool)) {}
  uint64_t Done() {
    if (!watch_) {
      auto p = Pool::Open(pool_);
      if (!p.ok()) return 0;
      watch_ = std::move(*p);
    }
    auto st = watch_->Stats();
    return st.ok() ? st->tasks_by_state[static_cast<size_t>(TaskState::kDone)] : 0;
  }

 private:
  std::string pool_;
  std::unique_ptr<Pool> watch_;
};

// A run whose done count stands still this long is stalled: every member's
// stacks and the pool's stats go to the test's output once, so a hang seen
// only in CI can be read afterwards (the run goes on to its timeout).
constexpr auto kStalledAfter = std::chrono::seconds(90);

// Prints each slate process of the pool: its threads' stacks (gdb, else
// the kernel's view), then slate-dump --stats.
void DumpStalledGroup(const std::string& pool) {
  const bool gdb = RunCommand({"sh", "-c", "command -v gdb"}).exit_code == 0;
  for (pid_t pid : ProcessesMentioning(pool)) {
    const std::string p = std::to_string(pid);
    const auto r = gdb ? RunCommand({"gdb", "-batch", "-p", p, "-ex", "thread apply all bt 30"},
                                    60000)
                       : RunCommand({"sh", "-c", "cat /proc/" + p + "/cmdline | tr '\\0' ' '; "
                                     "echo; cat /proc/" + p + "/task/*/stack"});
    std::fprintf(stderr, "chaos: stalled: process %d\n%s%s\n", pid, r.out.c_str(),
                 r.err.c_str());
  }
  const auto stats = RunCommand({"slate-dump", "--pool", pool, "--stats"});
  std::fprintf(stderr, "chaos: stalled: pool\n%s%s\n", stats.out.c_str(), stats.err.c_str());
}

// Watches a run's progress from a thread of its own until `done`.
class StallWatch {
 public:
  StallWatch(const std::string& pool, const std::atomic<bool>& done)
      : thread_([this, pool, &done] { Watch(pool, done); }) {}
  ~StallWatch() { thread_.join(); }

 private:
  void Watch(const std::string& pool, const std::atomic<bool>& done);
  std::thread thread_;
};

void Monkey(const std::string& pool, const std::atomic<bool>& done, Tally* tally,
            uint64_t per_leader_kill) {
  std::mt19937 rng(20261121);
  auto pick = [&](const std::vector<pid_t>& v) { return v[rng() % v.size()]; };
  std::map<pid_t, std::chrono::steady_clock::time_point> first_seen;
  auto last_sup = std::chrono::steady_clock::now();
  auto last_coord = last_sup;
  Progress progress(pool);
  uint64_t sup_at = 0, coord_at = 0, worker_at = 0;  // tasks done at the last kill of each
  bool stopped_one = false;
  std::this_thread::sleep_for(300ms);  // let the request be posted
  while (!done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 31));
    const auto now = std::chrono::steady_clock::now();
    const uint64_t tasks_done = progress.Done();
    if (now - last_sup > 1500ms && tasks_done >= sup_at + per_leader_kill) {
      if (auto s = MembersRunning(pool, "slate-supervisor"); !s.empty() && !done.load()) {
        kill(pick(s), SIGKILL);
        ++tally->supervisors;
        last_sup = now;
        sup_at = tasks_done;
        continue;
      }
    }
    if (now - last_coord > 2000ms && tasks_done >= coord_at + per_leader_kill) {
      if (auto c = MembersRunning(pool, "slate-coordinator"); !c.empty()) {
        kill(pick(c), SIGKILL);
        ++tally->coordinators;
        last_coord = now;
        coord_at = tasks_done;
        continue;
      }
    }
    if (tasks_done < worker_at + kTasksPerWorkerKill) continue;
    std::vector<pid_t> w;
    for (pid_t p : MembersRunning(pool, "slate-worker"))
      if (now - first_seen.try_emplace(p, now).first->second >= kMinWorkerAge) w.push_back(p);
    if (w.empty()) continue;
    if (!stopped_one && tally->workers > 20) {  // one stall past the lease
      const pid_t victim = pick(w);
      kill(victim, SIGSTOP);
      std::this_thread::sleep_for(1500ms);
      kill(victim, SIGCONT);
      ++tally->stops;
      stopped_one = true;
      continue;
    }
    kill(pick(w), SIGKILL);
    ++tally->workers;
    worker_at = tasks_done;
  }
}

void StallWatch::Watch(const std::string& pool, const std::atomic<bool>& done) {
  Progress progress(pool);
  uint64_t last = 0;
  auto moved = std::chrono::steady_clock::now();
  bool dumped = false;
  while (!done.load()) {
    std::this_thread::sleep_for(200ms);
    const uint64_t now_done = progress.Done();
    const auto now = std::chrono::steady_clock::now();
    if (now_done != last) {
      last = now_done;
      moved = now;
    } else if (!dumped && now - moved > kStalledAfter) {
      std::fprintf(stderr, "chaos: no task done for %lld s (%llu done); dumping the group\n",
                   static_cast<long long>(kStalledAfter.count()),
                   static_cast<unsigned long long>(now_done));
      DumpStalledGroup(pool);
      dumped = true;
    }
  }
}

// One storm's run: slate-launch's exit and output, the result document, and
// how long it took.
// The pool slate-launch creates, for a thread that storms it: null if the
// run ended first.
std::unique_ptr<Pool> OpenOnceCreated(const std::string& pool, const std::atomic<bool>& done) {
  while (!done.load()) {
    if (auto opened = Pool::Open(pool); opened.ok()) return std::move(*opened);
    std::this_thread::sleep_for(20ms);
  }
  return nullptr;
}

struct StormRun {
  CommandResult r;
  json out;
  double secs = 0;
  bool ok() const { return !out.is_discarded(); }
  std::string Why() const {
    return "no result (stdout " + std::to_string(r.out.size()) + " bytes: " +
           r.out.substr(0, 200) + "); exit " + std::to_string(r.exit_code) + ": " +
           r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0);
  }
};

class ChaosTest : public GroupTest {
 protected:
  // slate-launch run with `args` and what every storm needs (restarts
  // without end, retries enough to outlast the kills, short leases, the
  // pool kept for the checks), then the storm stopped: `done` set and each
  // of `stormers` joined.
  StormRun RunInStorm(std::vector<std::string> args, std::atomic<bool>& done,
                      std::initializer_list<std::thread*> stormers) {
    args.insert(args.end(), {"--keep", "--lease-ms", "1000", "--hung-after-ms", "1000",
                             "--max-retries", "200", "--max-restarts", "100000"});
    StormRun run;
    const auto start = std::chrono::steady_clock::now();
    run.r = Launch(args, &run.out, 1800000);
    done = true;
    for (std::thread* t : stormers) t->join();
    run.secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
  }
};

TEST_F(ChaosTest, KillNineAnythingLosesNothingAndDuplicatesNothing) {
  const size_t n = ChaosTasks();
  std::string text;
  for (size_t i = 0; i < n; ++i) text += "{\"payload\": {\"ms\": 1, \"i\": " + std::to_string(i) + "}}\n";
  const std::string input = WriteTempFile("chaos.jsonl", text);
  std::atomic<bool> done{false};
  Tally tally;
  std::thread monkey(Monkey, pool, std::cref(done), &tally, kTasksPerLeaderKill);
  StallWatch watch(pool, done);
  const StormRun run = RunInStorm(
      {"--workers", "4", "--handler", "sleep", "--max-pending", "4", input}, done, {&monkey});
  ASSERT_TRUE(run.ok()) << run.Why();
  const auto& [r, out, secs] = std::tie(run.r, run.out, run.secs);
  // Lost: a task without exactly one result and without a dead letter.
  size_t lost = 0, executions = 0, dead = 0;
  const auto& tasks = out["tasks"];
  for (size_t i = 0; i < n; ++i) {
    if (i >= tasks.size()) { ++lost; continue; }
    const json& t = tasks[i];
    executions += t["attempts"].get<size_t>();
    if (t["status"] == "dead_lettered" && t.contains("error")) ++dead;
    else if (t["status"] != "done") ++lost;
  }
  // Duplicates: counted in the pool itself, from the result entries.
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  const auto results_per_task = ResultsPerTask(**kept);
  size_t duplicates = 0;
  for (const auto& [task, count] : results_per_task) duplicates += count > 1;
  const auto problems = (*kept)->Check();
  kept->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
  std::printf("chaos: tasks=%zu kills=%d (workers %d, supervisor %d, coordinator %d) stops=%d "
              "executions=%zu lost=%zu duplicates=%zu dead_lettered=%zu check=%s time=%.1fs\n",
              n, tally.Total(), tally.workers.load(), tally.supervisors.load(),
              tally.coordinators.load(), tally.stops.load(), executions, lost, duplicates, dead,
              problems.empty() ? "clean" : problems.front().c_str(), secs);
  EXPECT_EQ(r.exit_code == 0 || r.exit_code == 3, true) << r.exit_code;
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(results_per_task.size() + dead, n);
  EXPECT_TRUE(problems.empty());
  EXPECT_GE(tally.supervisors.load(), 2);
  EXPECT_GE(tally.coordinators.load(), 2);
  EXPECT_EQ(tally.stops.load(), 1);
}

// A plan line's payload; a reviewed one is marked for the validator.
json PlanPayload(size_t i, bool reviewed) {
  json p = {{"i", i}};
  if (reviewed) p["review"] = true;
  return p;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

// A plan under the same storm: a random graph whose every result is the
// sha256 of exactly what its task was given (payload, context, feedback,
// iteration), so recomputing the graph in the test proves that each task
// saw every dependency's final accepted result, hence started after they
// were done. One line in ten is validated and sent back once: its result
// is the digest of its second iteration, whose feedback holds the first.
// One validated line in five never passes: it is held for review, and a
// person (a thread running slate-launch review) accepts it with a result
// of their own, which its dependents then see.
TEST_F(ChaosTest, APlanUnderTheStormRunsEachStepOnceWithItsDependenciesResults) {
  const size_t n = PlanLines();
  std::mt19937 rng(20261204);
  std::vector<std::vector<size_t>> deps(n);
  std::vector<bool> validated(n), reviewed(n);
  std::vector<json> lines;
  for (size_t i = 0; i < n; ++i) {
    // Up to three earlier lines, near ones more often: chains and fan-ins.
    const size_t k = i == 0 ? 0 : rng() % 4;
    for (size_t j = 0; j < k; ++j) {
      const size_t d = rng() % 2 ? i - 1 - rng() % std::min<size_t>(i, 8) : rng() % i;
      if (std::find(deps[i].begin(), deps[i].end(), d) == deps[i].end()) deps[i].push_back(d);
    }
    validated[i] = rng() % 10 == 0;
    reviewed[i] = validated[i] && rng() % 5 == 0;  // never passes: held for a person
    json line = {{"id", "n" + std::to_string(i)}, {"payload", PlanPayload(i, reviewed[i])}};
    if (reviewed[i]) line["on_exhausted"] = "review";
    if (!deps[i].empty()) {
      json ids = json::array();
      for (size_t d : deps[i]) ids.push_back("n" + std::to_string(d));
      line["depends_on"] = ids;
    }
    if (!validated[i]) line["validate"] = false;
    lines.push_back(line);
  }
  std::shuffle(lines.begin(), lines.end(), rng);
  std::string text;
  for (const auto& l : lines) text += l.dump() + "\n";
  const std::string input = WriteTempFile("chaos-plan.jsonl", text);
  const std::string validator =
      "env=$(cat); "
      "if echo \"$env\" | grep -q '\"review\":true'; then echo '{\"ok\": false, \"feedback\": \"ask a person\"}'; "
      "elif echo \"$env\" | grep -q '\"iteration\":1,\"payload\"'; then echo '{\"ok\": false, \"feedback\": \"again\"}'; "
      "else echo '{\"ok\": true}'; fi";
  std::atomic<bool> done{false};
  Tally tally;
  std::thread monkey(Monkey, pool, std::cref(done), &tally, uint64_t{n / 5});
  StallWatch watch(pool, done);
  // A person, answering each held line with a result of their own while
  // the storm goes on.
  std::atomic<size_t> accepted{0};
  std::thread person([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(50ms);
      const json held = json::parse(
          RunCommand({"slate-launch", "review", "--pool", pool, "--json"}).out, nullptr, false);
      if (!held.is_array()) continue;
      for (const auto& h : held)
        if (RunCommand({"slate-launch", "review", "--pool", pool, "accept", h["task"].dump(),
                        "--result", json("accepted-" + h["id"].get<std::string>()).dump()})
                .exit_code == 0)
          ++accepted;
    }
  });
  const StormRun run = RunInStorm({"--workers", "4", "--exec", "sha256sum", "--shell",
                                   "--validate", validator, "--max-pending", "4", input},
                                  done, {&monkey, &person});
  ASSERT_TRUE(run.ok()) << run.Why();
  const auto& [r, out, secs] = std::tie(run.r, run.out, run.secs);
  // Recompute in dependency order (line i depends only on earlier lines).
  const auto by_id = ById(out);
  std::vector<std::string> expect(n);
  size_t wrong = 0, not_done = 0, executions = 0;
  for (size_t i = 0; i < n; ++i) {
    json context = json::object();
    for (size_t d : deps[i]) context["n" + std::to_string(d)] = expect[d];
    json env = {{"id", "n" + std::to_string(i)}, {"payload", PlanPayload(i, reviewed[i])},
                {"context", context}, {"feedback", json::array()}, {"iteration", 1}};
    expect[i] = Sha256Hex(env.dump()) + "  -";
    if (reviewed[i]) {
      expect[i] = "accepted-n" + std::to_string(i);
    } else if (validated[i]) {
      env["feedback"] = json::array({{{"iteration", 1}, {"feedback", "again"},
                                      {"result", expect[i]}}});
      env["iteration"] = 2;
      expect[i] = Sha256Hex(env.dump()) + "  -";
    }
    const json& item = by_id.at("n" + std::to_string(i));
    executions += item["attempts"].get<size_t>();
    if (item["status"] != "done") ++not_done;
    else if (item["result"] != expect[i]) ++wrong;
    EXPECT_EQ(item["iterations"], reviewed[i] ? 3 : validated[i] ? 2 : 1) << i;
  }
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  size_t duplicates = 0;
  for (const auto& [task, count] : ResultsPerTask(**kept)) duplicates += count > 1;
  const auto problems = (*kept)->Check();
  kept->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
  const size_t to_review = static_cast<size_t>(std::count(reviewed.begin(), reviewed.end(), true));
  std::printf("chaos plan: lines=%zu reviewed=%zu kills=%d (workers %d, supervisor %d, coordinator %d) "
              "stops=%d executions=%zu not_done=%zu wrong_context=%zu duplicates=%zu check=%s "
              "time=%.1fs\n",
              n, accepted.load(), tally.Total(), tally.workers.load(), tally.supervisors.load(),
              tally.coordinators.load(), tally.stops.load(), executions, not_done, wrong,
              duplicates, problems.empty() ? "clean" : problems.front().c_str(), secs);
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0);
  EXPECT_EQ(not_done, 0u);
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(to_review, 0u);
  EXPECT_EQ(accepted.load(), to_review) << "each held line answered once";
  EXPECT_EQ(duplicates, 0u);
  EXPECT_TRUE(problems.empty());
  EXPECT_GE(tally.supervisors.load(), 2);
  EXPECT_GE(tally.coordinators.load(), 2);
}

// Priorities under the storm, with preemption all the time: most lines are
// low (priority 0, a 150 ms sleep that checkpoints) for the 4 "main"
// workers; one in four is urgent (priority 100, 20 ms, also for them) and
// waits for its own gate, a 30 ms line only a fifth worker runs. So urgent
// work keeps becoming ready while every main worker is busy with low work,
// and preempts it; preempted lows go on from their checkpoints.
TEST_F(ChaosTest, PrioritiesThatPreemptUnderTheStormFinishEachTaskOnce) {
  const size_t n = PreemptLines();
  std::mt19937 rng(20261205);
  std::vector<json> lines;
  while (lines.size() < n) {
    const std::string id = "n" + std::to_string(lines.size());
    if (lines.size() < 8 || rng() % 5 != 0 || lines.size() + 2 > n) {
      lines.push_back({{"id", id}, {"payload", {{"ms", 150}}}, {"requires", "main"}});
      continue;
    }
    lines.push_back({{"id", id + "-gate"}, {"payload", {{"ms", 30}}}, {"requires", "gate"},
                     {"priority", 50}});
    lines.push_back({{"id", id}, {"payload", {{"ms", 20}}}, {"requires", "main"},
                     {"priority", 100}, {"depends_on", {id + "-gate"}}});
  }
  std::string text;
  for (const auto& l : lines) text += l.dump() + "\n";
  const std::string input = WriteTempFile("chaos-preempt.jsonl", text);
  std::atomic<bool> done{false};
  Tally tally;
  std::thread monkey(Monkey, pool, std::cref(done), &tally, uint64_t{n / 5});
  StallWatch watch(pool, done);
  const StormRun run = RunInStorm({"--workers", "4", "--capability", "main", "--worker-group",
                                   "1:gate", "--handler", "sleep", "--max-pending", "1", input},
                                  done, {&monkey});
  ASSERT_TRUE(run.ok()) << run.Why();
  const auto& [r, out, secs] = std::tie(run.r, run.out, run.secs);
  size_t not_done = 0, wrong = 0, preempted_tasks = 0, resumed = 0;
  for (const auto& t : out["tasks"]) {
    if (t["status"] != "done") {
      ++not_done;
      continue;
    }
    const int64_t ms = lines[t["index"].get<size_t>()]["payload"]["ms"];
    if (t["result"]["slept_ms"] != ms) ++wrong;
    resumed += t["result"].contains("resumed_at_ms");
    for (const auto& f : t.value("failures", json::array()))
      if (f.value("preempted", false)) {
        ++preempted_tasks;
        break;
      }
  }
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  const auto results_per_task = ResultsPerTask(**kept);
  size_t duplicates = 0;
  for (const auto& [task, count] : results_per_task) duplicates += count > 1;
  Query cq;
  cq.segments = {"checkpoints"};
  const size_t checkpoints_left = (*kept)->Find(cq)->size();
  const auto problems = (*kept)->Check();
  kept->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
  const uint64_t preemptions = out["summary"].value("preempted", uint64_t{0});
  std::printf("chaos preempt: lines=%zu kills=%d (workers %d, supervisor %d, coordinator %d) "
              "preemptions=%llu preempted_tasks=%zu resumed=%zu not_done=%zu wrong=%zu "
              "duplicates=%zu check=%s time=%.1fs\n",
              n, tally.Total(), tally.workers.load(), tally.supervisors.load(),
              tally.coordinators.load(), static_cast<unsigned long long>(preemptions),
              preempted_tasks, resumed, not_done, wrong, duplicates,
              problems.empty() ? "clean" : problems.front().c_str(), secs);
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0);
  EXPECT_EQ(out["tasks"].size(), n);
  EXPECT_EQ(not_done, 0u);
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(results_per_task.size(), n) << "every task, preempted ones too, has its result";
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(checkpoints_left, 0u) << "every checkpoint went with its task";
  EXPECT_GE(preemptions, n / 10) << "preemption was not frequent";
  EXPECT_GE(preempted_tasks, n / 40);
  EXPECT_GT(resumed, 0u) << "no preempted or killed task went on from a checkpoint";
  EXPECT_TRUE(problems.empty());
  EXPECT_GE(tally.supervisors.load(), 1);
}

// Requests side by side under the storm, in service mode: two requests of
// priority 0, then, once they have the workers, one of 50 that preempts
// them, while the keeper restarts whatever the monkey kills. Each request
// finishes on its own and whole (each task done with its full sleep, one
// result each), the urgent one first, and the pool check is clean.
TEST_F(ChaosTest, RequestsSideBySideUnderTheStormEachFinishWhole) {
  const size_t n = RequestLines();
  struct Req {
    std::string name;
    size_t lines;
    int priority;
    int ms;
    std::string id;
  };
  std::vector<Req> reqs = {{"long", n * 4 / 7, 0, 20, ""},
                           {"middle", n * 2 / 7, 0, 20, ""},
                           {"urgent", n - n * 4 / 7 - n * 2 / 7, 50, 5, ""}};
  auto launch = [&](const std::string& command, std::vector<std::string> args) {
    args.insert(args.begin(), {"slate-launch", command, "--pool", pool});
    return RunCommand(args, 120000);
  };
  const auto started = launch("start", {"--workers", "4", "--handler", "sleep", "--max-retries",
                                        "200", "--max-restarts", "100000", "--max-pending", "2"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  struct Stop {  // the group goes whatever the test finds
    std::function<void()> stop;
    ~Stop() { stop(); }
  } stop_group{[&] { EXPECT_EQ(launch("stop", {}).exit_code, 0); }};
  auto submit = [&](Req& q) {
    std::string text;
    for (size_t i = 0; i < q.lines; ++i)
      text += "{\"payload\": {\"ms\": " + std::to_string(q.ms) + ", \"i\": " + std::to_string(i) +
              "}}\n";
    const auto r = launch("submit", {"--no-wait", "--priority", std::to_string(q.priority),
                                     WriteTempFile("chaos-" + q.name + ".jsonl", text)});
    q.id = r.out.substr(0, r.out.find('\n'));
    return r;
  };
  for (Req* q : {&reqs[0], &reqs[1]}) {
    const auto r = submit(*q);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::atomic<bool> done{false};
  Tally tally;
  std::thread monkey(Monkey, pool, std::cref(done), &tally, uint64_t{n / 5});
  StallWatch watch(pool, done);
  // The urgent one once the others have the workers: it preempts them.
  Progress progress(pool);
  for (int i = 0; i < 6000 && progress.Done() < n / 10; ++i) std::this_thread::sleep_for(10ms);
  const auto urgent = submit(reqs[2]);
  EXPECT_EQ(urgent.exit_code, 0) << urgent.err;
  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, std::pair<EntryId, json>> finals;  // by request id
  if (auto p = Pool::Open(pool, OpenMode::kReadOnly); p.ok()) {
    const auto until = start + std::chrono::minutes(20);
    while (finals.size() < reqs.size() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(50ms);
      Query q;
      q.segments = {"results"};
      q.all_tags = {"final"};
      for (const Entry& e : *(*p)->Find(q))
        for (const Req& r : reqs)
          if (!finals.count(r.id) &&
              std::find(e.tags.begin(), e.tags.end(), "req:" + r.id) != e.tags.end())
            if (auto doc = PayloadToJson(e.payload); doc.ok()) finals[r.id] = {e.id, json(*doc)};
    }
  }
  done = true;
  monkey.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(finals.size(), reqs.size()) << "a request never finished";
  size_t not_done = 0, wrong = 0, tasks = 0;
  for (const Req& r : reqs) {
    const json& doc = finals[r.id].second;
    EXPECT_EQ(doc["tasks"].size(), r.lines) << r.name;
    for (const auto& t : doc["tasks"]) {
      ++tasks;
      if (t["status"] != "done") ++not_done;
      else if (t["result"]["slept_ms"] != r.ms) ++wrong;
    }
  }
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  size_t duplicates = 0;
  for (const auto& [task, count] : ResultsPerTask(**kept)) duplicates += count > 1;
  const auto problems = (*kept)->Check();
  kept->reset();
  const uint64_t preemptions = finals[reqs[0].id].second["summary"].value("preempted", 0) +
                               finals[reqs[1].id].second["summary"].value("preempted", 0);
  std::printf("chaos requests: requests=%zu tasks=%zu kills=%d (workers %d, supervisor %d, "
              "coordinator %d) preemptions=%llu not_done=%zu wrong=%zu duplicates=%zu check=%s "
              "time=%.1fs\n",
              reqs.size(), tasks, tally.Total(), tally.workers.load(), tally.supervisors.load(),
              tally.coordinators.load(), static_cast<unsigned long long>(preemptions), not_done,
              wrong, duplicates, problems.empty() ? "clean" : problems.front().c_str(), secs);
  EXPECT_EQ(tasks, n);
  EXPECT_EQ(not_done, 0u);
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_TRUE(problems.empty());
  EXPECT_GE(preemptions, 1u) << "the urgent request never preempted";
  EXPECT_LT(finals[reqs[2].id].first, finals[reqs[0].id].first) << "the urgent one finished last";
  EXPECT_LT(finals[reqs[2].id].first, finals[reqs[1].id].first);
  EXPECT_GE(tally.supervisors.load(), 1);
}

// Three supervisors, one leading under a 500 ms lease: every 600-900 ms
// the leader is killed, or stopped for 1.2 s (past its lease, so a standby
// takes over) and then continued, in turn; workers die as in the other
// runs. slate-launch restarts what dies, a deposed leader included (it
// stops at its first refused change). At the end: lost 0, duplicates 0,
// check clean, and the pool's conflict records show that each change the
// continued leaders tried was refused under a term that was over.
TEST_F(ChaosTest, ThreeSupervisorsWithTheLeaderKilledAndStoppedLoseNothing) {
  const size_t n = LeaderTasks();
  std::string text;
  for (size_t i = 0; i < n; ++i)
    text += "{\"payload\": {\"ms\": 5, \"i\": " + std::to_string(i) + "}}\n";
  const std::string input = WriteTempFile("chaos-leader.jsonl", text);
  std::atomic<bool> done{false};
  std::atomic<int> leader_kills{0}, leader_stops{0}, worker_kills{0};
  std::thread monkey([&] {
    std::mt19937 rng(20261205);
    std::unique_ptr<Pool> p = OpenOnceCreated(pool, done);
    auto next_leader_event = std::chrono::steady_clock::now() + 300ms;
    uint64_t worker_at = 0;
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 31));
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_leader_event) {
        auto lead = p->Leader();
        if (lead.ok() && lead->alive && lead->pid > 0) {
          if ((leader_kills + leader_stops) % 2 == 0) {
            kill(lead->pid, SIGKILL);
            ++leader_kills;
          } else {
            kill(lead->pid, SIGSTOP);
            std::this_thread::sleep_for(1200ms);
            kill(lead->pid, SIGCONT);
            ++leader_stops;
          }
        }
        next_leader_event = std::chrono::steady_clock::now() +
                            std::chrono::milliseconds(600 + rng() % 301);
        continue;
      }
      auto st = p->Stats();
      const uint64_t tasks_done =
          st.ok() ? st->tasks_by_state[static_cast<size_t>(TaskState::kDone)] : 0;
      if (tasks_done < worker_at + kTasksPerWorkerKill) continue;
      if (auto w = MembersRunning(pool, "slate-worker"); !w.empty()) {
        kill(w[rng() % w.size()], SIGKILL);
        ++worker_kills;
        worker_at = tasks_done;
      }
    }
  });
  StallWatch watch(pool, done);
  const StormRun run = RunInStorm({"--workers", "4", "--handler", "sleep", "--supervisors", "3",
                                   "--lead-lease-ms", "500", "--max-pending", "4", input},
                                  done, {&monkey});
  ASSERT_TRUE(run.ok()) << run.Why();
  const auto& [r, out, secs] = std::tie(run.r, run.out, run.secs);
  size_t lost = 0;
  const auto& tasks = out["tasks"];
  for (size_t i = 0; i < n; ++i)
    if (i >= tasks.size() || tasks[i]["status"] != "done") ++lost;
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  const auto results_per_task = ResultsPerTask(**kept);
  size_t duplicates = 0;
  for (const auto& [task, count] : results_per_task) duplicates += count > 1;
  const PoolStats stats = *(*kept)->Stats();
  // Each refusal: a term that was over, below the lead's current one.
  Query q;
  q.segments = {"conflicts"};
  q.all_tags = {"stale-term"};
  q.limit = 0;
  size_t refusals = 0, not_stale = 0;
  for (const Entry& e : *(*kept)->Find(q)) {
    ++refusals;
    auto doc = PayloadToJson(e.payload);
    if (!doc.ok() || (*doc)["term"].get<uint64_t>() >= (*doc)["current_term"].get<uint64_t>())
      ++not_stale;
  }
  const auto problems = (*kept)->Check();
  kept->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
  std::printf("chaos leader: tasks=%zu leader kills=%d stops=%d worker kills=%d terms=%llu "
              "refused=%llu lost=%zu duplicates=%zu check=%s time=%.1fs\n",
              n, leader_kills.load(), leader_stops.load(), worker_kills.load(),
              static_cast<unsigned long long>(stats.lead_term),
              static_cast<unsigned long long>(stats.lead_refused), lost, duplicates,
              problems.empty() ? "clean" : problems.front().c_str(), secs);
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(results_per_task.size(), n);
  EXPECT_TRUE(problems.empty());
  EXPECT_GE(leader_kills.load(), 2);
  EXPECT_GE(leader_stops.load(), 2);
  EXPECT_GE(stats.lead_term, static_cast<uint64_t>(leader_kills + leader_stops))
      << "each kill and stop past the lease begins a term";
  EXPECT_GE(stats.lead_refused, 1u) << "no continued leader ever tried a change";
  EXPECT_EQ(refusals, stats.lead_refused);
  EXPECT_EQ(not_stale, 0u);
}

// A three-level tree (top > alpha > gamma, top > beta) whose
// sub-supervisors are killed one after another: each comes back, resumes
// its team's sub-requests, and the run ends with every subtask done once.
TEST_F(ChaosTest, ATreeWithItsSubSupervisorsKilledRepeatedlyLosesNothing) {
  const size_t per_line = std::max<size_t>(TreeTasks() / 8, 8);
  const std::string file = WriteTempFile("chaos-tree.json", R"({"children": [
      {"capability": "alpha", "workers": [{"count": 2, "handler": "sleep"}],
       "children": [{"capability": "gamma", "workers": [{"count": 2, "handler": "sleep"}]}]},
      {"capability": "beta", "workers": [{"count": 2, "handler": "sleep"}]}]})");
  std::string text;
  size_t subtasks = 0;
  for (int line = 0; line < 8; ++line) {
    json subs = json::array();
    for (size_t i = 0; i < per_line; ++i) subs.push_back({{"payload", {{"ms", 5}, {"i", i}}}});
    subtasks += per_line;
    const bool alpha = line % 2 == 0;
    if (alpha) {  // and one subtask that goes down to gamma
      json down = json::array();
      for (size_t i = 0; i < per_line / 4; ++i) down.push_back({{"payload", {{"ms", 5}}}});
      subtasks += down.size() + 1;
      subs.push_back({{"requires", "gamma"}, {"payload", {{"subtasks", down}}}});
    }
    text += json({{"id", "line-" + std::to_string(line)},
                  {"requires", alpha ? "alpha" : "beta"},
                  {"payload", {{"subtasks", subs}}}})
                .dump() +
            "\n";
  }
  const std::string input = WriteTempFile("chaos-tree.jsonl", text);
  std::atomic<bool> done{false};
  std::atomic<int> kills{0};
  std::thread monkey([&] {
    std::mt19937 rng(20261207);
    std::unique_ptr<Pool> p = OpenOnceCreated(pool, done);
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 301));
      auto agents = p->ListAgents(10s);
      if (!agents.ok()) continue;
      std::vector<pid_t> subs;
      for (const auto& a : *agents)
        if (a.role == AgentRole::kSubSupervisor && a.liveness == Liveness::kAlive)
          subs.push_back(a.pid);
      if (subs.empty() || done.load()) continue;
      kill(subs[rng() % subs.size()], SIGKILL);
      ++kills;
    }
  });
  StallWatch watch(pool, done);
  const StormRun run = RunInStorm({"--group", file, "--restart-delay-ms", "20", input}, done,
                                  {&monkey});
  ASSERT_TRUE(run.ok()) << run.Why();
  const auto& [r, out, secs] = std::tie(run.r, run.out, run.secs);
  size_t lost = 0;
  for (const auto& t : out["tasks"]) {
    if (t["status"] != "done") {
      ++lost;
      continue;
    }
    const json& results = t["result"]["results"];
    const size_t want = t["index"].get<int>() % 2 == 0 ? per_line + 1 : per_line;
    if (results.size() != want) lost += want;
  }
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  const auto results_per_task = ResultsPerTask(**kept);
  size_t duplicates = 0;
  for (const auto& [task, count] : results_per_task) duplicates += count > 1;
  Query q;
  q.segments = {"conflicts"};
  q.all_tags = {"stale-term"};
  q.limit = 0;
  const size_t refusals = (*kept)->Find(q)->size();
  const auto problems = (*kept)->Check();
  kept->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
  std::printf("chaos tree: lines=8 subtasks=%zu sub-supervisor kills=%d lost=%zu duplicates=%zu "
              "refused=%zu check=%s time=%.1fs\n",
              subtasks, kills.load(), lost, duplicates, refusals,
              problems.empty() ? "clean" : problems.front().c_str(), secs);
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0);
  EXPECT_EQ(out["tasks"].size(), 8u);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_GE(results_per_task.size(), subtasks + 8) << "every subtask and line has its result";
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(refusals, 0u) << "one top supervisor: no term ever ended";
  EXPECT_GE(kills.load(), 3);
}

}  // namespace
}  // namespace slate::testing
