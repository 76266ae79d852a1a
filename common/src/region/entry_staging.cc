#include "slate/internal/entry_staging.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>

#include "slate/internal/author_table.h"
#include "slate/internal/cell_store.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/segment_list.h"
#include "slate/internal/slot_seal.h"

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace slate::internal {
namespace {

static_assert(offsetof(Slot, seal) < kSlotVersionBytes &&
              offsetof(Slot, first_cell) < kSlotVersionBytes);

// Whether two slots' version bytes are equal: a fixed-size compare, which
// the compiler does inline, a vector at a time.
bool SameVersion(const void* a, const void* b) {
  return std::memcmp(a, b, kSlotVersionBytes) == 0;
}

// Sets s to v. A caller reusing its entries mostly reads the same segment
// and author again, and comparing costs a third of assigning.
void Set(std::string& s, std::string_view v) {
  if (s != v) s.assign(v);
}

// CopyNoted's reads race with writers by design and are validated after
// the fact, so ThreadSanitizer is told not to watch them.
class [[maybe_unused]] RacyReads {
 public:
#if defined(__SANITIZE_THREAD__)
  RacyReads() { __tsan_ignore_thread_begin(); }
  ~RacyReads() { __tsan_ignore_thread_end(); }
#else
  RacyReads() = default;
#endif
  RacyReads(const RacyReads&) = delete;
  RacyReads& operator=(const RacyReads&) = delete;
};

std::atomic<uint64_t> g_refusals{0};
std::atomic<int> g_refuse_next{0};

// True if this call must refuse for a test; uses up one of them.
bool RefusedForTesting() {
  int left = g_refuse_next.load(std::memory_order_relaxed);
  while (left > 0 && !g_refuse_next.compare_exchange_weak(left, left - 1)) {
  }
  return left > 0;
}

}  // namespace

uint64_t CopyNotedRefusals() { return g_refusals.load(std::memory_order_relaxed); }
void RefuseCopyNotedForTesting(int n) { g_refuse_next.store(n, std::memory_order_relaxed); }

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

bool StagedEntries::Stage(const Region& r, uint32_t slot, bool with_payload) {
  if (!r.ValidSlot(slot)) return false;
  // Read once into a local copy: checks and uses see the same bytes. A
  // slot whose seal fails is not an entry anyone wrote.
  Slot s;
  std::memcpy(&s, &r.slot(slot), sizeof s);
  return StageCopy(r, slot, s, with_payload);
}

bool StagedEntries::StageCopy(const Region& r, uint32_t slot, const Slot& s,
                              bool with_payload) {
  if (!SealHolds(s, slot)) return false;
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
  if (PrefixBytesOf({bytes_.data() + at, prefix_max}) != prefix_max) {
    bytes_.Resize(at);
    return false;
  }
  std::string_view author_row_name;
  if (const int row = AuthorRowIn(bytes_.data()[at]); row >= 0) {
    author_row_name = AuthorTable(r).NameOf(row, s.author_hash);
    if (author_row_name.empty()) {
      bytes_.Resize(at);
      return false;
    }
  }
  StagedEntry& e = items_.emplace_back();
  e.author_row_name = author_row_name;
  e.id = s.id;
  e.task_id = segment == kSegResults ? s.kind.result.task_id : 0;
  e.run_ns = segment == kSegResults ? DecodeRun(s.kind.result.run) : 0;
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

void StagedEntries::Note(const Region& r, uint32_t slot) {
  const Slot& s = r.slot(slot);
  NotedEntry& n = noted_.emplace_back();
  n.id = s.id;
  n.slot = slot;
  n.importance = s.importance;
  std::memcpy(n.version, &s, kSlotVersionBytes);
  // What CopyNoted will read besides: started now, while the holder walks on.
  __builtin_prefetch(reinterpret_cast<const uint8_t*>(&s) + 64);
  if (r.ValidCell(s.first_cell)) __builtin_prefetch(r.cell(s.first_cell));
}

bool StagedEntries::CopyNoted(const Region& r, bool with_payload) {
  if (noted_.empty()) return true;
  if (RefusedForTesting()) {
    g_refusals.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  [[maybe_unused]] const RacyReads racy;
  for (const NotedEntry& n : noted_) {
    const Slot& live = r.slot(n.slot);
    Slot s;
    std::memcpy(&s, &live, sizeof s);
    std::atomic_thread_fence(std::memory_order_acquire);
    // A writer frees cells only after committing the slot's new version
    // (CellStore::Free), so data read from cells that were freed and
    // reused is caught by the second look at the version bytes. The seal,
    // checked on the copy, catches kind bytes torn by a transaction in
    // flight, and a scribble.
    bool same = SameVersion(&s, n.version) && StageCopy(r, n.slot, s, with_payload);
    std::atomic_thread_fence(std::memory_order_acquire);
    same = same && SameVersion(&live, n.version);
    if (!same) {
      items_.clear();
      bytes_.Resize(0);
      g_refusals.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  return true;
}

void StagedEntries::Clear() {
  items_.clear();
  noted_.clear();
  if (items_.capacity() > (1u << 16)) std::vector<StagedEntry>().swap(items_);  // a huge Find's
  if (noted_.capacity() > (1u << 16)) std::vector<NotedEntry>().swap(noted_);
  bytes_.Clear();
}

PrefixView StagedEntries::Prefix(size_t i) const {
  const StagedEntry& e = items_[i];
  PrefixView v;
  PrefixViewsOf(bytes_.data() + e.offset, e.prefix_bytes, &v);  // checked in StageCopy
  if (v.author_row >= 0) v.author = e.author_row_name;
  return v;
}

void StagedEntries::Materialize(size_t i, const Region& r, Entry* out,
                                std::string* requires_cap) const {
  const StagedEntry& e = items_[i];
  // The prefix's lengths were checked against these very bytes when they
  // were staged (StageCopy), and the bytes are this process's own since:
  // read here without checking again.
  const uint8_t* data = bytes_.data() + e.offset;
  const bool interned = AuthorRowIn(data[0]) >= 0;
  const uint32_t author_len = AuthorBytesIn(data[0]), ntags = data[1], requires_len = data[2];
  const char* at = reinterpret_cast<const char*>(data) + 3 + ntags;
  out->id = e.id;
  Set(out->segment, SegmentList(r).Name(e.segment));
  Set(out->author, interned ? e.author_row_name : std::string_view{at, author_len});
  at += author_len;
  if (requires_cap != nullptr) Set(*requires_cap, {at, requires_len});
  at += requires_len;
  out->tags.resize(ntags);
  for (uint32_t t = 0; t < ntags; ++t) {
    Set(out->tags[t], {at, data[3 + t]});
    at += data[3 + t];
  }
  out->importance = e.importance;
  out->created_ns = e.created_ns;
  out->updated_ns = e.updated_ns;
  out->live = e.live;
  out->task_id = e.task_id;
  out->run_ns = e.run_ns;
  if (e.with_payload)
    out->payload.assign(data + e.prefix_bytes, data + e.data_bytes);
  else
    out->payload.clear();
}

}  // namespace slate::internal
