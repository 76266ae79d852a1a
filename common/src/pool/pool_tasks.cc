// Tasks: post, claim, renew, complete, fail, reassign, retry, dead-letter.
#include <algorithm>
#include <optional>
#include <cstring>

#include "slate/clock.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/event_count.h"
#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/records.h"
#include "slate/internal/slot_seal.h"
#include "slate/internal/task_queue.h"
#include "slate/internal/task_time.h"

namespace slate {
using namespace internal;

namespace {

using Ms = std::chrono::milliseconds;

std::string TaskName(TaskId id) { return "task " + std::to_string(id); }

}  // namespace

const char* TaskStateName(TaskState s) {
  switch (s) {
    case TaskState::kPending: return "pending";
    case TaskState::kRunning: return "running";
    case TaskState::kDone: return "done";
    case TaskState::kFailed: return "failed";
    case TaskState::kDeadLettered: return "dead_lettered";
    case TaskState::kWaiting: return "waiting";
    case TaskState::kHeld: return "held";
    case TaskState::kSkipped: return "skipped";
    case TaskState::kCancelled: return "cancelled";
  }
  return "invalid";
}

namespace internal {

EntryId ResultIdOf(const Region& r, uint32_t slot) {
  const Slot& s = r.slot(slot);
  if (s.kind.task.state != static_cast<uint8_t>(TaskState::kDone)) return 0;
  if (s.kind.task.result_gap != 0) return s.id + s.kind.task.result_gap;
  // Written more than 2^32 entries after its task: find it by its task id.
  uint32_t i = r.segment(kSegResults).head;
  for (uint64_t n = 0; i != kNil; ++n, i = r.slot(i).seg_next) {
    if (n >= r.geo().slot_capacity) ThrowCorrupt("results list loops");
    if (r.CheckedSlot(i, "results list").kind.result.task_id == s.id) return r.slot(i).id;
  }
  return 0;  // evicted after it was aggregated
}

void TaskFieldsAt(const Region& r, uint32_t slot, TaskInfo* info, int64_t mono_ref) {
  const Slot& s = r.slot(slot);
  const TaskFields& t = s.kind.task;
  info->id = s.id;
  info->state = static_cast<TaskState>(t.state);
  info->priority = t.priority;
  info->attempts = t.epoch;
  info->max_retries = t.max_retries;
  info->timeout_ms = t.timeout_ms;
  info->deadline_ns = DeadlineNs(t, s.created_ns);
  info->epoch = t.epoch;
  info->lease_deadline_mono_ns = 0;
  if (t.state == static_cast<uint8_t>(TaskState::kRunning))
    info->lease_deadline_mono_ns = LeaseDeadlineNs(t.lease_ms, mono_ref != 0 ? mono_ref : NowMonoNs());
  auto ref = [&](uint32_t row) {
    return r.ValidAgentRow(row) ? AgentRef{row, r.agent(row).rec.generation}
                                : kSharedQueue;
  };
  info->assignee = ref(t.assignee);
  info->last_agent = ref(t.last_agent);
  info->result_id = ResultIdOf(r, slot);
  info->checkpointed = (s.flags & kCheckpointed) != 0;
  info->created_ns = s.created_ns;
}

TaskInfo TaskInfoAt(const Region& r, uint32_t slot) {
  TaskInfo info;
  TaskFieldsAt(r, slot, &info);
  DataPrefix prefix;
  if (ReadPrefixAt(r, slot, &prefix)) info.requires_cap = prefix.requires_cap;
  return info;
}

}  // namespace internal

Status Pool::Impl::CheckAgentLocked(AgentRef ref) const {
  if (ref.is_shared()) return Status::Ok();
  if (!region_.ValidAgentRow(ref.row) ||
      region_.agent(ref.row).rec.state != 1 ||
      region_.agent(ref.row).rec.generation != ref.generation)
    return {StatusCode::kNotFound,
            "agent row " + std::to_string(ref.row) + " (generation " +
                std::to_string(ref.generation) +
                ") is not registered in pool '" + name_ + "'"};
  return Status::Ok();
}

bool Pool::Impl::AgentHasCap(uint32_t row, uint32_t requires_hash) const {
  if (row == 0) return true;
  const AgentRecord& a = region_.agent(row).rec;
  if (a.role == static_cast<uint32_t>(AgentRole::kSupervisor)) return true;
  // A sub-supervisor runs only what its team is for.
  if (requires_hash == 0) return a.role != static_cast<uint32_t>(AgentRole::kSubSupervisor);
  for (uint32_t i = 0; i < a.ncaps && i < kMaxCapabilities; ++i)
    if (a.cap_hash[i] == requires_hash) return true;
  return false;
}

void Pool::Impl::RecordStaleLocked(uint32_t slot, uint32_t epoch,
                                   const char* op, AgentRef by) {
  const Slot& s = region_.slot(slot);
  const TaskFields& t = s.kind.task;
  const std::vector<uint8_t> payload =
      StaleRecord(op, s.id, epoch, t.epoch,
                  TaskStateName(static_cast<TaskState>(t.state)),
                  AgentName(region_, t.last_agent),
                  by.is_shared() ? "" : AgentName(region_, by.row));
  const std::vector<std::string> tags = {"stale-epoch",
                                         "task:" + std::to_string(s.id)};
  const SlotSpec spec =
      MakeSlotSpec(kSegConflicts, "pool", "", tags, 0.9f, payload);
  const bool room = Reserve(spec).ok();
  Txn txn(region_, OpCode::kStale);
  region_.header().counters.stale_completions += 1;
  if (room) LinkSlot(InsertSlot(txn, spec));
  txn.Commit();
}

namespace {

Status ValidateTaskSpec(const TaskSpec& spec, uint32_t max_payload) {
  const NewEntry& e = spec.entry;
  if (Status s = ValidateTags(e.tags); !s.ok()) return s;
  if (Status s = ValidateAuthor(e.author); !s.ok()) return s;
  if (Status s = ValidateImportance(e.importance); !s.ok()) return s;
  if (Status s = ValidatePayload(e.payload, max_payload); !s.ok()) return s;
  if (spec.priority < kMinPriority || spec.priority > kMaxPriority)
    return Status{StatusCode::kInvalidArgument,
                  "priority " + std::to_string(spec.priority) +
                      " is outside [-128, 127]"};
  if (spec.max_retries > kMaxRetriesLimit)
    return Status{StatusCode::kInvalidArgument,
                  "max retries " + std::to_string(spec.max_retries) +
                      " exceeds 255"};
  if (spec.waiting && !spec.assignee.is_shared())
    return Status{StatusCode::kInvalidArgument,
                  "a waiting task is in no queue: MakeReady names its assignee"};
  if (!spec.requires_cap.empty() &&
      !IsValidName(spec.requires_cap, kMaxRequiresBytes))
    return Status{StatusCode::kInvalidArgument,
                  "required capability '" + spec.requires_cap.substr(0, 80) +
                      "' must be 1 to 32 characters of [A-Za-z0-9._-]"};
  return Status::Ok();
}

// PostTask's transaction. REQUIRES: the Guard held, spec validated and
// encoded into ss.
std::string OnlyRequiredRefusal(const Region& r, uint32_t row) {
  return "agent '" + AgentName(r, row) +
         "' is a sub-supervisor: it takes only tasks that require its capability";
}

Result<TaskId> PostLocked(Pool::Impl& im, Pool::Impl::Guard& g,
                          const TaskSpec& spec, const SlotSpec& ss, int64_t now) {
  const Region& r = im.region_;
  if (Status s = im.CheckAgentLocked(spec.assignee); !s.ok()) return s;
  const uint32_t req = spec.requires_cap.empty() ? 0 : Hash32(spec.requires_cap);
  if (!im.AgentHasCap(spec.assignee.row, req))
    return Status{StatusCode::kInvalidArgument,
                  req == 0 ? OnlyRequiredRefusal(r, spec.assignee.row)
                           : "agent '" + AgentName(r, spec.assignee.row) +
                                 "' lacks capability '" + spec.requires_cap + "'"};
  if (Status s = im.Reserve(ss);
      !s.ok())
    return s;
  Txn txn(r, OpCode::kPost);
  const uint32_t slot = im.InsertSlot(txn, ss, now, spec.assignee.row);
  TaskFields& t = r.slot(slot).kind.task;
  t.state = static_cast<uint8_t>(spec.waiting ? TaskState::kWaiting : TaskState::kPending);
  t.priority = static_cast<int8_t>(spec.priority);
  t.max_retries = static_cast<uint8_t>(spec.max_retries);
  t.assignee = static_cast<uint16_t>(spec.assignee.row);
  t.requires_hash = req;
  t.timeout_ms = spec.timeout_ms;
  SetDeadline(&t, spec.deadline_ns, now);
  t.q_prev = t.q_next = kNil;
  im.LinkSlot(slot);
  txn.Commit();
  if (!spec.waiting) im.NotifyQueue(g, spec.assignee.row);
  return r.slot(slot).id;
}

}  // namespace

Status Pool::PostTasks(std::span<const TaskSpec> specs, std::vector<TaskId>* ids) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  // Validation and encoding need no lock; a bad spec stops the batch there.
  SpecScratch& encoded = SpecScratch::Take(specs.size());
  size_t valid = 0;
  Status invalid;
  for (const TaskSpec& spec : specs) {
    invalid = ValidateTaskSpec(spec, impl_->region_.geo().max_payload);
    if (!invalid.ok()) break;
    const NewEntry& e = spec.entry;
    SlotSpec& ss = encoded.At(valid++);
    FillSlotSpec(&ss, kSegTasks, e.author, spec.requires_cap, e.tags, e.importance, e.payload,
                 impl_.get());
    if (e.keep) ss.flags |= kKeep;
  }
  if (valid == 0) return invalid;
  Impl& im = *impl_;
  Impl::Guard g(im, LockUse::kPost);
  if (!g.status().ok()) return g.status();
  Status outcome = invalid;
  size_t posted = 0;
  const int64_t now = NowRealNs();  // one stamp for the batch
  for (size_t i = 0; i < valid; ++i, ++posted) {
    auto id = im.RepairingLocked([&] { return PostLocked(im, g, specs[i], encoded.At(i), now); });
    if (!id.ok()) {
      outcome = id.status();
      break;
    }
    ids->push_back(*id);
  }
  if (posted > 0) g.Notify(&im.region_.header().entries_event);
  return outcome;
}

Result<TaskId> Pool::PostTask(const TaskSpec& spec) {
  std::vector<TaskId> ids;
  if (Status s = PostTasks(std::span<const TaskSpec>(&spec, 1), &ids); !s.ok())
    return s;
  return ids.front();
}

Result<TaskInfo> Pool::GetTask(TaskId id) const {
  return impl_->WithView([&](const Region& r) -> Result<TaskInfo> {
    const uint32_t slot = IdIndex(r).Find(id);
    if (slot == kNil || r.slot(slot).segment != kSegTasks)
      return Status{StatusCode::kNotFound, TaskName(id) + " not found in pool '" +
                                               impl_->name_ + "'"};
    // A scribbled task's fields are nobody's: a writable view repairs
    // (quarantines it) and looks again; a read-only one reports it.
    RequireSeal(r, slot);
    return TaskInfoAt(r, slot);
  });
}

Result<std::vector<TaskInfo>> Pool::GetTasks(std::span<const TaskId> ids) const {
  return impl_->WithView([&](const Region& r) -> Result<std::vector<TaskInfo>> {
    std::vector<TaskInfo> out;
    out.reserve(ids.size());
    const IdIndex index(r);
    for (TaskId id : ids) {
      const uint32_t slot = index.Find(id);
      if (slot == kNil || r.slot(slot).segment != kSegTasks) continue;
      RequireSeal(r, slot);
      out.push_back(TaskInfoAt(r, slot));
    }
    return out;
  });
}

}  // namespace slate

namespace slate {
using namespace internal;

namespace {

// Moves a pending, running or failed task to target's pending queue.
// A running task taken away from its holder leaves a "lost" record in
// "errors", written in the same transaction, so its history is whole
// whoever takes it back.
// How a requeue records itself and what it gives back. A resumed task
// (kAll) is allowed as many attempts again as it had, a preempted one
// (kOne) the attempt it lost; its epoch, the claim fence, never goes back.
struct RequeueHow {
  OpCode op = OpCode::kRequeue;
  const char* record = "lost";  // the tag of a running task's record
  enum Renew : uint8_t { kNone, kAll, kOne } renew = kNone;
};

Status Requeue(Pool::Impl& im, TaskId id, AgentRef target,
               std::initializer_list<TaskState> from, const char* verb,
               const std::string& reason, RequeueHow how = {}) {
  if (Status s = im.RequireWritable(); !s.ok()) return s;
  Pool::Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Status {
    const Region& r = im.region_;
    auto slot = im.LocateTaskLocked(id);
    if (!slot.ok()) return slot.status();
    Slot& s = r.slot(*slot);
    const auto state = static_cast<TaskState>(s.kind.task.state);
    if (std::find(from.begin(), from.end(), state) == from.end())
      return {StatusCode::kWrongState, "cannot " + std::string(verb) + " task " +
                                           std::to_string(id) + ": it is " +
                                           TaskStateName(state)};
    if (Status st = im.CheckAgentLocked(target); !st.ok()) return st;
    if (!im.AgentHasCap(target.row, s.kind.task.requires_hash))
      return {StatusCode::kInvalidArgument,
              s.kind.task.requires_hash == 0
                  ? OnlyRequiredRefusal(r, target.row)
                  : "agent '" + AgentName(r, target.row) + "' lacks the capability task " +
                        std::to_string(id) + " requires"};
    std::optional<SlotSpec> lost;
    const uint32_t holder_row = state == TaskState::kRunning ? s.kind.task.assignee : 0;
    if (state == TaskState::kRunning) {
      const TaskFields& t = s.kind.task;
      const std::string holder = AgentName(r, t.assignee);
      lost = MakeSlotSpec(
          kSegErrors, "pool", "", {how.record, "task:" + std::to_string(id)}, 0.8f,
          AttemptRecord(how.record, id, t.epoch, holder,
                     reason.empty() ? "taken from '" + holder + "' while running" : reason,
                     s.updated_ns, NowRealNs()));
      if (Status st = im.Reserve(*lost);
          !st.ok())
        return st;
    }
    Txn txn(r, how.op);
    txn.Save(s);
    if (lost) im.LinkSlot(im.InsertSlot(txn, *lost));
    im.Detach(*slot);
    s.kind.task.state = static_cast<uint8_t>(TaskState::kPending);
    s.kind.task.assignee = static_cast<uint16_t>(target.row);
    s.kind.task.lease_ms = 0;
    const uint32_t renewed = how.renew == RequeueHow::kAll   ? s.kind.task.epoch
                             : how.renew == RequeueHow::kOne ? 1
                                                             : 0;
    s.kind.task.max_retries = static_cast<uint8_t>(
        std::min<uint32_t>(kMaxRetriesLimit, s.kind.task.max_retries + renewed));
    s.updated_ns = NowRealNs();
    im.Attach(*slot);
    txn.Commit();
    im.NotifyQueue(g, target.row);
    im.NotifyTakenBack(g, holder_row);  // the holder stops at once
    return Status::Ok();
  });
}

}  // namespace

Status Pool::Reassign(TaskId id, AgentRef target, const std::string& reason) {
  return Requeue(*impl_, id, target, {TaskState::kPending, TaskState::kRunning},
                 "reassign", reason);
}

Status Pool::Retry(TaskId id, AgentRef target) {
  return Requeue(*impl_, id, target, {TaskState::kFailed}, "retry", "");
}

Status Pool::MakeReady(TaskId id, AgentRef target) {
  return Requeue(*impl_, id, target, {TaskState::kWaiting}, "make ready", "");
}

Status Pool::ResumeHeld(TaskId id, AgentRef target) {
  return Requeue(*impl_, id, target, {TaskState::kHeld}, "resume", "",
                 {OpCode::kResume, "lost", RequeueHow::kAll});
}

Status Pool::Preempt(TaskId id, AgentRef target, const std::string& reason) {
  return Requeue(*impl_, id, target, {TaskState::kRunning}, "preempt", reason,
                 {OpCode::kPreempt, "preempted", RequeueHow::kOne});
}

namespace {

// The tag an ending (or a hold) leaves in "errors".
const char* EndingTag(TaskState end) {
  switch (end) {
    case TaskState::kSkipped: return "skipped";
    case TaskState::kCancelled: return "cancelled";
    case TaskState::kHeld: return "held";
    default: return "dead-letter";
  }
}

}  // namespace

Result<EntryId> Pool::Impl::DeadLetterLocked(Guard& g, uint32_t slot,
                                             const std::string& reason, TaskState end) {
  const Region& r = region_;
  const TaskFields& t = r.slot(slot).kind.task;
  const TaskId id = r.slot(slot).id;
  // The task's failure and loss records so far, oldest first.
  Query hq;
  hq.segments = {segments::kErrors};
  hq.all_tags = {"task:" + std::to_string(id)};
  hq.limit = 64;
  std::vector<std::vector<uint8_t>> history;
  if (auto found = FindIn(r, hq); found.ok())
    for (auto& e : *found) history.push_back(std::move(e.payload));
  // Bounded: a dead letter must fit the pool whatever the history, so the
  // oldest records go first.
  size_t bytes = 0;
  for (const auto& h : history) bytes += h.size();
  while (!history.empty() && bytes > r.geo().max_payload / 2) {
    bytes -= history.front().size();
    history.erase(history.begin());
  }
  const std::vector<uint8_t> payload =
      DeadLetterRecord(end == TaskState::kDeadLettered ? "dead_letter" : TaskStateName(end), id,
                       t.epoch, AgentName(r, t.last_agent), reason, history);
  const SlotSpec spec = MakeSlotSpec(
      kSegErrors, "pool", "", {EndingTag(end), "task:" + std::to_string(id)},
      1.0f, payload);
  if (Status s = Reserve(spec);
      !s.ok())
    return s;
  Txn txn(r, end == TaskState::kHeld ? OpCode::kHold : OpCode::kDeadLetter);
  Slot& s = r.slot(slot);
  const uint32_t holder_row =
      s.kind.task.state == static_cast<uint8_t>(TaskState::kRunning) ? s.kind.task.assignee : 0;
  txn.Save(s);
  const uint32_t err = InsertSlot(txn, spec);
  LinkSlot(err);
  // A held task keeps its checkpoint for the person's retry.
  const DroppedCheckpoint checkpoint = end == TaskState::kHeld ? DroppedCheckpoint{}
                                                               : DropCheckpointLocked(txn, slot);
  Detach(slot);
  s.kind.task.state = static_cast<uint8_t>(end);
  s.kind.task.assignee = 0;
  s.kind.task.lease_ms = 0;
  s.updated_ns = NowRealNs();
  Attach(slot);
  txn.Commit();
  ReleaseDropped(checkpoint);
  g.Notify(&r.header().entries_event);
  NotifyTakenBack(g, holder_row);  // a running task's holder stops at once
  return r.slot(err).id;
}

Result<EntryId> Pool::DeadLetter(TaskId id, const std::string& reason) {
  return EndTask(id, TaskState::kDeadLettered, reason);
}

namespace {

// EndTask's and Hold's transaction: `to` a final state without a result,
// or held, from the states `allowed` says.
template <typename Allowed>
Result<EntryId> SetAside(Pool::Impl& im, TaskId id, TaskState to, const std::string& reason,
                         Allowed allowed) {
  if (Status s = im.RequireWritable(); !s.ok()) return s;
  Pool::Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Result<EntryId> {
    auto slot = im.LocateTaskLocked(id);
    if (!slot.ok()) return slot.status();
    const auto state = static_cast<TaskState>(im.region_.slot(*slot).kind.task.state);
    if (!allowed(state))
      return Status{StatusCode::kWrongState,
                    to == TaskState::kHeld
                        ? "cannot hold " + TaskName(id) + ": it is " + TaskStateName(state)
                        : TaskName(id) + " is already " + TaskStateName(state)};
    return im.DeadLetterLocked(g, *slot, reason, to);
  });
}

}  // namespace

Result<EntryId> Pool::EndTask(TaskId id, TaskState end, const std::string& reason) {
  if (!IsEnding(end))
    return Status{StatusCode::kInvalidArgument,
                  std::string("a task cannot be ended as ") + TaskStateName(end)};
  return SetAside(*impl_, id, end, reason, [](TaskState s) { return !IsFinal(s); });
}

Result<EntryId> Pool::Hold(TaskId id, const std::string& reason) {
  return SetAside(*impl_, id, TaskState::kHeld, reason, [](TaskState s) {
    return s == TaskState::kFailed || s == TaskState::kPending || s == TaskState::kWaiting;
  });
}

namespace {

// The first task of a pending bucket with id >= lo (kNil: none), walking
// from both ends at once: the steps are those to the nearer end.
uint32_t FirstFrom(const Region& r, const TaskQueues& qs, uint32_t row, int bucket, TaskId lo) {
  uint32_t fwd = qs.PendingHead(row, bucket);
  if (lo == 0) return fwd;
  uint32_t back = qs.PendingTail(row, bucket);
  for (uint64_t n = 0;; ++n) {
    if (n > r.geo().slot_capacity) ThrowCorrupt("pending queue loops");
    if (fwd == kNil || r.slot(fwd).id >= lo) return fwd;
    if (back == kNil) return qs.PendingHead(row, bucket);  // all from lo on
    if (r.slot(back).id < lo) return qs.Next(back);
    fwd = qs.Next(fwd);
    back = qs.Prev(back);
  }
}

}  // namespace

Result<std::vector<TaskId>> Pool::PendingTasks(AgentRef queue, uint32_t limit,
                                               uint32_t per_priority, TaskIdRange ids) const {
  return impl_->WithView([&](const Region& r) -> Result<std::vector<TaskId>> {
    if (!queue.is_shared() && !r.ValidAgentRow(queue.row))
      return Status{StatusCode::kNotFound, "no agent row " + std::to_string(queue.row)};
    std::vector<TaskId> out;
    TaskQueues qs(r);
    for (int b = qs.TopBucket(queue.row); b >= 0; b = qs.BucketBelow(queue.row, b)) {
      uint32_t i = FirstFrom(r, qs, queue.row, b, ids.lo);
      for (uint64_t n = 0; i != kNil && (per_priority == 0 || n < per_priority);
           ++n, i = qs.Next(i)) {
        if (n >= r.geo().slot_capacity) ThrowCorrupt("pending queue loops");
        if (limit != 0 && out.size() >= limit) return out;
        qs.ExpectState(i, TaskState::kPending);
        if (r.slot(i).id >= ids.hi) break;  // ascending: the rest are past the range
        out.push_back(r.slot(i).id);
      }
    }
    return out;
  });
}

Result<std::vector<TaskInfo>> Pool::ExpiredLeases() const {
  return impl_->WithView([&](const Region& r) -> Result<std::vector<TaskInfo>> {
    const int64_t now = NowMonoNs();
    std::vector<TaskInfo> out;
    TaskQueues qs(r);
    for (uint32_t row = 0; row <= r.geo().agent_capacity; ++row) {
      uint32_t i = qs.RunningHead(row);
      for (uint64_t n = 0; i != kNil; ++n, i = qs.Next(i)) {
        if (n >= r.geo().slot_capacity) ThrowCorrupt("running list loops");
        qs.ExpectState(i, TaskState::kRunning);
        if (LeaseExpired(r.slot(i).kind.task.lease_ms, now)) out.push_back(TaskInfoAt(r, i));
      }
    }
    return out;
  });
}

Result<std::vector<TaskId>> Pool::RunningTasks(AgentRef agent) const {
  return impl_->WithView([&](const Region& r) -> Result<std::vector<TaskId>> {
    if (!agent.is_shared() && !r.ValidAgentRow(agent.row))
      return Status{StatusCode::kNotFound, "no agent row " + std::to_string(agent.row)};
    std::vector<TaskId> out;
    TaskQueues qs(r);
    uint32_t i = qs.RunningHead(agent.row);
    for (uint64_t n = 0; i != kNil; ++n, i = qs.Next(i)) {
      if (n >= r.geo().slot_capacity) ThrowCorrupt("running list loops");
      qs.ExpectState(i, TaskState::kRunning);
      out.push_back(r.slot(i).id);
    }
    std::sort(out.begin(), out.end());
    return out;
  });
}

}  // namespace slate
