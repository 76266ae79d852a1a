// The supervisors' lead (layout.h, Leadership): a term held by one agent,
// taken and renewed in one transaction under the lock.
#include "slate/clock.h"
#include "slate/internal/journal.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/process_info.h"
#include "slate/internal/records.h"

namespace slate {
using namespace internal;

namespace {

// Whether the lead's holder is still a registered agent of that
// generation with a live process.
bool HolderAlive(const Region& r, const Leadership& lead) {
  if (lead.holder_row == 0 || !r.ValidAgentRow(lead.holder_row)) return false;
  const AgentRecord& a = r.agent(lead.holder_row).rec;
  return a.state == 1 && a.generation == lead.holder_generation &&
         ProcessAlive(a.pid, a.start_time);
}

}  // namespace

Result<uint64_t> Pool::AcquireLeadership(AgentRef me, std::chrono::milliseconds lease,
                                         uint64_t held_term) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (lease.count() <= 0)
    return Status{StatusCode::kInvalidArgument, "a lead's lease must be positive"};
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Result<uint64_t> {
    if (Status s = im.CheckAgentLocked(me); !s.ok()) return s;
    const Region& r = im.region_;
    Leadership& lead = r.header().leadership;
    const bool mine = lead.holder_row == me.row && lead.holder_generation == me.generation;
    if (held_term != 0 && (held_term != lead.term || !mine))
      return Status{StatusCode::kStaleTerm,
                    "lost the lead: term " + std::to_string(held_term) + " is over (term " +
                        std::to_string(lead.term) + " now" +
                        (lead.holder_row != 0 ? ", held by '" + AgentName(r, lead.holder_row) + "'"
                                              : std::string()) +
                        ")"};
    const int64_t now = NowMonoNs();
    if (!mine && HolderAlive(r, lead) && lead.expiry_mono_ns > now) {
      const AgentRecord& a = r.agent(lead.holder_row).rec;
      return Status{StatusCode::kAlreadyExists,
                    "'" + AgentName(r, lead.holder_row) + "' (pid " + std::to_string(a.pid) +
                        ") leads this pool in term " + std::to_string(lead.term)};
    }
    Txn txn(r, OpCode::kLead);
    txn.Save(lead);
    txn.Point("begin");
    if (!mine) {
      lead.term += 1;
      lead.holder_row = me.row;
      lead.holder_generation = me.generation;
    }
    lead.expiry_mono_ns = now + std::chrono::nanoseconds(lease).count();
    txn.Point("before_commit");
    txn.Commit();
    txn.Point("after_commit");
    return lead.term;
  });
}

void Pool::FenceByLead(AgentRef me, uint64_t term) {
  impl_->fence_ = {me.row, me.generation, term};
}

Status Pool::Impl::CheckFenceLocked() const {
  const Leadership& held = region_.header().leadership;
  if (held.term == fence_.term && held.holder_row == fence_.row &&
      held.holder_generation == fence_.generation)
    return Status::Ok();
  const std::string holder = held.holder_row != 0 ? AgentName(region_, held.holder_row) : "";
  const std::string me = AgentName(region_, fence_.row);
  Status refused{StatusCode::kStaleTerm,
                 "term " + std::to_string(fence_.term) + " is over (term " +
                     std::to_string(held.term) + " now" +
                     (holder.empty() ? std::string(", held by nobody")
                                     : ", held by '" + holder + "'") +
                     "): the change is refused"};
  // Recording is best effort: a damaged region or a full pool must not
  // turn a refusal into anything else. Nothing here may throw: the
  // Guard's constructor has the lock and no destructor to give it back.
  try {
    auto& im = const_cast<Pool::Impl&>(*this);  // an Impl is never const itself
    (void)RepairingLocked([&]() -> Status {
      const SlotSpec spec =
          MakeSlotSpec(kSegConflicts, "pool", "", {"stale-term"}, 0.9f,
                       StaleTermRecord(fence_.term, held.term, holder, me));
      const bool room = im.Reserve(spec).ok();
      Leadership& lead = region_.header().leadership;
      Txn txn(region_, OpCode::kStale);
      txn.Save(lead);
      lead.refused += 1;
      if (room) im.LinkSlot(im.InsertSlot(txn, spec));
      txn.Commit();
      return Status::Ok();
    });
  } catch (...) {
  }
  return refused;
}

Result<LeaderInfo> Pool::Leader() const {
  return impl_->WithView([&](const Region& r) -> Result<LeaderInfo> {
    const Leadership& lead = r.header().leadership;
    LeaderInfo info;
    info.term = lead.term;
    if (lead.holder_row == 0 || !r.ValidAgentRow(lead.holder_row)) return info;
    info.holder = {lead.holder_row, lead.holder_generation};
    info.name = AgentName(r, lead.holder_row);
    info.pid = r.agent(lead.holder_row).rec.pid;
    info.start_time = r.agent(lead.holder_row).rec.start_time;
    info.expires_in_ns = lead.expiry_mono_ns - NowMonoNs();
    info.alive = HolderAlive(r, lead);
    return info;
  });
}

}  // namespace slate
