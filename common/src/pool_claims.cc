// The claimer's side of a task: claim, wait for one, renew, complete, fail.
#include "slate/clock.h"
#include "slate/internal/event_count.h"
#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/records.h"
#include "slate/internal/task_queue.h"

namespace slate {
using namespace internal;

namespace {

constexpr int kSharedScanLimit = 256;

std::string TaskName(TaskId id) { return "task " + std::to_string(id); }

bool PastDeadline(const TaskFields& t) {
  return t.deadline_real != 0 && NowRealNs() > t.deadline_real;
}

// The slot of a running task whose current claim is `epoch`, or an error.
// A refusal is recorded as a conflict before returning kStaleEpoch.
Result<uint32_t> LocateClaim(Pool::Impl& im, TaskId id, uint32_t epoch,
                             const char* op, AgentRef by) {
  auto slot = im.LocateTaskLocked(id);
  if (!slot.ok()) return slot.status();
  const TaskFields& t = im.region_.slot(*slot).kind.task;
  if (t.state == static_cast<uint8_t>(TaskState::kRunning) && t.epoch == epoch)
    return *slot;
  const std::string why =
      TaskName(id) + ": " + op + " with epoch " + std::to_string(epoch) +
      " refused; the task is " +
      TaskStateName(static_cast<TaskState>(t.state)) + " at epoch " +
      std::to_string(t.epoch);
  im.RecordStaleLocked(*slot, epoch, op, by);
  return Status{StatusCode::kStaleEpoch, why};
}

}  // namespace

uint32_t Pool::Impl::PickLocked(Guard& g, uint32_t row) {
  TaskQueues qs(region_);
  for (;;) {
    uint32_t pick = kNil;
    const int own = qs.TopBucket(row);
    if (own >= 0) {
      pick = region_.queue(row).buckets[own].head;
    } else {
      int scanned = 0;
      for (int b = qs.TopBucket(0); b >= 0 && pick == kNil && scanned < kSharedScanLimit;
           b = qs.BucketBelow(0, b)) {
        for (uint32_t i = region_.queue(0).buckets[b].head;
             i != kNil && scanned < kSharedScanLimit;
             i = region_.slot(i).kind.task.q_next, ++scanned) {
          if (AgentHasCap(row, region_.slot(i).kind.task.requires_hash)) {
            pick = i;
            break;
          }
        }
      }
    }
    if (pick == kNil || !PastDeadline(region_.slot(pick).kind.task)) return pick;
    if (!DeadLetterLocked(g, pick, "deadline exceeded before it started").ok())
      return kNil;  // pool full: leave it; the next claim tries again
  }
}

Result<std::optional<Claim>> Pool::ClaimNext(AgentRef agent,
                                             std::chrono::milliseconds lease) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (agent.is_shared())
    return Status{StatusCode::kInvalidArgument, "claim needs a registered agent"};
  if (lease.count() <= 0)
    return Status{StatusCode::kInvalidArgument, "lease must be positive"};
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  if (Status s = im.CheckAgentLocked(agent); !s.ok()) return s;
  const Region& r = im.region_;
  const uint32_t slot = im.PickLocked(g, agent.row);
  if (slot == kNil) return std::optional<Claim>();
  Slot& s = r.slot(slot);
  Txn txn(r, OpCode::kClaim);
  txn.Save(s);
  im.Detach(slot);
  TaskFields& t = s.kind.task;
  t.state = static_cast<uint8_t>(TaskState::kRunning);
  t.epoch += 1;
  t.attempts += 1;
  t.assignee = static_cast<uint16_t>(agent.row);
  t.last_agent = static_cast<uint16_t>(agent.row);
  t.lease_deadline_mono = NowMonoNs() + lease.count() * 1'000'000;
  s.updated_ns = NowRealNs();  // the attempt's start, for failure records
  im.Attach(slot);
  txn.Commit();
  Claim claim;
  claim.task = TaskInfoAt(r, slot);
  if (auto e = ReadEntryAt(r, slot, true)) claim.entry = std::move(*e);
  return std::optional<Claim>(std::move(claim));
}

Result<std::optional<Claim>> Pool::WaitClaim(AgentRef agent,
                                             std::chrono::milliseconds lease,
                                             std::chrono::milliseconds timeout) {
  if (agent.is_shared() || !impl_->region_.ValidAgentRow(agent.row))
    return Status{StatusCode::kInvalidArgument, "claim needs a registered agent"};
  const int64_t deadline = NowMonoNs() + timeout.count() * 1'000'000;
  EventWord& ev = impl_->region_.agent(agent.row).wake;
  for (;;) {
    const uint32_t key = PrepareWait(ev);
    auto claim = ClaimNext(agent, lease);
    if (!claim.ok() || claim->has_value()) return claim;
    const int64_t left = deadline - NowMonoNs();
    if (left <= 0 || !WaitFor(ev, key, left)) return claim;  // timed out or signalled
  }
}

Status Pool::RenewLease(TaskId id, uint32_t epoch,
                        std::chrono::milliseconds lease, AgentRef by) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (lease.count() <= 0)
    return {StatusCode::kInvalidArgument, "lease must be positive"};
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  auto slot = LocateClaim(im, id, epoch, "renew", by);
  if (!slot.ok()) return slot.status();
  Slot& s = im.region_.slot(*slot);
  Txn txn(im.region_, OpCode::kRenew);
  txn.Save(s);
  s.kind.task.lease_deadline_mono = NowMonoNs() + lease.count() * 1'000'000;
  txn.Commit();
  return Status::Ok();
}

Result<EntryId> Pool::Complete(TaskId id, uint32_t epoch,
                               const TaskResult& result, AgentRef by) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (Status s = ValidateTags(result.tags); !s.ok()) return s;
  if (Status s = ValidateImportance(result.importance); !s.ok()) return s;
  if (Status s = ValidatePayload(result.payload, impl_->region_.geo().max_payload);
      !s.ok())
    return s;
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  const Region& r = im.region_;
  auto slot = LocateClaim(im, id, epoch, "complete", by);
  if (!slot.ok()) return slot.status();
  const uint32_t row = r.slot(*slot).kind.task.assignee;
  const std::string author = AgentName(r, by.is_shared() ? row : by.row);
  const SlotSpec spec = MakeSlotSpec(kSegResults, author, "",
                                     result.tags, result.importance,
                                     result.payload);
  // Running tasks are never evicted, so the slot survives this.
  if (Status s = im.Reserve(im.BlocksFor(static_cast<uint32_t>(spec.data.size())));
      !s.ok())
    return s;
  Slot& task = r.slot(*slot);
  Txn txn(r, OpCode::kComplete);
  txn.Save(task);
  if (row != 0) txn.Save(r.agent(row).rec);
  const uint32_t res = im.InsertSlot(txn, spec);
  r.slot(res).kind.result.task_id = id;
  r.slot(res).kind.result.epoch = epoch;
  im.LinkSlot(res);
  txn.Point("after_result");
  im.Detach(*slot);
  task.kind.task.state = static_cast<uint8_t>(TaskState::kDone);
  task.kind.task.assignee = 0;  // only pending and running tasks have one
  task.kind.task.result_id = r.slot(res).id;
  task.kind.task.lease_deadline_mono = 0;
  task.updated_ns = NowRealNs();
  im.Attach(*slot);
  if (row != 0) {
    r.agent(row).rec.done += 1;
    r.agent(row).rec.consecutive_failures = 0;
  }
  txn.Commit();
  g.Notify(&r.header().entries_event);
  return r.slot(res).id;
}

Status Pool::Fail(TaskId id, uint32_t epoch, const std::string& error,
                  AgentRef by) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  const Region& r = im.region_;
  auto slot = LocateClaim(im, id, epoch, "fail", by);
  if (!slot.ok()) return slot.status();
  const TaskFields& t0 = r.slot(*slot).kind.task;
  const uint32_t row = t0.assignee;
  const SlotSpec spec = MakeSlotSpec(
      kSegErrors, AgentName(r, row), "",
      {"failure", "task:" + std::to_string(id)}, 0.8f,
      AttemptRecord("failure", id, t0.attempts, AgentName(r, by.is_shared() ? row : by.row), error,
                    r.slot(*slot).updated_ns, NowRealNs()));
  if (Status s = im.Reserve(im.BlocksFor(static_cast<uint32_t>(spec.data.size())));
      !s.ok())
    return s;
  Slot& task = r.slot(*slot);
  Txn txn(r, OpCode::kFail);
  txn.Save(task);
  if (row != 0) txn.Save(r.agent(row).rec);
  im.LinkSlot(im.InsertSlot(txn, spec));
  im.Detach(*slot);
  task.kind.task.state = static_cast<uint8_t>(TaskState::kFailed);
  task.kind.task.assignee = 0;
  task.kind.task.lease_deadline_mono = 0;
  task.updated_ns = NowRealNs();
  im.Attach(*slot);
  if (row != 0) {
    r.agent(row).rec.failed += 1;
    r.agent(row).rec.consecutive_failures += 1;
  }
  txn.Commit();
  g.Notify(&r.header().entries_event);
  return Status::Ok();
}

}  // namespace slate
