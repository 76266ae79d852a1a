#include "request_run.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <random>

#include "aggregate.h"
#include "exhaustion.h"
#include "plan_run.h"
#include "urgency.h"
#include "worker_health.h"
#include "slate/clock.h"
#include "slate/entry_cursor.h"
#include "slate/json_payload.h"

namespace slate::supervisor {
namespace {

using std::chrono::milliseconds;
using nlohmann::json;

// This process's peak resident set, for the summary line.
double PeakRssMiB() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

class RequestRun {
 public:
  RequestRun(const SupervisorConfig& cfg, Pool& pool, AgentRef me, RequestRecord req,
             Policy policy)
      : cfg_(cfg), pool_(pool), me_(me), req_(std::move(req)),
        health_cfg_{cfg.hung_after_ms, cfg.breaker_failures, cfg.breaker_cooldown_ms},
        health_(health_cfg_, pool, me),
        delegator_(policy, cfg.max_pending),
        rng_(cfg.seed ? cfg.seed : static_cast<uint64_t>(NowMonoNs())) {
    if (req_.plan)
      plan_.emplace(pool, req_, me, exhaustion_, [this](TaskId id) { return Place(id); });
  }

  // Returns the exit status once the request is finished or we are stopped.
  int Loop(const std::atomic<bool>& stop) {
    WaitForWorkers(stop);
    const int64_t start = NowMonoNs();
    // A request that failed or was cancelled before a supervisor died:
    // its successor finishes stopping it.
    if (exhaustion_.Stopped())
      if (Status s = exhaustion_.Resume(); !s.ok()) return Fatal(s);
    if (plan_)
      if (Status s = plan_->Start(); !s.ok()) return Fatal(s);
    Query changes;
    changes.segments = {segments::kResults, segments::kErrors, segments::kAgents};
    changes.limit = 1;
    changes.with_payload = false;
    while (!stop.load()) {
      auto stats = pool_.Stats();
      if (!stats.ok()) return Fatal(stats.status());
      changes.after_id = stats->next_id - 1;
      // Every task final before the tick, and the tick posted none (a
      // plan posts a validation or a next iteration upon a result): done.
      const uint64_t posted = plan_ ? plan_->posted() : 0;
      if (Status s = Tick(); !s.ok()) return Fatal(s);
      if (Finished(*stats) && posted == (plan_ ? plan_->posted() : 0))
        return Finish(NowMonoNs() - start);
      (void)pool_.Wait(changes, NextWake());
    }
    spdlog::warn("stopped; request {} stays in the pool and resumes with the next supervisor",
                 req_.id);
    return kExitInternal;
  }

 private:
  // The task changed state, or left the pool (quarantined: the aggregate
  // reports it lost), since we read it: nothing left to do for it.
  static bool MovedOn(const Status& s) {
    return s.code() == StatusCode::kWrongState || s.code() == StatusCode::kNotFound;
  }

  int Fatal(const Status& s) {
    spdlog::error("{}", s.ToString());
    return kExitInternal;
  }

  void WaitForWorkers(const std::atomic<bool>& stop) {
    if (cfg_.wait_workers == 0) return;
    const int64_t until = NowMonoNs() + int64_t{cfg_.wait_workers_ms} * 1'000'000;
    while (!stop.load() && NowMonoNs() < until) {
      (void)pool_.Heartbeat(me_);
      if (health_.Rotation().size() >= cfg_.wait_workers) return;
      Query q;
      q.segments = {segments::kAgents};
      q.after_id = pool_.Stats()->next_id - 1;
      (void)pool_.Wait(q, milliseconds(100));
    }
    spdlog::warn("only {} of {} workers registered within {} ms; starting anyway",
                 health_.Rotation().size(), cfg_.wait_workers, cfg_.wait_workers_ms);
  }

  Status Tick() {
    (void)pool_.Heartbeat(me_);
    // Liveness at most every kSweepNs: a tick per result (a chain's pace)
    // need not look at every agent again.
    if (const int64_t now = NowMonoNs(); now - swept_ns_ >= kSweepNs) {
      if (Status s = health_.Sweep(); !s.ok()) return s;
      swept_ns_ = now;
    }
    if (Status s = HandleFailures(); !s.ok()) return s;
    if (Status s = RetryDue(); !s.ok()) return s;
    if (plan_)
      if (Status s = plan_->Advance(); !s.ok()) return s;
    return Delegate();
  }

  // Failures are learned from their records in "errors" (tag "failure").
  Status HandleFailures() {
    auto found = failures_.Next();
    if (!found.ok()) return found.status();
    for (const Entry& e : *found) {
      auto rec = PayloadToJson(e.payload);
      if (!rec.ok() || !rec->is_object() || !rec->contains("task")) continue;
      const TaskId id = (*rec)["task"].get<TaskId>();
      auto t = pool_.GetTask(id);
      if (!t.ok() || t->state != TaskState::kFailed || retry_at_.count(id)) continue;
      if (t->attempts <= t->max_retries) {
        retry_at_[id] = NowMonoNs() + BackoffNs(t->attempts);
        continue;
      }
      const std::string reason = "failed " + std::to_string(t->attempts) +
                                 " attempt(s); last error: " + rec->value("error", "");
      if (Status s = Exhausted(id, reason); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // A task out of retries: a validation is dead-lettered (its line then
  // runs out, plan_run.h); any other task meets its on_exhausted.
  Status Exhausted(TaskId id, const std::string& reason) {
    auto entry = pool_.Read(id);
    if (entry.ok() && std::find(entry->tags.begin(), entry->tags.end(), kValidateTag) !=
                          entry->tags.end()) {
      spdlog::warn("validation task {} dead-lettered: {}", id, reason);
      auto dl = pool_.DeadLetter(id, reason);
      return dl.ok() || MovedOn(dl.status()) ? Status::Ok() : dl.status();
    }
    return exhaustion_.Apply(id, reason);
  }

  // Sleep until a change, the next due retry, or a heartbeat, whichever is first.
  milliseconds NextWake() const {
    int64_t wait_ns = int64_t{cfg_.heartbeat_ms} * 1'000'000;
    const int64_t now = NowMonoNs();
    for (const auto& [id, due] : retry_at_) wait_ns = std::min(wait_ns, due - now);
    return milliseconds(std::max<int64_t>(wait_ns / 1'000'000, 0));
  }

  int64_t BackoffNs(uint32_t attempts) {
    const double base = cfg_.backoff_base_ms * std::pow(2.0, attempts > 0 ? attempts - 1 : 0);
    const double capped = std::min<double>(base, cfg_.backoff_max_ms);
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return static_cast<int64_t>(capped * jitter(rng_) * 1e6);
  }

  Status RetryDue() {
    const int64_t now = NowMonoNs();
    for (auto it = retry_at_.begin(); it != retry_at_.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      Status s = pool_.Retry(it->first, me_);
      if (!s.ok() && !MovedOn(s)) return s;
      it = retry_at_.erase(it);
    }
    return Status::Ok();
  }

  // Where a task made ready goes: straight to a live worker with room, as
  // Delegate() would send it, else the backlog (Delegate() then places it).
  AgentRef Place(TaskId id) {
    auto t = pool_.GetTask(id);
    if (!t.ok()) return me_;
    std::vector<WorkerView> workers = health_.Rotation();
    victims_.reset();
    if (auto freed = PreemptFor(id, *t, Urgency(*t, NowRealNs(), cfg_.age_ms), workers);
        freed.ok() && *freed)
      return **freed;
    const auto choice = delegator_.Choose(workers, t->requires_cap, 0);
    if (!choice.worker) return me_;
    delegator_.Assigned(workers, *choice.worker, t->requires_cap);
    return workers[*choice.worker].ref;
  }

  // A running task that urgent work may take the place of.
  struct Victim {
    int64_t priority;  // its urgency
    TaskId task;
    size_t worker;  // in the pass's rotation
  };

  // The running tasks of the rotation's workers, least urgent first, read
  // once per delegation pass and only when a task could not be placed.
  std::vector<Victim>& Victims(const std::vector<WorkerView>& workers) {
    if (victims_) return *victims_;
    victims_.emplace();
    const int64_t now = NowRealNs();
    for (size_t w = 0; w < workers.size(); ++w) {
      auto running = pool_.RunningTasks(workers[w].ref);
      if (!running.ok()) continue;
      auto infos = pool_.GetTasks(*running);
      if (!infos.ok()) continue;
      for (const TaskInfo& info : *infos)
        victims_->push_back({Urgency(info, now, cfg_.age_ms), info.id, w});
    }
    std::stable_sort(victims_->begin(), victims_->end(),
                     [](const Victim& a, const Victim& b) { return a.priority < b.priority; });
    return *victims_;
  }

  // When no capable worker is idle: preempts the least urgent preemptible
  // running task lower than t by the margin, on a worker that can take t
  // (Pool::Preempt: its worker stops it at once, and it keeps its retries),
  // and returns that worker for t; nullopt if there is none.
  Result<std::optional<AgentRef>> PreemptFor(TaskId id, const TaskInfo& t, int64_t urgency,
                                             const std::vector<WorkerView>& workers) {
    if (cfg_.preempt_margin == 0 ||
        std::any_of(workers.begin(), workers.end(), [&](const WorkerView& w) {
          return w.load == 0 && HasCapability(w, t.requires_cap);
        }))
      return std::optional<AgentRef>();
    auto& victims = Victims(workers);
    for (size_t k = 0; k < victims.size();) {
      if (victims[k].priority > urgency - int64_t{cfg_.preempt_margin}) break;
      const Victim v = victims[k];
      const WorkerView& w = workers[v.worker];
      if (!HasCapability(w, t.requires_cap)) {
        ++k;
        continue;
      }
      auto entry = pool_.Read(v.task);
      if (!entry.ok() ||
          std::find(entry->tags.begin(), entry->tags.end(), kNoPreemptTag) != entry->tags.end()) {
        ++k;  // gone, or it opted out
        continue;
      }
      // Taken off the list whatever happens: preempted now, or moved on.
      victims.erase(victims.begin() + static_cast<std::ptrdiff_t>(k));
      const std::string why = "preempted on '" + w.name + "' by task " + std::to_string(id) +
                              " (priority " + std::to_string(urgency) + " over " +
                              std::to_string(v.priority) + ")";
      Status s = pool_.Preempt(v.task, me_, why);
      if (!s.ok()) {
        if (MovedOn(s)) continue;
        return s;
      }
      spdlog::info("task {} {}", v.task, why);
      return std::optional<AgentRef>(w.ref);
    }
    return std::optional<AgentRef>();
  }

  // The ids of the first `limit` of the backlog, in the pool's order, and,
  // when aging, first of all the oldest task of each priority: one of them
  // is the most urgent, however deep it sits. *heads: how many lead.
  Result<std::vector<TaskId>> BacklogIds(uint32_t limit, size_t* heads) {
    *heads = 0;
    auto ids = pool_.PendingTasks(me_, limit);
    if (!ids.ok() || cfg_.age_ms == 0 || ids->size() < limit) return ids;
    auto oldest = pool_.PendingTasks(me_, 0, /*per_priority=*/1);
    if (!oldest.ok()) return oldest.status();
    *heads = oldest->size();
    const std::set<TaskId> lead(oldest->begin(), oldest->end());
    for (TaskId id : *ids)
      if (!lead.count(id)) oldest->push_back(id);
    return oldest;
  }

  // Tasks [at, at + n) of the backlog, read under one hold of the lock and
  // ranked (urgency.h). Read in small chunks, so the first placements do
  // not wait for the last read: the workers wait for them.
  Result<std::vector<Ranked>> BacklogChunk(const std::vector<TaskId>& ids, size_t at,
                                           size_t n) {
    const std::span<const TaskId> chunk(ids.data() + at, std::min(n, ids.size() - at));
    auto tasks = pool_.GetTasks(chunk);
    if (!tasks.ok()) return tasks.status();
    return RankByUrgency(std::move(*tasks), NowRealNs(), cfg_.age_ms);
  }

  // With every worker full, only preemption can place a task, and only a
  // task more urgent than the least urgent running one by the margin: the
  // backlog, most urgent first, is looked at no further once one is not.
  bool OnlyPreemptionCanPlace(int64_t urgency, const std::vector<WorkerView>& workers) {
    if (delegator_.AnyRoom(workers)) return false;
    if (cfg_.preempt_margin == 0) return true;
    const auto& victims = Victims(workers);
    return victims.empty() || victims.front().priority > urgency - int64_t{cfg_.preempt_margin};
  }

  Status Delegate() {
    victims_.reset();
    std::vector<WorkerView> workers = health_.Rotation();
    // Full workers need only the few most urgent: they may preempt.
    size_t heads = 0;
    auto ids = BacklogIds(delegator_.AnyRoom(workers) ? 512 : kChunk, &heads);
    if (!ids.ok()) return ids.status();
    const int64_t now = NowMonoNs();
    // The most urgent are in the first chunk: the rest only fill room.
    for (size_t at = 0, n = heads + kChunk; at < ids->size(); at += n, n = kChunk) {
      if (at > 0 && !delegator_.AnyRoom(workers)) break;
      auto chunk = BacklogChunk(*ids, at, n);
      if (!chunk.ok()) return chunk.status();
      if (Status s = DelegateChunk(*chunk, workers, now); !s.ok()) return s;
    }
    return Status::Ok();
  }

  static constexpr size_t kChunk = 32;

  // Returns early once every worker is full and nothing left can preempt.
  Status DelegateChunk(const std::vector<Ranked>& chunk, std::vector<WorkerView>& workers,
                       int64_t now) {
    for (const Ranked& r : chunk) {
      const TaskId id = r.task.id;
      const TaskInfo* t = &r.task;
      if (t->attempts > t->max_retries) {  // lost its worker on its last allowed attempt
        const std::string reason = "attempt " + std::to_string(t->attempts) +
                                   " was lost with its worker and no retries are left";
        if (Status s = Exhausted(id, reason); !s.ok()) return s;
        continue;
      }
      // A task no worker could ever take goes on, to its timeout below.
      if (OnlyPreemptionCanPlace(r.urgency, workers) &&
          std::any_of(workers.begin(), workers.end(),
                      [&](const WorkerView& w) { return HasCapability(w, t->requires_cap); }))
        break;
      // No capable worker idle: urgent work takes a busy one's place.
      auto freed = PreemptFor(id, *t, r.urgency, workers);
      if (!freed.ok()) return freed.status();
      if (*freed) {
        Status s = pool_.Reassign(id, **freed);
        if (!s.ok() && !MovedOn(s)) return s;
        waiting_since_.erase(id);
        continue;
      }
      const auto choice = delegator_.Choose(workers, t->requires_cap, t->last_agent.row);
      if (choice.worker) {
        Status s = pool_.Reassign(id, workers[*choice.worker].ref);
        if (s.ok()) delegator_.Assigned(workers, *choice.worker, t->requires_cap);
        else if (!MovedOn(s)) return s;
        waiting_since_.erase(id);
        continue;
      }
      if (choice.any_capable) {
        waiting_since_.erase(id);
        continue;
      }
      auto [it, fresh] = waiting_since_.emplace(id, now);
      if (now - it->second > int64_t{cfg_.no_worker_timeout_ms} * 1'000'000) {
        const std::string reason =
            "no live worker " +
            (t->requires_cap.empty() ? std::string("registered")
                                     : "has capability '" + t->requires_cap + "'") +
            " after waiting " + std::to_string(cfg_.no_worker_timeout_ms) + " ms";
        spdlog::error("task {} dead-lettered: {}", id, reason);
        (void)pool_.DeadLetter(id, reason);
        waiting_since_.erase(id);
      }
    }
    return Status::Ok();
  }

  // Every task of the request was posted before the run began, and the
  // pool counts tasks by state, so none pending, running or failed (and no
  // retry due) means every task of ours is final, or was quarantined: the
  // aggregate then reports it lost.
  bool Finished(const PoolStats& st) const {
    auto n = [&](TaskState s) { return st.tasks_by_state[static_cast<int>(s)]; };
    return n(TaskState::kPending) + n(TaskState::kRunning) + n(TaskState::kFailed) +
                   n(TaskState::kWaiting) + n(TaskState::kHeld) ==
               0 &&
           retry_at_.empty();
  }

  // Where the document is streamed before it is renamed into place: beside
  // the output (same file system), or a temporary file when there is none
  // or its folder is not writable.
  std::string OpenDraft(const std::string& output, std::ofstream* f) const {
    const std::string pid = std::to_string(getpid());
    if (!output.empty()) {
      const std::string beside = output + ".tmp." + pid;
      f->open(beside, std::ios::trunc);
      if (*f) return beside;
      spdlog::error("cannot write {}; the result goes to standard output only", output);
    }
    const char* tmp = std::getenv("TMPDIR");
    const std::string other = std::string(tmp && *tmp ? tmp : "/tmp") + "/slate-result-" +
                              req_.id + "-" + pid + ".json";
    f->clear();
    f->open(other, std::ios::trunc);
    return other;
  }

  int Finish(int64_t wall_ns) {
    // Order matters when this process may die at any point (and be
    // restarted to resume): the output file first, then the final entry,
    // and only then is the request marked finished. A successor that finds
    // the request unfinished builds the same document again; one that finds
    // it finished leaves the output alone. The document is streamed, never
    // held: a million-task request costs its ids, not its text.
    const std::string& output = req_.output.empty() ? cfg_.output : req_.output;
    std::ofstream draft_file;
    const std::string draft = OpenDraft(output, &draft_file);
    if (!draft_file) return Fatal({StatusCode::kIoError, "cannot write " + draft});
    auto agg = WriteAggregate(pool_, req_, wall_ns, draft_file);
    draft_file << "\n";
    draft_file.close();
    if (agg.ok() && !draft_file) agg = Status{StatusCode::kIoError, "cannot write " + draft};
    if (!agg.ok()) {
      std::remove(draft.c_str());
      return Fatal(agg.status());
    }
    std::string text_path = draft;
    if (!output.empty() && draft.rfind(output, 0) == 0) {
      if (std::rename(draft.c_str(), output.c_str()) == 0) text_path = output;
      else spdlog::error("cannot rename {} to {}", draft, output);
    }
    if (!FinalEntryOf(pool_, req_.id)) WriteFinalEntry(*agg, text_path);
    {
      std::ifstream text(text_path);
      std::cout << text.rdbuf();
      std::cout.flush();
    }
    if (text_path == draft) std::remove(draft.c_str());
    for (EntryId r : agg->results) (void)pool_.MarkAggregated(r);
    for (EntryId e : agg->errors) (void)pool_.Resolve(e);
    for (TaskId t : agg->tasks) (void)pool_.Release(t);
    if (Status s = FinishRequest(pool_, req_); !s.ok())
      spdlog::error("cannot mark request {} finished: {}", req_.id, s.message());
    const auto& s = agg->summary;
    std::string ended;  // only the endings that happened
    if (agg->skipped) ended += std::to_string(agg->skipped) + " skipped, ";
    if (agg->cancelled) ended += std::to_string(agg->cancelled) + " cancelled, ";
    if (agg->lost) ended += std::to_string(agg->lost) + " LOST, ";
    if (const uint64_t p = s["preempted"].get<uint64_t>())
      ended += std::to_string(p) + " preempted, ";
    std::fprintf(stderr, "slate: request %s: %llu tasks, %llu done, %llu dead-lettered, "
                 "%s%llu retries, %llu workers, %.2f s, supervisor peak RSS %.1f MiB\n",
                 req_.id.c_str(), static_cast<unsigned long long>(s["tasks"].get<uint64_t>()),
                 static_cast<unsigned long long>(agg->done),
                 static_cast<unsigned long long>(agg->dead_lettered), ended.c_str(),
                 static_cast<unsigned long long>(s["retries"].get<uint64_t>()),
                 static_cast<unsigned long long>(s["workers"].get<uint64_t>()),
                 static_cast<double>(wall_ns) / 1e9, PeakRssMiB());
    for (const auto& d : s["dead_lettered_tasks"])
      std::fprintf(stderr, "slate: dead-lettered: task %s%s: %s\n",
                   DumpJson(d["index"]).c_str(),
                   d["id"].is_null() ? "" : (" (" + d["id"].get<std::string>() + ")").c_str(),
                   d["error"].get<std::string>().c_str());
    for (const auto& d : s["lost_tasks"])
      std::fprintf(stderr, "slate: lost: task %s%s: %s\n", DumpJson(d["index"]).c_str(),
                   d["id"].is_null() ? "" : (" (" + d["id"].get<std::string>() + ")").c_str(),
                   d["error"].get<std::string>().c_str());
    if (s.contains("failed_by"))
      std::fprintf(stderr, "slate: the request failed: task %s%s ran out: %s\n",
                   DumpJson(s["failed_by"]["index"]).c_str(),
                   s["failed_by"]["id"].is_null()
                       ? ""
                       : (" (" + s["failed_by"]["id"].get<std::string>() + ")").c_str(),
                   s["failed_by"]["error"].get<std::string>().c_str());
    return ExitStatusOf(agg->summary);
  }

  // The document in segment "results", tags "final" and "req:<id>"; just its
  // request and summary when the whole does not fit the pool's payload limit.
  void WriteFinalEntry(const Aggregate& agg, const std::string& text_path) {
    NewEntry e;
    e.segment = segments::kResults;
    e.tags = {"final", "req:" + req_.id};
    e.importance = 1.0f;
    e.author = "supervisor";
    std::string why = "the document is larger than the pool's payload limit";
    std::error_code ec;
    if (std::filesystem::file_size(text_path, ec) <= kWholeDocumentBytes && !ec) {
      std::ifstream text(text_path);
      const auto doc = nlohmann::json::parse(text, nullptr, false);
      if (!doc.is_discarded()) {
        e.payload = JsonToPayload(doc);
        auto w = pool_.Write(e);
        if (w.ok()) return;
        why = w.status().message();
      }
    }
    e.payload = JsonToPayload({{"request", agg.request},
                               {"summary", agg.summary},
                               {"note", "tasks omitted: " + why}});
    if (auto w = pool_.Write(e); !w.ok())
      spdlog::error("cannot write the final entry: {}", w.status().message());
  }

  static constexpr int64_t kSweepNs = 2'000'000;
  int64_t swept_ns_ = 0;

  // Larger documents are never read back to be stored whole.
  static constexpr uintmax_t kWholeDocumentBytes = 8u << 20;

  const SupervisorConfig& cfg_;
  Pool& pool_;
  AgentRef me_;
  RequestRecord req_;
  HealthConfig health_cfg_;
  WorkerHealth health_;
  Delegator delegator_;
  std::mt19937_64 rng_;
  EntryCursor failures_{pool_, [] {
    Query q;
    q.segments = {segments::kErrors};
    q.all_tags = {"failure"};
    q.limit = 0;
    return q;
  }()};
  std::map<TaskId, int64_t> retry_at_;
  std::map<TaskId, int64_t> waiting_since_;
  std::optional<std::vector<Victim>> victims_;  // this delegation pass's
  Exhaustion exhaustion_{pool_, req_};  // on_exhausted
  std::optional<PlanRun> plan_;  // a plan's dependencies and validations
};

// Ends a request that cannot run (its source is gone or no longer valid):
// a final entry and an output file that say why, so a waiting submitter

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return {StatusCode::kIoError, "cannot write " + tmp};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return {StatusCode::kIoError, "cannot rename " + tmp + " to " + path};
  return Status::Ok();
}

std::optional<Entry> FinalEntryOf(Pool& pool, const std::string& request_id) {
  Query q;
  q.segments = {segments::kResults};
  q.all_tags = {"final"};
  if (!request_id.empty()) q.all_tags.push_back("req:" + request_id);
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok() || found->empty()) return std::nullopt;
  return found->back();
}

// Registers, taking over from a predecessor that died: its backlog and the
// tasks it was handing out become ours.

int RunRequest(const SupervisorConfig& cfg, Pool& pool, AgentRef me, RequestRecord req,
               Policy policy, const std::atomic<bool>& stop) {
  return RequestRun(cfg, pool, me, std::move(req), policy).Loop(stop);
}

}  // namespace slate::supervisor
