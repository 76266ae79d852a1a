#include "worker_app.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "slate/clock.h"
#include "slate/internal/crash_point.h"
#include "slate/json_payload.h"
#include "slate/plan_task.h"
#include "slate/pool.h"
#include "slate/process_setup.h"

namespace slate::worker {
namespace {

using std::chrono::milliseconds;

// The task being run, shared with the heartbeat thread. Guarded by mu.
struct Current {
  std::mutex mu;
  bool active = false;
  TaskId id = 0;
  uint32_t epoch = 0;
  int64_t lease_deadline_mono = 0;
  int64_t timeout_at_mono = 0;  // 0: none
  RunControl control;
  // Gives the task up: the handler is told, an exec command gets grace_ms
  // between SIGTERM and SIGKILL.
  void Cancel(uint32_t grace_ms) {
    if (control.cancel.load()) return;
    control.grace_ms = grace_ms;
    control.cancel = true;
  }
};

std::string RequestIdOf(const Entry& e) {
  for (const auto& t : e.tags)
    if (t.rfind("req:", 0) == 0) return t.substr(4);
  return "";
}

// Queued tasks of a leaving worker go back to its team's supervisor, if
// one is registered, not to the shared queue.
AgentRef HeirOf(Pool& pool, const std::string& team) {
  return pool.TeamSupervisorOrShared(team);
}

class Heartbeat {
 public:
  Heartbeat(Pool& pool, AgentRef me, const WorkerConfig& cfg, Current& cur,
            const std::atomic<bool>& stop)
      : pool_(pool), me_(me), cfg_(cfg), cur_(cur), stop_(stop),
        thread_([this] { Loop(); }) {}
  ~Heartbeat() {
    done_ = true;
    pool_.WakeTakenBackWaiter(me_);
    thread_.join();
  }

 private:
  // Sleeps on the pool's word for tasks taken back from this worker, not a
  // timer alone: a task taken from it (preempted, cancelled, reassigned)
  // is stopped at once. Heartbeats keep their period.
  void Loop() {
    const int64_t period = int64_t{cfg_.heartbeat_ms} * 1'000'000;
    int64_t next_beat = 0;
    while (!done_.load()) {
      const int64_t now = NowMonoNs();
      if (now >= next_beat) {
        (void)pool_.Heartbeat(me_);
        next_beat = now + period;
      }
      Tend();
      pool_.AwaitTakenBack(me_,
                           milliseconds(std::max<int64_t>(1, (next_beat - NowMonoNs()) / 1'000'000)));
    }
  }
  void Tend() {
    std::lock_guard<std::mutex> l(cur_.mu);
    if (!cur_.active) return;
    const int64_t now = NowMonoNs();
    const uint32_t grace = cfg_.handler.stop_grace_ms;
    if (cur_.timeout_at_mono != 0 && now > cur_.timeout_at_mono) cur_.Cancel(grace);
    if (stop_.load()) {
      if (stop_seen_ == 0) stop_seen_ = now;
      if (now - stop_seen_ > int64_t{cfg_.drain_ms} * 1'000'000) cur_.Cancel(grace);
    }
    // An operator may cancel the task, or the supervisor take it back for
    // more urgent work, at any time: the pool wakes this thread at once. A
    // task that will run again (pending) gets the preemption grace.
    if (auto t = pool_.GetTask(cur_.id); !cur_.control.cancel.load() && t.ok() &&
                                         (t->state != TaskState::kRunning || t->epoch != cur_.epoch)) {
      spdlog::warn("task {} is {} now; stopping it", cur_.id, TaskStateName(t->state));
      cur_.Cancel(t->state == TaskState::kPending ? cfg_.handler.preempt_grace_ms : grace);
    }
    if (cur_.lease_deadline_mono - now < int64_t{cfg_.lease_ms} * 500'000) {
      const Status s = pool_.RenewLease(cur_.id, cur_.epoch, milliseconds(cfg_.lease_ms), me_);
      if (s.ok()) {
        cur_.lease_deadline_mono = now + int64_t{cfg_.lease_ms} * 1'000'000;
      } else if (s.code() == StatusCode::kStaleEpoch) {
        spdlog::warn("task {} was taken from us: {}", cur_.id, s.message());
        cur_.Cancel(cfg_.handler.preempt_grace_ms);
      }
    }
  }

  Pool& pool_;
  AgentRef me_;
  const WorkerConfig& cfg_;
  Current& cur_;
  const std::atomic<bool>& stop_;
  int64_t stop_seen_ = 0;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Registers under `name`. A restarted worker finds its dead predecessor still
// registered under that name: it hands the predecessor's tasks to the
// supervisor and takes the name over. A live holder of the name is an error.
Result<AgentRef> RegisterTakingOver(Pool& pool, const AgentSpec& spec) {
  auto me = pool.RegisterAgent(spec);
  if (me.ok() || me.status().code() != StatusCode::kAlreadyExists) return me;
  auto agents = pool.ListAgents(std::chrono::seconds(3600));
  if (!agents.ok()) return agents.status();
  for (const auto& a : *agents) {
    if (a.name != spec.name) continue;
    if (a.liveness != Liveness::kGone) return me;
    spdlog::warn("taking over the name '{}' from dead pid {}", a.name, a.pid);
    // NotFound: the supervisor's death watch deregistered it first.
    if (Status s = pool.Deregister(a.ref, HeirOf(pool, spec.team),
                                   "worker '" + a.name + "' died (pid " +
                                       std::to_string(a.pid) + ") and was restarted");
        !s.ok() && s.code() != StatusCode::kNotFound)
      return s;
  }
  return pool.RegisterAgent(spec);
}

// Fills a plan task's input from its stub: the envelope, with its
// dependencies' results read from the pool.
Status ReadPlanInput(const Pool& pool, const Claim& c, TaskInput* in,
                     std::optional<PlanTask>* stub) {
  auto t = DecodePlanTask(c.entry.payload);
  if (!t.ok()) return t.status();
  auto env = BuildEnvelope(pool, *t);
  if (!env.ok()) return env.status();
  in->plan = true;
  in->payload = t->payload;
  in->iteration = t->iteration;
  in->envelope = std::move(*env);
  *stub = std::move(*t);
  return Status::Ok();
}

// A plan task's result names its line and carries its line's importance,
// unless the handler chose one: dependents' contexts are built from it.
void Report(Pool& pool, AgentRef me, const Claim& c, const Outcome& out,
            const std::optional<PlanTask>& stub) {
  Status s;
  if (out.ok) {
    TaskResult r;
    if (stub) {
      r.tags = PlanResultTags(*stub);
      r.importance = out.importance.value_or(c.entry.importance);
    } else if (out.importance) {
      r.importance = *out.importance;
    }
    r.payload = JsonToPayload(out.result);
    auto res = pool.Complete(c.task.id, c.task.epoch, r, me);
    s = res.status();
    if (s.code() == StatusCode::kInvalidArgument)  // e.g. the result is too large
      s = pool.Fail(c.task.id, c.task.epoch, "result refused by the pool: " + s.message(), me);
  } else {
    s = pool.Fail(c.task.id, c.task.epoch, out.error, me);
  }
  if (s.code() == StatusCode::kStaleEpoch)
    spdlog::warn("task {}: our claim was superseded; outcome discarded ({})", c.task.id,
                 s.message());
  else if (!s.ok())
    spdlog::error("task {}: cannot record the outcome: {}", c.task.id, s.ToString());
  else
    spdlog::debug("task {} {}", c.task.id, out.ok ? "done" : "failed: " + out.error);
}

// The checkpoint an earlier attempt saved, for this one to resume from:
// in.resume, and a plan's envelope as "resume". A checkpoint that went
// with its task's end (a race with a cancel) is no error.
Status ReadResume(const Pool& pool, TaskId id, TaskInput* in) {
  auto cp = pool.LastCheckpoint(id);
  if (!cp.ok()) return cp.status().code() == StatusCode::kNotFound ? Status::Ok() : cp.status();
  auto state = PayloadToJson(cp->payload);
  if (!state.ok()) return state.status();
  in->resume = std::move(*state);
  if (in->plan) in->envelope["resume"] = in->resume;
  spdlog::info("task {} resumes from its checkpoint (entry {})", id, cp->id);
  return Status::Ok();
}

// A validation task's outcome: the validator's verdict, or a failed
// attempt saying why what it printed is not one.
Outcome Validate(Handler& validator, const TaskInput& in, RunControl& control) {
  Outcome out = validator.Run(in, control);
  if (!out.ok) return Outcome::Failure("the validator failed: " + out.error);
  auto verdict = ParseVerdict(out.result);
  if (!verdict.ok()) return Outcome::Failure(verdict.status().message());
  return Outcome::Success(VerdictJson(*verdict));
}

}  // namespace

int WorkerApp::Run() {
  if (!handler_) {
    auto made = MakeHandler(config_.handler);
    if (!made.ok()) {
      spdlog::error("{}", made.status().message());
      return 2;
    }
    handler_ = std::move(*made);
  }
  std::unique_ptr<Handler> validator;
  if (!config_.validate_command.empty()) {
    HandlerOptions v = config_.handler;
    v.name = "exec";
    v.exec_command = config_.validate_command;
    auto made = MakeHandler(v);
    if (!made.ok()) {
      spdlog::error("--validate: {}", made.status().message());
      return 2;
    }
    validator = std::move(*made);
    config_.capabilities.push_back(kValidateCap);
  }
  handler_->Prepare();
  if (validator) validator->Prepare();
  auto pool = Pool::Open(config_.pool);
  if (!pool.ok()) {
    spdlog::error("cannot attach: {}", pool.status().message());
    return 1;
  }
  const std::string name =
      config_.name.empty() ? "worker-" + std::to_string(getpid()) : config_.name;
  auto me =
      RegisterTakingOver(**pool, {name, config_.capabilities, 0, config_.role, config_.team});
  if (!me.ok()) {
    spdlog::error("cannot register: {}", me.status().message());
    return 1;
  }
  spdlog::info("worker '{}' registered in pool '{}' (handler {})", name, config_.pool,
               config_.handler.name);
  const std::atomic<bool>& stop = stop_ ? *stop_ : InstallStopSignals();
  Current cur;
  // A handler saves its checkpoint under the current claim; it runs on this
  // thread, which alone sets cur.id and cur.epoch. A save after the claim
  // is gone is refused by its epoch.
  cur.control.checkpoint = [&pool, &cur, me = *me](const nlohmann::json& state) {
    return (*pool)->SaveCheckpoint(cur.id, cur.epoch, JsonToPayload(state), me).status();
  };
  int rc = 0;
  {
    Heartbeat hb(**pool, *me, config_, cur, stop);
    while (!stop.load()) {
      auto claim = (*pool)->WaitClaim(*me, milliseconds(config_.lease_ms), milliseconds(1000));
      if (!claim.ok()) {
        spdlog::error("cannot claim: {}", claim.status().message());
        rc = 1;
        break;
      }
      if (!claim->has_value()) continue;
      internal::MaybeCrash("worker", "after_claim");  // test-only crash points
      const Claim& c = **claim;
      TaskInput in;
      in.task_id = c.task.id;
      in.attempt = c.task.attempts;
      in.request_id = RequestIdOf(c.entry);
      in.timeout_ms = c.task.timeout_ms;
      std::optional<PlanTask> stub;
      Status input = Status::Ok();
      if (IsPlanTask(c.entry)) {
        input = ReadPlanInput(**pool, c, &in, &stub);
      } else if (auto payload = PayloadToJson(c.entry.payload); payload.ok()) {
        in.payload = std::move(*payload);
      } else {
        input = payload.status();
      }
      if (input.ok() && c.task.checkpointed) input = ReadResume(**pool, c.task.id, &in);
      Outcome out;
      if (!input.ok()) {
        out = Outcome::Failure(input.message());
      } else {
        {
          std::lock_guard<std::mutex> l(cur.mu);
          cur.active = true;
          cur.id = c.task.id;
          cur.epoch = c.task.epoch;
          cur.lease_deadline_mono = c.task.lease_deadline_mono_ns;
          const uint32_t t = in.timeout_ms ? in.timeout_ms : config_.handler.default_timeout_ms;
          cur.timeout_at_mono = t ? NowMonoNs() + int64_t{t} * 1'000'000 : 0;
          cur.control.cancel = false;
        }
        if (stub && stub->validates != 0)
          out = validator ? Validate(*validator, in, cur.control)
                          : Outcome::Failure("this worker has no validator (--validate)");
        else
          out = handler_->Run(in, cur.control);
        internal::MaybeCrash("worker", "after_execute");
        if (!out.ok && cur.control.cancel.load() && stop.load()) {
          // Stopping and out of drain time: the task goes back, unfailed.
          std::lock_guard<std::mutex> l(cur.mu);
          cur.active = false;
          const Status s = (*pool)->Reassign(c.task.id, HeirOf(**pool, config_.team));
          spdlog::info("stopping: task {} released ({})", c.task.id,
                       s.ok() ? "back to the supervisor" : s.message());
          continue;
        }
        std::lock_guard<std::mutex> l(cur.mu);
        if (!out.ok && out.error.rfind("cancelled", 0) == 0 && cur.timeout_at_mono != 0 &&
            NowMonoNs() > cur.timeout_at_mono)
          out.error = "timed out after " + std::to_string(in.timeout_ms) + " ms";
        cur.active = false;
      }
      Report(**pool, *me, c, out, stub);
      internal::MaybeCrash("worker", "after_report");
    }
  }
  const Status left = (*pool)->Deregister(*me, HeirOf(**pool, config_.team));
  if (!left.ok()) spdlog::warn("deregister: {}", left.message());
  spdlog::info("worker '{}' stopped", name);
  return rc;
}

}  // namespace slate::worker
