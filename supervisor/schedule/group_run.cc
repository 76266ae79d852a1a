#include "schedule/group_run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "schedule/fair_share.h"
#include "request/request_report.h"
#include "slate/internal/crash_point.h"
#include "slate/clock.h"
#include "slate/json_payload.h"

namespace slate::supervisor {
namespace {

using std::chrono::milliseconds;

// The task changed state, or left the pool (quarantined: the aggregate
// reports it lost), since we read it: nothing left to do for it.
bool MovedOn(const Status& s) {
  return s.code() == StatusCode::kWrongState || s.code() == StatusCode::kNotFound;
}

int Fatal(const Status& s) {
  LogFatal(s);
  return kExitInternal;
}

// Liveness at most this often: a tick per result (a chain's pace) need not
// look at every agent again.
constexpr int64_t kSweepNs = 2'000'000;
// Serve: how often the run looks for submitted requests when the requests
// segment seems unchanged.
constexpr int64_t kLookNs = 1'000'000'000;
// While tasks are unfinished, how often the requests are looked at for
// their end (each look costs a lock hold per request): it takes one task
// of theirs, or of no request, to keep the pool from having none.
constexpr int64_t kEndLookNs = 5'000'000;
// Backlog tasks ranked at a time: the first placements do not wait for
// the last read, the workers wait for them.
constexpr size_t kChunk = 32;

// Tasks in a final state, and tasks in the pool.
std::pair<uint64_t, uint64_t> FinalAndTotal(const PoolStats& st) {
  uint64_t final = 0, total = 0;
  for (int k = 0; k < kTaskStateCount; ++k) {
    total += st.tasks_by_state[k];
    if (IsFinal(static_cast<TaskState>(k))) final += st.tasks_by_state[k];
  }
  return {final, total};
}

// What a submission changes: the requests segment's entries and bytes.
std::pair<uint64_t, uint64_t> RequestsMark(const PoolStats& st) {
  for (const SegmentStats& seg : st.segments)
    if (seg.name == kRequestsSegment) return {seg.entries, seg.bytes};
  return {0, 0};
}

Query FailureRecords() {
  Query q;
  q.segments = {segments::kErrors};
  q.all_tags = {"failure"};
  q.limit = 0;
  return q;
}

}  // namespace

GroupRun::GroupRun(const SupervisorConfig& cfg, Pool& pool, AgentRef me, Policy policy,
                   bool serve)
    : cfg_(cfg), pool_(pool), me_(me), serve_(serve),
      health_cfg_{cfg.hung_after_ms, cfg.breaker_failures, cfg.breaker_cooldown_ms, cfg.team},
      health_(health_cfg_, pool, me),
      delegator_(policy, cfg.max_pending),
      preemption_(pool, me, cfg.preempt_margin),
      rng_(cfg.seed ? cfg.seed : static_cast<uint64_t>(NowMonoNs())),
      failures_(pool, FailureRecords()) {}

Status GroupRun::Admit(RequestRecord req) {
  const EntryId key = req.entry_id;
  auto state = std::make_unique<RequestState>(pool_, std::move(req), me_,
                                              [this](TaskId id) { return Place(id); });
  if (Status s = state->Start(); !s.ok()) return s;
  const int64_t now = NowMonoNs();
  admitted_ns_[key] = now;
  served_ns_[key] = now;
  looked_at_ = kLookAgain;  // a request never looked at
  requests_.push_back(std::move(state));
  return Status::Ok();
}

Status GroupRun::AdmitSubmitted(const PoolStats& stats) {
  auto active = FindActiveRequests(pool_, cfg_.team, requests_floor_);
  if (!active.ok()) return active.status();
  // A record is active from its creation until it ends, so every active
  // record older than the oldest seen now was seen: the next look starts
  // there (or past every id now given out, when none is active).
  EntryId floor = stats.next_id - 1;  // read before the look above
  for (const RequestRecord& req : *active) floor = std::min(floor, req.entry_id - 1);
  requests_floor_ = std::max(requests_floor_, floor);
  for (RequestRecord& req : *active) {
    if (admitted_ns_.count(req.entry_id)) continue;
    if (!req.posted) {
      auto defs = source_ ? source_(req) : ReadRequest(req.source, req.split);
      Status posted = defs.ok() ? PostTasks(pool_, req, *defs, me_, cfg_.default_max_retries)
                                : defs.status();
      if (!posted.ok()) {
        AbandonRequest(pool_, req, posted.message());
        continue;
      }
    }
    spdlog::info("request {}: {} tasks from {}{}", req.id, req.tasks, req.source,
                 requests_.empty() ? ""
                                   : " (with " + std::to_string(requests_.size()) + " more)");
    if (Status s = Admit(std::move(req)); !s.ok()) return s;
  }
  return Status::Ok();
}

int GroupRun::Run(const std::atomic<bool>& stop) {
  if (!serve_) WaitForWorkers(stop);
  Query changes;
  changes.segments = {segments::kResults, segments::kErrors, segments::kAgents};
  if (serve_) changes.segments.push_back(kRequestsSegment);
  changes.limit = 1;
  changes.with_payload = false;
  while (!stop.load()) {
    auto stats = pool_.Stats();
    if (!stats.ok()) return Fatal(stats.status());
    // Serve: a submission changes the requests segment; the slow look
    // only backs that up.
    if (const int64_t now = NowMonoNs(); serve_) {
      const auto mark = RequestsMark(*stats);
      if (mark != requests_mark_ || now - looked_ns_ >= kLookNs) {
        if (Status s = AdmitSubmitted(*stats); !s.ok()) return Fatal(s);
        requests_mark_ = mark;
        looked_ns_ = now;
      }
    }
    changes.after_id = stats->next_id - 1;
    // The requests whose every task was final before the tick, and whose
    // tick posted none (a plan posts a validation or a next iteration upon
    // a result): finished.
    auto ending = Ending(*stats);
    if (!ending.ok()) return Fatal(ending.status());
    if (Status s = Tick(); !s.ok()) return Fatal(s);
    for (const auto& [r, posted] : *ending) {
      if (r->posted() != posted) {
        looked_at_ = kLookAgain;  // after the next tick
        continue;
      }
      const int rc = Finish(r);
      if (rc == kExitInternal) return rc;
      last_rc_ = rc;
    }
    if (!serve_ && requests_.empty()) return last_rc_;
    (void)pool_.Wait(changes, NextWake());
  }
  for (const auto& r : requests_)
    spdlog::warn("stopped; request {} stays in the pool and resumes with the next supervisor",
                 r->record().id);
  return serve_ ? kExitOk : kExitInternal;
}

Result<std::vector<std::pair<RequestState*, uint64_t>>> GroupRun::Ending(const PoolStats& st) {
  std::vector<std::pair<RequestState*, uint64_t>> ending;
  const auto counts = FinalAndTotal(st);
  end_look_due_ = counts != looked_at_;
  if (!end_look_due_) return ending;
  const int64_t now = NowMonoNs();
  if (counts.first != counts.second && now - end_looked_ns_ < kEndLookNs) return ending;
  looked_at_ = counts;
  end_looked_ns_ = now;
  end_look_due_ = false;
  for (const auto& r : requests_) {
    auto all_final = r->AllFinal();
    if (!all_final.ok()) return all_final.status();
    if (*all_final) ending.emplace_back(r.get(), r->posted());
  }
  return ending;
}

int GroupRun::Finish(RequestState* r) {
  const EntryId key = r->record().entry_id;
  // The request's whole time, from its record's creation: a supervisor
  // that took over counts its predecessors' time too.
  const int64_t started = r->record().started_ns;
  const int64_t wall_ns = started > 0 && NowRealNs() > started ? NowRealNs() - started
                                                               : NowMonoNs() - admitted_ns_[key];
  const int rc = ReportRequest(pool_, r->record(), cfg_.output, wall_ns);
  if (rc == kExitInternal) return rc;
  admitted_ns_.erase(key);
  served_ns_.erase(key);
  preemption_.Forget([r](TaskId id) { return r->Owns(id); });
  std::erase_if(requests_, [&](const auto& p) { return p.get() == r; });
  return rc;
}

// Waits for the workers to register; those the circuit breaker rests
// (a replacement supervisor finds them so) have registered.
void GroupRun::WaitForWorkers(const std::atomic<bool>& stop) {
  if (cfg_.wait_workers == 0) return;
  const int64_t until = NowMonoNs() + int64_t{cfg_.wait_workers_ms} * 1'000'000;
  while (!stop.load() && NowMonoNs() < until) {
    (void)pool_.Heartbeat(me_);
    if (health_.Rotation().size() + health_.resting() >= cfg_.wait_workers) return;
    auto stats = pool_.Stats();
    if (!stats.ok()) return;  // the run's first look meets the same error
    Query q;
    q.segments = {segments::kAgents};
    q.after_id = stats->next_id - 1;
    (void)pool_.Wait(q, milliseconds(100));
  }
  spdlog::warn("only {} of {} workers registered within {} ms; starting anyway",
               health_.Rotation().size(), cfg_.wait_workers, cfg_.wait_workers_ms);
}

Status GroupRun::Tick() {
  (void)pool_.Heartbeat(me_);
  if (Status s = RenewLead(); !s.ok()) return s;
  if (const int64_t now = NowMonoNs(); now - swept_ns_ >= kSweepNs) {
    if (Status s = health_.Sweep(); !s.ok()) return s;
    swept_ns_ = now;
  }
  if (Status s = HandleFailures(); !s.ok()) return s;
  if (Status s = RetryDue(); !s.ok()) return s;
  for (const auto& r : requests_)
    if (Status s = r->Advance(); !s.ok()) return s;
  return Delegate();
}

// Keeps the pool's lead, renewing it when half its lease is gone. A lead
// lost (this process was stopped past its lease and another supervisor
// took over) ends the run: nothing more is changed in a term that is over.
Status GroupRun::RenewLead() {
  if (cfg_.term == 0) return Status::Ok();  // not leading (tests of the run alone)
  const int64_t now = NowMonoNs();
  if (now - lead_renewed_ns_ < int64_t{cfg_.lead_lease_ms} * 500'000) return Status::Ok();
  auto term = pool_.AcquireLeadership(me_, milliseconds(cfg_.lead_lease_ms), cfg_.term);
  if (!term.ok()) return term.status();
  lead_renewed_ns_ = now;
  return Status::Ok();
}

// Whether a task that belongs to no request of this run is still this
// supervisor's to see to: its tag names the same team (none at the top).
bool GroupRun::OfMyTeam(TaskId id) {
  auto e = pool_.Read(id);
  return e.ok() && TeamOf(*e) == cfg_.team;
}

RequestState* GroupRun::OwnerOf(TaskId id) {
  for (const auto& r : requests_)
    if (r->Owns(id)) return r.get();
  return nullptr;
}

// Failures are learned from their records in "errors" (tag "failure").
Status GroupRun::HandleFailures() {
  auto found = failures_.Next();
  if (!found.ok()) return found.status();
  for (const Entry& e : *found) {
    auto rec = PayloadToJson(e.payload);
    if (!rec.ok() || !rec->is_object() || !rec->contains("task")) continue;
    const TaskId id = (*rec)["task"].get<TaskId>();
    RequestState* owner = OwnerOf(id);
    if (!owner && !OfMyTeam(id)) continue;  // another team's supervisor retries it
    auto t = pool_.GetTask(id);
    if (!t.ok() || t->state != TaskState::kFailed || retry_at_.count(id)) continue;
    if (cfg_.fail_fast && owner != nullptr &&
        owner->same_failures().Note(id, t->attempts, rec->value("agent", ""),
                                    rec->value("error", ""))) {
      auto stopped = FailFast(*owner, *t);
      if (!stopped.ok()) return stopped.status();
      if (*stopped) continue;
    }
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

// Stops the request if every live worker that can take `failed` has
// failed its tasks the same way and none of them succeeded
// (same_failure_watch.h). True when it stopped it.
Result<bool> GroupRun::FailFast(RequestState& req, const TaskInfo& failed) {
  SameFailureWatch& watch = req.same_failures();
  const std::set<std::string> able = health_.Able(failed.requires_cap);
  if (!watch.Convinced(able)) return false;
  auto done = req.AnyDone();
  if (!done.ok()) return done.status();
  if (*done) {
    watch.Disarm();
    return false;
  }
  const std::string reason =
      "every worker (" + std::to_string(able.size()) +
      ") failed the request's tasks the same way (" + std::to_string(watch.tasks()) +
      " tasks failed, none succeeded): " + watch.error() +
      "; the request stops (--no-fail-fast retries each task to the end)";
  if (Status s = req.exhaustion().FailFast(failed.id, reason); !s.ok()) return s;
  return true;
}

// A task out of retries: a validation is dead-lettered (its line then runs
// out, plan_run.h); any other task meets its request's on_exhausted.
Status GroupRun::Exhausted(TaskId id, const std::string& reason) {
  auto entry = pool_.Read(id);
  RequestState* owner = OwnerOf(id);
  if (owner && entry.ok() &&
      std::find(entry->tags.begin(), entry->tags.end(), kValidateTag) == entry->tags.end())
    return owner->exhaustion().Apply(id, reason);
  if (owner) spdlog::warn("validation task {} dead-lettered: {}", id, reason);
  else spdlog::warn("task {} of no running request dead-lettered: {}", id, reason);
  auto dl = pool_.DeadLetter(id, reason);
  return dl.ok() || MovedOn(dl.status()) ? Status::Ok() : dl.status();
}

// Sleep until a change, the next due retry, or a heartbeat, whichever is first.
milliseconds GroupRun::NextWake() const {
  int64_t wait_ns = int64_t{cfg_.heartbeat_ms} * 1'000'000;
  const int64_t now = NowMonoNs();
  for (const auto& [id, due] : retry_at_) wait_ns = std::min(wait_ns, due - now);
  if (end_look_due_) wait_ns = std::min(wait_ns, end_looked_ns_ + kEndLookNs - now);
  return milliseconds(std::max<int64_t>(wait_ns / 1'000'000, 0));
}

int64_t GroupRun::BackoffNs(uint32_t attempts) {
  const double base = cfg_.backoff_base_ms * std::pow(2.0, attempts > 0 ? attempts - 1 : 0);
  const double capped = std::min<double>(base, cfg_.backoff_max_ms);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return static_cast<int64_t>(capped * jitter(rng_) * 1e6);
}

Status GroupRun::RetryDue() {
  const int64_t now = NowMonoNs();
  for (auto it = retry_at_.begin(); it != retry_at_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    internal::MaybeCrash("supervisor", "retry");
    Status s = pool_.Retry(it->first, me_);
    if (!s.ok() && !MovedOn(s)) return s;
    it = retry_at_.erase(it);
  }
  return Status::Ok();
}

// Where a plan's task made ready goes: straight to a live worker with room
// (or one it preempts), as Delegate() would send it, else the backlog.
AgentRef GroupRun::Place(TaskId id) {
  auto t = pool_.GetTask(id);
  if (!t.ok()) return me_;
  std::vector<WorkerView> workers = health_.Rotation();
  preemption_.NewPass();
  RequestState* owner = OwnerOf(id);
  const int64_t now = NowMonoNs();
  Share share;
  share.head_priority = t->priority;
  share.served_ns = owner ? served_ns_[owner->record().entry_id] : now;
  const int64_t urgency = WaitedPriority(share, now, cfg_.age_ms);
  AgentRef to = me_;
  if (auto freed = preemption_.For(*t, workers); freed.ok() && *freed) {
    to = **freed;
  } else if (const auto choice = delegator_.Choose(workers, t->requires_cap, 0); choice.worker) {
    delegator_.Assigned(workers, *choice.worker, t->requires_cap);
    to = workers[*choice.worker].ref;
  }
  if (to != me_) {
    preemption_.Placed(*t, urgency);
    if (owner) served_ns_[owner->record().entry_id] = now;
  }
  return to;
}

// The ids of the first `limit` of a range of the backlog, in the pool's
// order, and, when aging, first of all the oldest task of each priority:
// one of them is the most urgent, however deep it sits. *heads: how many
// lead.
Result<std::vector<TaskId>> GroupRun::BacklogIds(TaskIdRange range, uint32_t limit,
                                                 size_t* heads) {
  *heads = 0;
  auto ids = pool_.PendingTasks(me_, limit, 0, range);
  if (!ids.ok() || cfg_.age_ms == 0 || ids->size() < limit) return ids;
  auto oldest = pool_.PendingTasks(me_, 0, /*per_priority=*/1, range);
  if (!oldest.ok()) return oldest.status();
  *heads = oldest->size();
  const std::set<TaskId> lead(oldest->begin(), oldest->end());
  for (TaskId id : *ids)
    if (!lead.count(id)) oldest->push_back(id);
  return oldest;
}

// One stream per request, over consecutive ranges of task ids: a request's
// range runs from its first task to the next request's first, so together
// they hold every backlog task (a plan's later iterations fall in the
// newest request's range: they are placed all the same).
std::vector<GroupRun::Stream> GroupRun::Streams() {
  std::vector<RequestState*> by_start;
  for (const auto& r : requests_) by_start.push_back(r.get());
  std::sort(by_start.begin(), by_start.end(), [](RequestState* a, RequestState* b) {
    return a->first_task() < b->first_task();
  });
  std::vector<Stream> streams(std::max<size_t>(by_start.size(), 1));
  for (size_t i = 0; i < by_start.size(); ++i) {
    streams[i].req = by_start[i];
    if (i > 0) streams[i].range.lo = by_start[i]->first_task();
    if (i + 1 < by_start.size()) streams[i].range.hi = by_start[i + 1]->first_task();
  }
  return streams;
}

Status GroupRun::Refill(Stream& s, const std::vector<WorkerView>& workers) {
  s.chunk.clear();
  s.next = 0;
  if (s.read >= s.ids.size() || (s.read > 0 && !delegator_.AnyRoom(workers)))
    return Status::Ok();
  // The most urgent are in the first chunk: the rest only fill room.
  const size_t n = std::min(s.read == 0 ? s.heads + kChunk : kChunk, s.ids.size() - s.read);
  auto tasks = pool_.GetTasks(std::span<const TaskId>(s.ids.data() + s.read, n));
  if (!tasks.ok()) return tasks.status();
  s.read += n;
  s.chunk = RankByUrgency(std::move(*tasks), NowRealNs(), cfg_.age_ms);
  return Status::Ok();
}

std::vector<uint32_t> GroupRun::OnWorkers(const std::vector<Stream>& streams,
                                          const std::vector<WorkerView>& workers) {
  std::vector<uint32_t> n(streams.size(), 0);
  if (streams.size() < 2) return n;
  auto count = [&](const Result<std::vector<TaskId>>& ids) {
    if (!ids.ok()) return;
    for (TaskId id : *ids)
      for (size_t i = streams.size(); i-- > 0;)
        if (id >= streams[i].range.lo) {
          n[i] += 1;
          break;
        }
  };
  for (const WorkerView& w : workers) {
    count(pool_.PendingTasks(w.ref, 0));
    count(pool_.RunningTasks(w.ref));
  }
  return n;
}

Status GroupRun::Delegate() {
  preemption_.NewPass();
  std::vector<WorkerView> workers = health_.Rotation();
  std::vector<Stream> streams = Streams();
  std::vector<Share> shares(streams.size());
  const std::vector<uint32_t> on_workers = OnWorkers(streams, workers);
  const int64_t now = NowMonoNs();
  // Full workers need only the few most urgent: they may preempt.
  const uint32_t limit = delegator_.AnyRoom(workers) ? 512 : kChunk;
  for (size_t i = 0; i < streams.size(); ++i) {
    Stream& s = streams[i];
    auto ids = BacklogIds(s.range, limit, &s.heads);
    if (!ids.ok()) return ids.status();
    s.ids = std::move(*ids);
    if (Status st = Refill(s, workers); !st.ok()) return st;
    const EntryId key = s.req ? s.req->record().entry_id : 0;
    // A request with nothing waiting is not owed anything for the wait.
    if (s.chunk.empty() && s.req) served_ns_[key] = now;
    shares[i].open = !s.chunk.empty();
    shares[i].served_ns = s.req ? served_ns_[key] : 0;
    shares[i].on_workers = on_workers[i];
    if (shares[i].open) shares[i].head_priority = s.chunk.front().task.priority;
  }
  while (auto next = NextShare(shares, now, cfg_.age_ms)) {
    Stream& s = streams[*next];
    Share& share = shares[*next];
    // The head's urgency of placement (preemption.h): its priority, plus
    // its request's wait for service.
    const int64_t urgency = WaitedPriority(share, now, cfg_.age_ms);
    auto placed = PlaceOne(s.chunk[s.next++], urgency, workers, now);
    if (!placed.ok()) return placed.status();
    if (*placed) {
      share.served_ns = now;
      share.on_workers += 1;
      if (s.req) served_ns_[s.req->record().entry_id] = now;
    }
    if (s.next == s.chunk.size())
      if (Status st = Refill(s, workers); !st.ok()) return st;
    share.open = s.next < s.chunk.size();
    if (share.open) share.head_priority = s.chunk[s.next].task.priority;
  }
  return Status::Ok();
}

// Whether the task went to a worker: a free one, or one it preempts.
Result<bool> GroupRun::PlaceOne(const Ranked& r, int64_t urgency,
                                std::vector<WorkerView>& workers, int64_t now) {
  const TaskId id = r.task.id;
  const TaskInfo& t = r.task;
  if (t.attempts > t.max_retries) {  // lost its worker on its last allowed attempt
    const std::string reason = "attempt " + std::to_string(t.attempts) +
                               " was lost with its worker and no retries are left";
    if (Status s = Exhausted(id, reason); !s.ok()) return s;
    return false;
  }
  // Every worker full and nothing it could preempt: it waits (a task no
  // worker could ever take goes on, to its timeout below).
  if (preemption_.OnlyPreemptionCanPlace(t.priority, workers, delegator_) &&
      std::any_of(workers.begin(), workers.end(),
                  [&](const WorkerView& w) { return HasCapability(w, t.requires_cap); }))
    return false;
  // No capable worker idle: urgent work takes a busy one's place.
  auto freed = preemption_.For(t, workers);
  if (!freed.ok()) return freed.status();
  if (*freed) {
    waiting_since_.erase(id);
    Status s = pool_.Reassign(id, **freed);
    if (s.ok()) preemption_.Placed(t, urgency);
    return s.ok() || MovedOn(s) ? Result<bool>(s.ok()) : Result<bool>(s);
  }
  const auto choice = delegator_.Choose(workers, t.requires_cap, t.last_agent.row);
  if (choice.worker) {
    internal::MaybeCrash("supervisor", "assign");
    waiting_since_.erase(id);
    Status s = pool_.Reassign(id, workers[*choice.worker].ref);
    if (s.ok()) {
      delegator_.Assigned(workers, *choice.worker, t.requires_cap);
      preemption_.Placed(t, urgency);
    }
    return s.ok() || MovedOn(s) ? Result<bool>(s.ok()) : Result<bool>(s);
  }
  if (choice.any_capable || health_.AnyResting(t.requires_cap)) {
    waiting_since_.erase(id);
    return false;
  }
  auto [it, fresh] = waiting_since_.emplace(id, now);
  if (now - it->second > int64_t{cfg_.no_worker_timeout_ms} * 1'000'000) {
    const std::string reason =
        "no live worker " +
        (t.requires_cap.empty() ? std::string("registered")
                                : "has capability '" + t.requires_cap + "'") +
        " after waiting " + std::to_string(cfg_.no_worker_timeout_ms) + " ms";
    spdlog::error("task {} dead-lettered: {}", id, reason);
    (void)pool_.DeadLetter(id, reason);
    waiting_since_.erase(id);
  }
  return false;
}

}  // namespace slate::supervisor
