// Inspection: stats snapshot and the invariant check.
#include <algorithm>

#include "slate/clock.h"
#include "slate/internal/author_table.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/segment_list.h"

namespace slate {
using namespace internal;

namespace internal {

PoolStats StatsOf(const Region& r, const std::string& name) {
  const Header& h = r.header();
  PoolStats st;
  st.name = name;
  st.region_bytes = r.geo().region_bytes;
  st.lead_term = h.leadership.term;
  st.lead_refused = h.leadership.refused;
  if (h.leadership.holder_row != 0) {
    st.lead_holder = {h.leadership.holder_row, h.leadership.holder_generation};
    st.lead_expires_in_ns = h.leadership.expiry_mono_ns - NowMonoNs();
  }
  st.slot_capacity = r.geo().slot_capacity;
  st.entries = h.derived.entries;
  st.live_entries = h.derived.pinned;
  st.data_bytes_total = uint64_t{r.geo().cell_count} * kCellBytes;
  st.data_bytes_used = (r.geo().cell_count - std::min<uint64_t>(h.derived.cells_free, r.geo().cell_count)) * kCellBytes;
  st.data_free_extents = h.derived.free_extents;
  for (uint32_t i = 0; i < kSegmentCapacity && r.segment(i).rec.used; ++i) {
    const SegmentRow& row = r.segment(i);
    st.segments.push_back({std::string(SegmentList(r).Name(i)), row.count,
                           row.bytes, row.rec.evictions});
  }
  for (int s = 0; s < kTaskStateCount; ++s) st.tasks_by_state[s] = h.derived.tasks[s];
  st.agents_registered = h.derived.agents_registered;
  st.agent_capacity = r.geo().agent_capacity;
  st.authors_kept = AuthorTable(r).Used();
  st.author_rows = kAuthorRows;
  st.next_id = h.counters.next_id;
  st.evictions = h.counters.evictions;
  st.recoveries = h.recoveries;
  st.quarantined = h.derived.quarantined;
  st.stale_completions = h.counters.stale_completions;
  st.commits = h.counters.commits;
  return st;
}

}  // namespace internal

Result<PoolStats> Pool::Stats() const {
  return impl_->WithView([&](const Region& r) -> Result<PoolStats> {
    return StatsOf(r, impl_->name_);
  });
}

Status Pool::CheckMapping() const { return impl_->map_->CheckSize(impl_->name_); }

std::vector<std::string> Pool::Check() const {
  auto out = impl_->WithView([&](const Region& r) -> Result<std::vector<std::string>> {
    return CheckRegion(r);
  });
  if (!out.ok()) return {out.status().ToString()};
  return std::move(out).value();
}

}  // namespace slate
