// The claimer's side of a task: claim, wait for one, renew, complete, fail.
#include <thread>

#include "slate/clock.h"
#include "slate/internal/event_count.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/entry_staging.h"
#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/records.h"
#include "slate/internal/recycled_resize.h"
#include "slate/internal/slot_seal.h"
#include "slate/internal/task_queue.h"
#include "slate/internal/task_time.h"

namespace slate {
using namespace internal;

namespace {

constexpr int kSharedScanLimit = 256;

std::string TaskName(TaskId id) { return "task " + std::to_string(id); }

// A lease's deadline is kept in 32-bit milliseconds (task_time.h).
Status CheckLease(std::chrono::milliseconds lease) {
  if (lease.count() <= 0) return {StatusCode::kInvalidArgument, "lease must be positive"};
  if (lease.count() > kLeaseReachMs)
    return {StatusCode::kInvalidArgument,
            "lease of " + std::to_string(lease.count()) + " ms exceeds 24 days"};
  return Status::Ok();
}

// Reads the clock only for a task that has a deadline.
bool PastDeadline(const Slot& s) {
  return HasDeadline(s.kind.task) && PastDeadline(s.kind.task, s.created_ns, NowRealNs());
}

// The slot of a running task whose current claim is `epoch`, or an error.
// A refusal is recorded as a conflict before returning kStaleEpoch. The
// seal is checked before a refusal here, and before an acceptance by the
// caller's Txn::Save, which comes before any write.
Result<uint32_t> LocateClaim(Pool::Impl& im, TaskId id, uint32_t epoch,
                             const char* op, AgentRef by) {
  auto slot = im.LocateTaskLocked(id, /*check_seal=*/false);
  if (!slot.ok()) return slot.status();
  const TaskFields& t = im.region_.slot(*slot).kind.task;
  if (t.state == static_cast<uint8_t>(TaskState::kRunning) && t.epoch == epoch)
    return *slot;
  RequireSeal(im.region_, *slot);
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
      pick = qs.PendingHead(row, own);
    } else {
      int scanned = 0;
      for (int b = qs.TopBucket(0); b >= 0 && pick == kNil && scanned < kSharedScanLimit;
           b = qs.BucketBelow(0, b)) {
        for (uint32_t i = qs.PendingHead(0, b); i != kNil && scanned < kSharedScanLimit;
             i = qs.Next(i), ++scanned) {
          if (AgentHasCap(row, region_.slot(i).kind.task.requires_hash)) {
            pick = i;
            break;
          }
        }
      }
    }
    if (pick == kNil) return kNil;
    qs.ExpectState(pick, TaskState::kPending);
    if (!PastDeadline(region_.slot(pick))) return pick;
    if (!DeadLetterLocked(g, pick, "deadline exceeded before it started").ok())
      return kNil;  // pool full: leave it; the next claim tries again
  }
}

namespace {

// Claims the task in `slot` for `row`. REQUIRES: the Guard held, the slot
// picked by PickLocked.
void ClaimSlotLocked(Pool::Impl& im, uint32_t slot, uint32_t row,
                     int64_t lease_deadline, int64_t now_real) {
  const Region& r = im.region_;
  Slot& s = r.slot(slot);
  Txn txn(r, OpCode::kClaim);
  txn.Save(s);
  im.Detach(slot);
  TaskFields& t = s.kind.task;
  t.state = static_cast<uint8_t>(TaskState::kRunning);
  t.epoch += 1;
  t.assignee = static_cast<uint16_t>(row);
  t.last_agent = static_cast<uint16_t>(row);
  t.lease_ms = LeaseMs(lease_deadline);
  s.updated_ns = now_real;  // the attempt's start, for failure records
  im.Attach(slot);
  txn.Commit();
}

}  // namespace

Status Pool::ClaimBatch(AgentRef agent, std::chrono::milliseconds lease,
                        size_t max, std::vector<Claim>* out) {
  auto refuse = [out](Status s) {
    out->clear();
    return s;
  };
  if (Status s = impl_->RequireWritable(); !s.ok()) return refuse(s);
  if (agent.is_shared())
    return refuse({StatusCode::kInvalidArgument, "claim needs a registered agent"});
  if (Status s = CheckLease(lease); !s.ok()) return refuse(s);
  Impl& im = *impl_;
  const Region& r = im.region_;
  // Claims already in *out are overwritten in place, so a caller that
  // passes the same vector each time reuses their buffers. The lock holder
  // only notes each claimed entry; it is copied after the lock
  // (StagedEntries::CopyNoted), or under it in a second hold if its slot
  // changed meanwhile, and decoded after that.
  thread_local StagedEntries staged;
  thread_local std::vector<size_t> staged_at;  // per claim; kNone: not staged
  constexpr size_t kNone = SIZE_MAX;
  staged.Clear();
  staged_at.clear();
  size_t n = 0;
  {
    Impl::Guard g(im, LockUse::kClaim);
    if (!g.status().ok()) return refuse(g.status());
    if (Status s = im.CheckAgentLocked(agent); !s.ok()) return refuse(s);
    // One clock reading serves the whole batch: the claims are simultaneous.
    const int64_t lease_deadline = NowMonoNs() + lease.count() * 1'000'000;
    const int64_t now_real = NowRealNs();
    while (n < max) {
      // One claim per repair unit: the batch's earlier claims are committed.
      auto picked = im.RepairingLocked([&]() -> Result<uint32_t> {
        const uint32_t slot = im.PickLocked(g, agent.row);
        if (slot != kNil) ClaimSlotLocked(im, slot, agent.row, lease_deadline, now_real);
        return slot;
      });
      if (!picked.ok() && n == 0) return refuse(picked.status());
      if (!picked.ok() || *picked == kNil) break;
      const uint32_t slot = *picked;
      if (n == out->size()) RecycledResize(out, n + 1);
      TaskFieldsAt(r, slot, &(*out)[n++].task, lease_deadline);
      staged.Note(r, slot);
    }
  }
  RecycledResize(out, n);
  if (staged.CopyNoted(r, true)) {
    for (size_t i = 0; i < n; ++i) staged_at.push_back(i);
  } else {
    // A damaged entry still yields its claim, with an empty entry (Check()
    // reports the damage); so does every entry if the lock is lost.
    Impl::Guard g(im, LockUse::kClaim);
    for (const NotedEntry& e : staged.noted())
      staged_at.push_back(g.status().ok() && staged.Stage(r, e.slot, true) ? staged.size() - 1
                                                                           : kNone);
  }
  for (size_t i = 0; i < n; ++i) {
    Claim& claim = (*out)[i];
    if (staged_at[i] == kNone) {
      claim.entry = Entry{};
      claim.task.requires_cap.clear();
    } else {
      staged.Materialize(staged_at[i], r, &claim.entry, &claim.task.requires_cap);
    }
  }
  return Status::Ok();
}

namespace {

// A batch of at most one, as ClaimNext and WaitClaim return it.
Result<std::optional<Claim>> OneClaim(const Status& s, std::vector<Claim>& claims) {
  if (!s.ok()) return s;
  if (claims.empty()) return std::optional<Claim>();
  return std::optional<Claim>(std::move(claims.front()));
}

}  // namespace

Result<std::optional<Claim>> Pool::ClaimNext(AgentRef agent,
                                             std::chrono::milliseconds lease) {
  std::vector<Claim> claims;
  const Status s = ClaimBatch(agent, lease, 1, &claims);
  return OneClaim(s, claims);
}

void Pool::WakeTakenBackWaiter(AgentRef agent) {
  if (agent.is_shared() || !impl_->region_.ValidAgentRow(agent.row)) return;
  Notify(impl_->region_.agent(agent.row).taken_back);
}

void Pool::AwaitTakenBack(AgentRef agent, std::chrono::milliseconds timeout) {
  if (agent.is_shared() || !impl_->region_.ValidAgentRow(agent.row)) {
    std::this_thread::sleep_for(timeout);
    return;
  }
  EventWord& w = impl_->region_.agent(agent.row).taken_back;
  const uint32_t key = PrepareWait(w);
  (void)WaitFor(w, key, timeout.count() * 1'000'000);
}

Status Pool::WaitClaimBatch(AgentRef agent, std::chrono::milliseconds lease,
                            size_t max, std::chrono::milliseconds timeout,
                            std::vector<Claim>* out) {
  if (agent.is_shared() || !impl_->region_.ValidAgentRow(agent.row)) {
    out->clear();
    return Status{StatusCode::kInvalidArgument, "claim needs a registered agent"};
  }
  // A task that arrives within the spin budget is taken without a syscall
  // on either side.
  Status s;
  AwaitEvent(impl_->region_.agent(agent.row).wake,
             NowMonoNs() + timeout.count() * 1'000'000, impl_->SpinPays(), [&] {
               s = ClaimBatch(agent, lease, max, out);
               return !s.ok() || !out->empty();
             });
  return s;
}

Result<std::optional<Claim>> Pool::WaitClaim(AgentRef agent,
                                             std::chrono::milliseconds lease,
                                             std::chrono::milliseconds timeout) {
  std::vector<Claim> claims;
  const Status s = WaitClaimBatch(agent, lease, 1, timeout, &claims);
  return OneClaim(s, claims);
}

Status Pool::RenewLease(TaskId id, uint32_t epoch,
                        std::chrono::milliseconds lease, AgentRef by) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (Status s = CheckLease(lease); !s.ok()) return s;
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Status {
    auto slot = LocateClaim(im, id, epoch, "renew", by);
    if (!slot.ok()) return slot.status();
    Slot& s = im.region_.slot(*slot);
    Txn txn(im.region_, OpCode::kRenew);
    txn.Save(s);
    s.kind.task.lease_ms = LeaseMs(NowMonoNs() + lease.count() * kNsPerMs);
    txn.Commit();
    return Status::Ok();
  });
}

namespace {

Status ValidateResult(const TaskResult& result, uint32_t max_payload) {
  if (Status s = ValidateTags(result.tags); !s.ok()) return s;
  if (Status s = ValidateImportance(result.importance); !s.ok()) return s;
  return ValidatePayload(result.payload, max_payload);
}

// Complete's transaction. REQUIRES: the Guard held, the item validated.
// `encoded`: the result encoded before the lock when its author was known
// then (`by` given); null: encode here, authored by the claim's holder.
Result<EntryId> CompleteLocked(Pool::Impl& im, const Completion& c, AgentRef by,
                               const SlotSpec* encoded, int64_t now) {
  const Region& r = im.region_;
  auto slot = LocateClaim(im, c.id, c.epoch, "complete", by);
  if (!slot.ok()) return slot.status();
  const uint32_t row = r.slot(*slot).kind.task.assignee;
  SlotSpec local;
  if (encoded == nullptr)
    local = MakeSlotSpec(kSegResults, AgentName(r, row), "", c.result.tags,
                         c.result.importance, c.result.payload);
  const SlotSpec& spec = encoded != nullptr ? *encoded : local;
  // Running tasks are never evicted, so the slot survives this.
  if (Status s = im.Reserve(spec);
      !s.ok())
    return s;
  Slot& task = r.slot(*slot);
  Txn txn(r, OpCode::kComplete);
  txn.Save(task);
  if (row != 0) txn.Save(r.agent(row).rec.tallies);
  const uint32_t res = im.InsertSlot(txn, spec, now, row);
  r.slot(res).kind.result.task_id = c.id;
  r.slot(res).kind.result.epoch = c.epoch;
  // A running task's updated_ns is its claim's start (ClaimLocked).
  r.slot(res).kind.result.run = EncodeRun(r.slot(res).created_ns - task.updated_ns);
  im.LinkSlot(res);
  txn.Point("after_result");
  const auto checkpoint = im.DropCheckpointLocked(txn, *slot);
  if (checkpoint.slot != kNil) txn.Point("after_drop");
  im.Detach(*slot);
  task.kind.task.state = static_cast<uint8_t>(TaskState::kDone);
  task.kind.task.assignee = 0;  // only pending and running tasks have one
  task.kind.task.result_gap = ResultGap(c.id, r.slot(res).id);
  task.updated_ns = r.slot(res).created_ns;
  im.Attach(*slot);
  if (row != 0) {
    r.agent(row).rec.tallies.done += 1;
    r.agent(row).rec.tallies.consecutive_failures = 0;
  }
  txn.Commit();
  im.ReleaseDropped(checkpoint);
  return r.slot(res).id;
}

}  // namespace

void Pool::CompleteBatch(std::span<const Completion> items, AgentRef by,
                         std::vector<Result<EntryId>>* out) {
  out->clear();
  out->reserve(items.size());
  Impl& im = *impl_;
  Status refused = im.RequireWritable();
  // Validation and, when the author is known, encoding need no lock.
  thread_local std::vector<Status> invalid;
  invalid.assign(items.size(), Status::Ok());
  const std::string by_name = refused.ok() && !by.is_shared() ? im.AgentNameOf(by) : "";
  const bool pre_encoded = !by_name.empty();
  SpecScratch& encoded = SpecScratch::Take(pre_encoded ? items.size() : 0);
  for (size_t i = 0; i < items.size() && refused.ok(); ++i) {
    const TaskResult& res = items[i].result;
    invalid[i] = ValidateResult(res, im.region_.geo().max_payload);
    if (invalid[i].ok() && pre_encoded)
      FillSlotSpec(&encoded.At(i), kSegResults, by_name, "", res.tags, res.importance,
                   res.payload, &im);
  }
  std::optional<Impl::Guard> g;
  if (refused.ok()) {
    g.emplace(im, LockUse::kComplete);
    refused = g->status();
  }
  const int64_t now = refused.ok() ? NowRealNs() : 0;  // one stamp for the batch
  bool any = false;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!refused.ok()) {
      out->emplace_back(refused);
    } else if (!invalid[i].ok()) {
      out->emplace_back(invalid[i]);
    } else {
      out->push_back(im.RepairingLocked([&] {
        return CompleteLocked(im, items[i], by, pre_encoded ? &encoded.At(i) : nullptr, now);
      }));
      any = any || out->back().ok();
    }
  }
  if (any) g->Notify(&im.region_.header().entries_event);
}

Result<EntryId> Pool::Complete(TaskId id, uint32_t epoch,
                               const TaskResult& result, AgentRef by) {
  std::vector<Result<EntryId>> out;
  const Completion c{id, epoch, result};
  CompleteBatch(std::span<const Completion>(&c, 1), by, &out);
  return std::move(out.front());
}

namespace {

// Fail's transaction. REQUIRES: the Guard held.
Status FailLocked(Pool::Impl& im, Pool::Impl::Guard& g, TaskId id, uint32_t epoch,
                  const std::string& error, AgentRef by) {
  const Region& r = im.region_;
  auto slot = LocateClaim(im, id, epoch, "fail", by);
  if (!slot.ok()) return slot.status();
  const TaskFields& t0 = r.slot(*slot).kind.task;
  const uint32_t row = t0.assignee;
  const SlotSpec spec = MakeSlotSpec(
      kSegErrors, AgentName(r, row), "",
      {"failure", "task:" + std::to_string(id)}, 0.8f,
      AttemptRecord("failure", id, t0.epoch, AgentName(r, by.is_shared() ? row : by.row), error,
                    r.slot(*slot).updated_ns, NowRealNs()));
  if (Status s = im.Reserve(spec);
      !s.ok())
    return s;
  Slot& task = r.slot(*slot);
  Txn txn(r, OpCode::kFail);
  txn.Save(task);
  if (row != 0) txn.Save(r.agent(row).rec.tallies);
  im.LinkSlot(im.InsertSlot(txn, spec));
  im.Detach(*slot);
  task.kind.task.state = static_cast<uint8_t>(TaskState::kFailed);
  task.kind.task.assignee = 0;
  task.kind.task.lease_ms = 0;
  task.updated_ns = NowRealNs();
  im.Attach(*slot);
  if (row != 0) {
    r.agent(row).rec.tallies.failed += 1;
    r.agent(row).rec.tallies.consecutive_failures += 1;
  }
  txn.Commit();
  g.Notify(&r.header().entries_event);
  return Status::Ok();
}

}  // namespace

Status Pool::Fail(TaskId id, uint32_t epoch, const std::string& error,
                  AgentRef by) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&] { return FailLocked(im, g, id, epoch, error, by); });
}

}  // namespace slate
