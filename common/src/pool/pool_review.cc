// Review: a person's answer to a held task. Hold and the reject (EndTask)
// and the retry (ResumeHeld) live with the other task moves in
// pool_tasks.cc; AcceptHeld records a result as Complete does, without a
// claim.
#include "slate/clock.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/task_time.h"

namespace slate {
using namespace internal;

Result<EntryId> Pool::AcceptHeld(TaskId id, const TaskResult& result,
                                 const std::string& author) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (Status s = ValidateTags(result.tags); !s.ok()) return s;
  if (Status s = ValidateImportance(result.importance); !s.ok()) return s;
  if (Status s = ValidateAuthor(author); !s.ok()) return s;
  Impl& im = *impl_;
  if (Status s = ValidatePayload(result.payload, im.region_.geo().max_payload); !s.ok())
    return s;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  auto out = im.RepairingLocked([&]() -> Result<EntryId> {
    const Region& r = im.region_;
    auto slot = im.LocateTaskLocked(id);
    if (!slot.ok()) return slot.status();
    const auto state = static_cast<TaskState>(r.slot(*slot).kind.task.state);
    if (state != TaskState::kHeld)
      return Status{StatusCode::kWrongState, "cannot accept a result for task " +
                                                 std::to_string(id) + ": it is " +
                                                 TaskStateName(state) + ", not held"};
    const SlotSpec spec =
        MakeSlotSpec(kSegResults, author, "", result.tags, result.importance, result.payload);
    // A held task is not final, so pinned: the reserve cannot evict it.
    if (Status s = im.Reserve(spec); !s.ok()) return s;
    Slot& task = r.slot(*slot);
    Txn txn(r, OpCode::kAccept);
    txn.Save(task);
    const uint32_t res = im.InsertSlot(txn, spec);
    r.slot(res).kind.result.task_id = id;
    r.slot(res).kind.result.epoch = task.kind.task.epoch;
    im.LinkSlot(res);
    txn.Point("after_result");
    const auto checkpoint = im.DropCheckpointLocked(txn, *slot);
    im.Detach(*slot);
    task.kind.task.state = static_cast<uint8_t>(TaskState::kDone);
    task.kind.task.result_gap = ResultGap(id, r.slot(res).id);
    task.updated_ns = r.slot(res).created_ns;
    im.Attach(*slot);
    txn.Commit();
    im.ReleaseDropped(checkpoint);
    return r.slot(res).id;
  });
  if (out.ok()) g.Notify(&im.region_.header().entries_event);
  return out;
}

}  // namespace slate
