// The supervisors' lead (layout.h, Leadership): a term held by one agent,
// taken and renewed in one transaction under the lock.
#include "slate/clock.h"
#include "slate/internal/journal.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/process_info.h"

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
      return Status{StatusCode::kStaleEpoch,
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

Result<LeaderInfo> Pool::Leader() const {
  return impl_->WithView([&](const Region& r) -> Result<LeaderInfo> {
    const Leadership& lead = r.header().leadership;
    LeaderInfo info;
    info.term = lead.term;
    if (lead.holder_row == 0 || !r.ValidAgentRow(lead.holder_row)) return info;
    info.holder = {lead.holder_row, lead.holder_generation};
    info.name = AgentName(r, lead.holder_row);
    info.pid = r.agent(lead.holder_row).rec.pid;
    info.expires_in_ns = lead.expiry_mono_ns - NowMonoNs();
    info.alive = HolderAlive(r, lead);
    return info;
  });
}

}  // namespace slate
