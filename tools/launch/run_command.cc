#include "run_command.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <unistd.h>
#include <thread>

#include "group_file.h"
#include "handler.h"
#include "supervisor_app.h"
#include "process_group.h"
#include "progress_bar.h"
#include "restarter.h"
#include "request/request_reader.h"
#include "schedule/delegator.h"
#include "slate/pool.h"
#include "slate/process_setup.h"

namespace slate::launch {
namespace {

// Slots a run needs beyond two a task: the request and final records,
// members, progress reports, errors and conflicts.
constexpr uint64_t kSlotsBesideTasks = 256;

int Usage(const std::string& message) {
  std::fprintf(stderr, "slate-launch: %s\n", message.c_str());
  return 2;
}

// The group to start: as --group FILE describes it, or from the flags
// (--workers N plus any --worker-group N:cap1,cap2, all with one handler).
struct GroupPlan {
  std::vector<WorkerGroupSpec> workers;  // the top level's
  std::vector<TeamSpec> teams;           // a tree's sub-supervisors
  uint32_t supervisors = 1;
  bool validate = false;  // some workers validate plan results
};

Result<GroupPlan> PlanFromFile(const RunOptions& o) {
  auto tree = ReadGroupFile(o.group_file);
  if (!tree.ok()) return tree.status();
  GroupPlan plan;
  plan.supervisors = tree->supervisors;
  plan.workers = std::move(tree->workers);
  plan.teams = Teams(*tree);
  auto adjust = [&](std::vector<WorkerGroupSpec>& groups) {
    for (auto& g : groups) {
      g.flags.preempt_grace_ms = o.worker.preempt_grace_ms;
      plan.validate = plan.validate || !g.flags.validate.empty();
    }
  };
  adjust(plan.workers);
  for (auto& t : plan.teams) adjust(t.workers);
  return plan;
}

Result<GroupPlan> PlanGroup(const RunOptions& o) {
  if (!o.group_file.empty()) return PlanFromFile(o);
  GroupPlan plan;
  plan.supervisors = o.supervisors;
  plan.validate = !o.worker.validate.empty();
  auto workers = WorkerGroupsFromFlags(o.workers, o.capabilities, o.worker_specs, o.worker);
  if (!workers.ok()) return workers.status();
  plan.workers = std::move(*workers);
  return plan;
}

// Everything a user can get wrong is checked before anything starts.
Result<size_t> Validate(const RunOptions& o) {
  std::string why;
  if (!IsValidPoolName(o.pool, &why)) return Status{StatusCode::kInvalidArgument, why};
  auto split = supervisor::ParseSplitMode(o.split);
  if (!split.ok()) return split.status();
  if (auto p = supervisor::ParsePolicy(o.policy); !p.ok()) return p.status();
  auto plan = PlanGroup(o);
  if (!plan.ok()) return plan.status();
  if (Status s = CheckSupervisorArgs(
          o.supervisor_args,
          {"pool", "log-level", "input", "split", "wait-workers", "policy", "max-retries",
           "max-pending", "no-worker-timeout-ms", "hung-after-ms", "preempt-margin", "age-ms",
           "no-fail-fast", "context-bytes", "max-iterations", "on-exhausted", "lead-lease-ms",
           "validate", "output", "standby", "replacing"});
      !s.ok())
    return s;
  std::vector<const WorkerGroupSpec*> groups;
  for (const auto& g : plan->workers) groups.push_back(&g);
  for (const auto& t : plan->teams)
    for (const auto& g : t.workers) groups.push_back(&g);
  for (const WorkerGroupSpec* g : groups) {
    if (Status s = CheckWorkerFlags(g->flags); !s.ok()) return s;
    if (Status s = CheckPythonWorker(SelfDirectory(), g->flags); !s.ok()) return s;
  }
  auto tasks = supervisor::ReadRequest(o.input, *split);
  if (!tasks.ok()) return tasks.status();
  return tasks->size();
}

std::atomic<int> g_signal{0};
void OnSignal(int sig) { g_signal.store(sig); }

// Waits for a supervisor to finish, restarting crashed members within
// the restart budget. Returns the exit status of the run.
// teams: a tree's sub-supervisors, each two agents (its member above and
// its team's supervisor); the bar then counts every task of the tree, its
// sub-requests' too, which are known only as they are posted.
int Supervise(ProcessGroup& group, size_t first_sup, uint32_t supervisors, size_t teams,
              Pool& pool, size_t tasks, const RunOptions& o) {
  Restarter restarter(group, pool,
                      {o.max_restarts, std::chrono::seconds(o.restart_window_s),
                       std::chrono::milliseconds(o.restart_delay_ms),
                       std::chrono::milliseconds(o.restart_delay_max_ms)},
                      "slate-launch");
  ProgressBar bar;
  while (g_signal.load() == 0) {
    for (size_t i : group.Reap()) {
      const Member& m = group.member(i);
      const bool sup = i >= first_sup && i < first_sup + supervisors;
      const int code = WIFEXITED(m.status) ? WEXITSTATUS(m.status) : -1;
      if (sup && supervisor::RanToEnd(code)) {
        bar.Clear();
        return code;
      }
      bar.Clear();
      const std::string what = m.name + " (pid " + std::to_string(m.pid) + ") " +
                               DescribeWaitStatus(m.status);
      if (code == 2 || code == kExitRegionLost) {  // restarting cannot help
        std::fprintf(stderr, "slate-launch: %s; stopping the group\n", what.c_str());
        return code == kExitRegionLost ? code : sup ? 2 : 1;
      }
      if (auto stop = restarter.OnExit(i)) {
        std::fprintf(stderr, "slate-launch: %s\n", stop->c_str());
        return 1;
      }
    }
    if (auto failed = restarter.Tick()) {
      bar.Clear();
      std::fprintf(stderr, "slate-launch: %s\n", failed->c_str());
      return 1;
    }
    if (Status lost = pool.CheckMapping(); !lost.ok()) {
      bar.Clear();
      std::fprintf(stderr, "slate-launch: %s; stopping the group\n", lost.message().c_str());
      return kExitRegionLost;
    }
    if (auto st = pool.Stats(); st.ok()) {
      const auto& t = st->tasks_by_state;
      uint64_t all = 0;
      for (int s = 1; s < kTaskStateCount; ++s) all += t[s];
      const uint32_t others = 1 + supervisors + 2 * static_cast<uint32_t>(teams);
      bar.Update(t[static_cast<int>(TaskState::kDone)],
                 t[static_cast<int>(TaskState::kDeadLettered)] +
                     t[static_cast<int>(TaskState::kSkipped)] +
                     t[static_cast<int>(TaskState::kCancelled)],
                 teams == 0 ? tasks : std::max<uint64_t>(tasks, all),
                 st->agents_registered >= others ? st->agents_registered - others : 0);
    }
    group.WaitForExit(std::chrono::milliseconds(20));  // a death ends the wait
  }
  bar.Clear();
  std::fprintf(stderr, "slate-launch: interrupted; stopping the group\n");
  return 130;
}

}  // namespace

int RunGroup(const RunOptions& o) {
  auto tasks = Validate(o);
  if (!tasks.ok()) return Usage(tasks.status().message());
  // Each task and its result are kept until the request is reported: a
  // pool with fewer slots stalls, with nothing left to evict.
  if (const uint64_t needed = *tasks * 2 + kSlotsBesideTasks; o.slots != 0 && o.slots < needed)
    return Usage("--slots " + std::to_string(o.slots) + " is too few for " +
                 std::to_string(*tasks) + " tasks: each task and its result are kept until the "
                 "request ends, so it needs at least " + std::to_string(needed) +
                 " (leave --slots out to size the pool from the request)");
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);  // the terminal closed: clean up all the same
  // Whoever reads our output may go away; cleaning up must not die with it.
  signal(SIGPIPE, SIG_IGN);

  PoolOptions po;
  po.name = o.pool;
  po.slot_capacity = o.slots ? o.slots
                             : std::max<uint32_t>(65536, static_cast<uint32_t>(*tasks * 4 + 1024));
  po.data_bytes = std::max<uint64_t>(64ull << 20, uint64_t{po.slot_capacity} * 512);
  po.mode = o.group_mode ? 0660 : 0600;
  po.remove_if_lost = true;
  po.reserve = o.reserve;
  auto pool = Pool::Create(po);
  if (!pool.ok()) {
    std::string msg = pool.status().message();
    if (pool.status().code() == StatusCode::kAlreadyExists)
      msg += " (another group may be using it; if none is, remove /dev/shm/" +
             ShmNameFor(o.pool) + ")";
    std::fprintf(stderr, "slate-launch: %s\n", msg.c_str());
    return pool.status().code() == StatusCode::kAlreadyExists ? 2 : 1;
  }
  const std::string bin = SelfDirectory();
  const std::string result_path =
      o.output.empty() ? "/tmp/slate-launch-" + std::to_string(getpid()) + ".json" : o.output;
  const std::vector<std::string> common = {"--pool", o.pool, "--log-level", o.log_level};
  auto with = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin() + 1, common.begin(), common.end());
    return argv;
  };
  int rc = 1;
  {
    ProcessGroup group;
    bool started = group.Start("coordinator",
                               with({bin + "/slate-coordinator", "--hung-after-ms",
                                     std::to_string(o.hung_after_ms)}))
                       .ok();
    const GroupPlan plan = *PlanGroup(o);
    uint32_t n = 0;
    auto start_workers = [&](const std::vector<WorkerGroupSpec>& groups, const std::string& team) {
      for (const auto& g : groups) {
        for (uint32_t i = 0; i < g.count && started; ++i) {
          const std::string name = (team.empty() ? "" : team + "-") + "worker-" + std::to_string(++n);
          std::vector<std::string> argv = WorkerArgv(bin, name, g.flags, g.capabilities);
          argv.insert(argv.end(), {"--lease-ms", std::to_string(o.lease_ms)});
          if (!team.empty()) argv.insert(argv.end(), {"--team", team});
          started = group.Start(name, with(argv)).ok();
        }
      }
    };
    start_workers(plan.workers, "");
    // A tree's sub-supervisors, each with its team: the top level waits for
    // its own workers and for the sub-supervisors of its children.
    uint32_t top_members = n;
    std::vector<std::string> tuning = {
        "--policy", o.policy, "--max-retries", std::to_string(o.max_retries), "--max-pending",
        std::to_string(o.max_pending), "--no-worker-timeout-ms",
        std::to_string(o.no_worker_timeout_ms), "--hung-after-ms",
        std::to_string(o.hung_after_ms), "--preempt-margin", std::to_string(o.preempt_margin),
        "--age-ms", std::to_string(o.age_ms)};
    if (o.no_fail_fast) tuning.push_back("--no-fail-fast");
    for (const TeamSpec& t : plan.teams) {
      std::vector<std::string> argv = TeamSupervisorArgv(bin, t, tuning);
      // Its sub-requests' documents go to the pool and up to its parent,
      // not to the run's output.
      started = started && group.Start("sub-supervisor-" + t.team, with(argv), {}, true).ok();
      if (t.parent.empty()) ++top_members;
      start_workers(t.workers, t.team);
    }
    std::vector<std::string> sup = {bin + "/slate-supervisor", "--input", o.input,
                                    "--split", o.split,
                                    "--wait-workers", std::to_string(top_members)};
    sup.insert(sup.end(), tuning.begin(), tuning.end());
    sup.insert(sup.end(), {"--context-bytes", std::to_string(o.plan.options.context_bytes),
                           "--max-iterations", std::to_string(o.plan.options.max_iterations),
                           "--on-exhausted", o.plan.on_exhausted, "--lead-lease-ms",
                           std::to_string(o.lead_lease_ms)});
    if (plan.validate) sup.push_back("--validate");
    // The result travels through a file written atomically by whichever
    // supervisor finishes; a supervisor killed mid-print cannot garble it.
    sup.insert(sup.end(), {"--output", result_path});
    sup.insert(sup.end(), o.supervisor_args.begin(), o.supervisor_args.end());
    // A restarted supervisor resumes the stored request and must never
    // post it a second time, even if the first one had already finished
    // it; it posts INPUT only if the first died before storing the request.
    std::vector<std::string> resume = sup;
    resume.push_back("--replacing");
    // With more than one, each stands by while another leads; whichever
    // leads first posts the request, and a standby never posts it again.
    if (plan.supervisors > 1)
      for (auto* argv : {&sup, &resume}) argv->push_back("--standby");
    const size_t first_sup = group.size();
    for (uint32_t i = 0; i < plan.supervisors && started; ++i) {
      const std::string name =
          plan.supervisors == 1 ? "supervisor" : "supervisor-" + std::to_string(i + 1);
      started = group.Start(name, with(sup), with(resume), true).ok();
    }
    rc = started ? Supervise(group, first_sup, plan.supervisors, plan.teams.size(), **pool, *tasks, o) : 1;
    if (supervisor::RanToEnd(rc)) {
      std::ifstream in(result_path);
      std::cout << in.rdbuf() << std::flush;
    }
    if (!started) std::fprintf(stderr, "slate-launch: the group could not be started\n");
    group.StopAll(std::chrono::milliseconds(5000));
  }
  if (o.output.empty()) std::remove(result_path.c_str());
  const std::string name = (*pool)->name();
  pool->reset();
  if (o.keep) {
    std::fprintf(stderr, "slate-launch: pool '%s' kept for inspection (/dev/shm/%s)\n",
                 name.c_str(), ShmNameFor(name).c_str());
  } else {
    (void)Pool::Remove(name);
  }
  return rc;
}

}  // namespace slate::launch
