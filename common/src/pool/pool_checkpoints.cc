// Checkpoints: a running task's saved progress, handed to its next attempt.
//
// A checkpoint is an entry in "checkpoints" whose kind.result names its task
// and the claim that saved it; the task's slot carries kCheckpointed while
// one exists. Both change in one transaction (saving, replacing, dropping),
// so after any death the two agree. Only tasks that checkpoint pay for the
// lookup, a walk of the "checkpoints" list, which holds one entry per
// unfinished task that saved one.
#include "slate/clock.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/journal.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/segment_list.h"

namespace slate {
using namespace internal;

namespace {

std::string TaskTag(TaskId id) { return "task:" + std::to_string(id); }

}  // namespace

namespace internal {

Status RefuseTaskCheckpoint(const Slot& s, const char* verb) {
  return {StatusCode::kWrongState, std::string("cannot ") + verb + " entry " +
                                       std::to_string(s.id) + ": it is the checkpoint of task " +
                                       std::to_string(s.kind.result.task_id) +
                                       ", which goes when the task ends"};
}

}  // namespace internal

uint32_t Pool::Impl::FindCheckpointLocked(TaskId id) const {
  const SegmentList segs(region_);
  for (uint32_t i = segs.Head(kSegCheckpoints); i != kNil; i = segs.Next(i))
    if (region_.slot(i).kind.result.task_id == id) return i;
  return kNil;
}

Pool::Impl::DroppedCheckpoint Pool::Impl::DropCheckpointLocked(Txn& txn, uint32_t task) {
  Slot& t = region_.slot(task);
  if ((t.flags & kCheckpointed) == 0) return {};
  t.flags = static_cast<uint8_t>(t.flags & ~kCheckpointed);
  const uint32_t cp = FindCheckpointLocked(t.id);
  if (cp == kNil) return {};  // the checker reports a flag without a checkpoint
  Slot& c = region_.slot(cp);
  const DataRef data = DataRef::Of(c);
  txn.Save(c);
  UnlinkSlot(cp);
  c.state = static_cast<uint8_t>(SlotState::kFree);
  return {cp, data};
}

void Pool::Impl::ReleaseDropped(const DroppedCheckpoint& d) {
  if (d.slot != kNil) ReleaseSlot(d.slot, d.data);
}

Result<EntryId> Pool::SaveCheckpoint(TaskId id, uint32_t epoch,
                                     const std::vector<uint8_t>& payload, AgentRef by) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  Impl& im = *impl_;
  if (Status s = ValidatePayload(payload, im.region_.geo().max_payload); !s.ok()) return s;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Result<EntryId> {
    const Region& r = im.region_;
    auto slot = im.LocateTaskLocked(id);
    if (!slot.ok()) return slot.status();
    const TaskFields& f = r.slot(*slot).kind.task;
    // The claim's holder may save until the task is claimed again or ends:
    // a preempted or cancelled command saves on SIGTERM, after its task
    // went back to the queue at the same epoch.
    const auto state = static_cast<TaskState>(f.state);
    if (IsFinal(state) || f.epoch != epoch || epoch == 0 ||
        (!by.is_shared() && f.last_agent != by.row)) {
      const std::string why = "task " + std::to_string(id) + ": checkpoint with epoch " +
                              std::to_string(epoch) + " refused; the task is " +
                              TaskStateName(state) + " at epoch " +
                              std::to_string(f.epoch);
      im.RecordStaleLocked(*slot, epoch, "checkpoint", by);
      return Status{StatusCode::kStaleEpoch, why};
    }
    SlotSpec spec = MakeSlotSpec(kSegCheckpoints, AgentName(r, f.last_agent), "",
                                 {"checkpoint", TaskTag(id)}, 0.5f, payload);
    spec.flags = kKeep;  // pinned until its task ends
    // Unfinished tasks and kept entries are never evicted: both slots survive.
    if (Status s = im.Reserve(spec); !s.ok()) return s;
    Slot& task = r.slot(*slot);
    Txn txn(r, OpCode::kCheckpoint);
    txn.Save(task);
    const Impl::DroppedCheckpoint old = im.DropCheckpointLocked(txn, *slot);
    txn.Point("after_drop");
    const uint32_t cp = im.InsertSlot(txn, spec);
    r.slot(cp).kind.result.task_id = id;
    r.slot(cp).kind.result.epoch = epoch;
    im.LinkSlot(cp);
    task.flags = static_cast<uint8_t>(task.flags | kCheckpointed);
    txn.Commit();
    im.ReleaseDropped(old);
    return r.slot(cp).id;
  });
}

Result<Entry> Pool::LastCheckpoint(TaskId id) const {
  Query q;
  q.segments = {segments::kCheckpoints};
  q.all_tags = {TaskTag(id)};
  q.limit = 1;
  auto found = Find(q);
  if (!found.ok()) return found.status();
  if (found->empty())
    return Status{StatusCode::kNotFound, "task " + std::to_string(id) + " has no checkpoint"};
  return std::move(found->front());
}

}  // namespace slate
