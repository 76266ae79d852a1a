#include "slate/internal/entry_staging.h"

#include <algorithm>
#include <cstring>

#include "slate/internal/cell_store.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/segment_list.h"
#include "slate/internal/slot_seal.h"

namespace slate::internal {

void StagingBytes::Grow(size_t n) {
  const size_t cap = std::max(n, capacity_ * 2);
  std::unique_ptr<uint8_t[]> bigger(new uint8_t[cap]);
  if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  capacity_ = cap;
}

void StagingBytes::Clear() {
  size_ = 0;
  if (capacity_ > kKeepBytes) {
    data_.reset();
    capacity_ = 0;
  }
}

bool StagedEntries::Stage(const Region& r, uint32_t slot, bool with_payload,
                          bool sealed_here) {
  if (!r.ValidSlot(slot)) return false;
  // Read once into a local copy: checks and uses see the same bytes. A
  // slot whose seal fails is not an entry anyone wrote.
  Slot s;
  std::memcpy(&s, &r.slot(slot), sizeof s);
  if (!sealed_here && !SealHolds(s, slot)) return false;
  const uint8_t state = s.state, segment = s.segment;
  const uint32_t data_bytes = s.data_bytes, payload_bytes = s.payload_bytes;
  if (state != static_cast<uint8_t>(SlotState::kLive) || segment >= kSegmentCapacity ||
      data_bytes > r.geo().max_data_bytes || payload_bytes > data_bytes)
    return false;
  const uint32_t prefix_max = data_bytes - payload_bytes;
  if (prefix_max > kMaxPrefixBytes) return false;
  const uint32_t want = with_payload ? data_bytes : prefix_max;
  const size_t at = bytes_.size();
  bytes_.Resize(at + want);
  if (!CellStore(r).ReadRange(DataRef::Of(s), 0, want, bytes_.data() + at)) {
    bytes_.Resize(at);
    return false;
  }
  PrefixView prefix;
  if (!DecodePrefixView({bytes_.data() + at, prefix_max}, &prefix) ||
      prefix.prefix_bytes != prefix_max) {
    bytes_.Resize(at);
    return false;
  }
  StagedEntry& e = items_.emplace_back();
  e.id = s.id;
  e.task_id = segment == kSegResults ? s.kind.result.task_id : 0;
  e.created_ns = s.created_ns;
  e.updated_ns = s.updated_ns;
  e.importance = s.importance;
  e.segment = segment;
  e.live = IsPinned(s);
  e.with_payload = with_payload;
  e.offset = static_cast<uint32_t>(at);
  e.data_bytes = want;
  e.prefix_bytes = prefix_max;
  return true;
}

void StagedEntries::PopBack() {
  bytes_.Resize(items_.back().offset);
  items_.pop_back();
}

void StagedEntries::Clear() {
  items_.clear();
  if (items_.capacity() > (1u << 16)) std::vector<StagedEntry>().swap(items_);  // a huge Find's
  bytes_.Clear();
}

PrefixView StagedEntries::Prefix(size_t i) const {
  const StagedEntry& e = items_[i];
  PrefixView v;
  DecodePrefixView({bytes_.data() + e.offset, e.prefix_bytes}, &v);  // checked in Stage
  return v;
}

void StagedEntries::Materialize(size_t i, const Region& r, Entry* out,
                                std::string* requires_cap) const {
  const StagedEntry& e = items_[i];
  const PrefixView p = Prefix(i);
  out->id = e.id;
  out->segment.assign(SegmentList(r).Name(e.segment));
  out->tags.assign(p.tags.begin(), p.tags.begin() + p.ntags);
  out->importance = e.importance;
  out->author.assign(p.author);
  out->created_ns = e.created_ns;
  out->updated_ns = e.updated_ns;
  out->live = e.live;
  out->task_id = e.task_id;
  const uint8_t* data = bytes_.data() + e.offset;
  if (e.with_payload)
    out->payload.assign(data + e.prefix_bytes, data + e.data_bytes);
  else
    out->payload.clear();
  if (requires_cap != nullptr) requires_cap->assign(p.requires_cap);
}

}  // namespace slate::internal
