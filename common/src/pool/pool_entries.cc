// Entries: write, read, update, erase, settle, query and wait.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "slate/clock.h"
#include "slate/internal/author_table.h"
#include "slate/internal/cell_store.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/entry_staging.h"
#include "slate/internal/event_count.h"
#include "slate/internal/evict_heap.h"
#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/recycled_resize.h"
#include "slate/internal/segment_list.h"

namespace slate {
using namespace internal;

namespace {

Status ValidateNewEntry(const NewEntry& e, uint32_t max_payload) {
  if (Status s = ValidateSegmentName(e.segment); !s.ok()) return s;
  if (Status s = ValidateTags(e.tags); !s.ok()) return s;
  if (Status s = ValidateAuthor(e.author); !s.ok()) return s;
  if (Status s = ValidateImportance(e.importance); !s.ok()) return s;
  return ValidatePayload(e.payload, max_payload);
}

// Prefilter on the slot alone; the caller confirms tags and author exactly.
bool SlotMayMatch(const Slot& s, const Query& q, uint32_t all_bits) {
  if (s.importance < q.min_importance || s.id <= q.after_id) return false;
  return (s.tag_bloom & all_bits) == all_bits;
}

bool HasTag(const PrefixView& p, std::string_view t) {
  return std::find(p.tags.begin(), p.tags.begin() + p.ntags, t) !=
         p.tags.begin() + p.ntags;
}

// Whether the query filters on what only the data prefix holds.
bool FiltersOnPrefix(const Query& q) {
  return !q.exclude_author.empty() || !q.author.empty() || !q.all_tags.empty() ||
         !q.any_tags.empty();
}

bool PrefixMatches(const PrefixView& p, const Query& q) {
  if (!q.exclude_author.empty() && p.author == q.exclude_author) return false;
  if (!q.author.empty() && p.author != q.author) return false;
  for (const auto& t : q.all_tags)
    if (!HasTag(p, t)) return false;
  if (q.any_tags.empty()) return true;
  for (const auto& t : q.any_tags)
    if (HasTag(p, t)) return true;
  return false;
}

// A segment written in one run lies in ascending slots, so the slots a few
// links on are likely the ones after the one at hand. In a large pool each
// is a cache miss that following the links would meet one at a time: a
// walk asks for them ahead, kAhead at once. The prefetches are written
// where they are used: GCC finds a helper that only prefetches free of
// effects and drops its calls (it did, in b8a2c03).
constexpr uint32_t kAhead = 16;

// First slot of segment row seg with id > after, walking from the cheaper end.
// Every link is checked (SegmentList): a damaged list throws RegionCorrupt
// rather than end a listing early and hide entries.
uint32_t FirstAfter(const Region& r, uint32_t seg, EntryId after) {
  const SegmentList list(r);
  if (after == 0) return list.Head(seg);
  const uint32_t cursor = IdIndex(r).Find(after);
  if (cursor != kNil && r.slot(cursor).segment == seg) return list.Next(cursor);
  uint32_t i = list.Tail(seg);
  uint32_t first = kNil;
  for (uint64_t steps = 0; i != kNil && r.slot(i).id > after; ++steps) {
    if (steps >= r.geo().slot_capacity) ThrowCorrupt("segment list loops");
    first = i;
    i = list.Prev(i);
  }
  return first;
}

}  // namespace

namespace internal {

bool ReadPrefixAt(const Region& r, uint32_t slot, DataPrefix* out) {
  if (!r.ValidSlot(slot)) return false;
  const Slot& s = r.slot(slot);
  const DataRef data = DataRef::Of(s);  // read once
  if (data.bytes > r.geo().max_data_bytes) return false;
  const uint32_t author_hash = s.author_hash;
  std::vector<uint8_t> raw;
  return CellStore(r).Read(data, MaxPrefixBytes(), &raw) && DecodePrefix(raw, out) &&
         AuthorTable(r).Resolve(author_hash, out);
}

bool ReadEntryInto(const Region& r, uint32_t slot, bool with_payload, Entry* e,
                   std::string* requires_cap) {
  thread_local StagedEntries staged;
  staged.Clear();
  if (!staged.Stage(r, slot, with_payload)) return false;
  staged.Materialize(0, r, e, requires_cap);
  return true;
}

std::optional<Entry> ReadEntryAt(const Region& r, uint32_t slot,
                                 bool with_payload) {
  Entry e;
  if (!ReadEntryInto(r, slot, with_payload, &e, nullptr)) return std::nullopt;
  return e;
}

namespace {

// Puts `items` (StagedEntry or NotedEntry) in the query's order and cuts
// them to its limit. `segments`: how many segment lists they came from.
template <typename Item>
void OrderAndLimit(std::vector<Item>& items, const Query& q, size_t segments) {
  if (q.order == QueryOrder::kById) {
    // One segment's list is in ascending id order already.
    if (segments > 1)
      std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  } else {
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      if (a.importance != b.importance) return a.importance > b.importance;
      return a.id > b.id;
    });
  }
  if (q.limit != 0 && items.size() > q.limit) items.resize(q.limit);
}

}  // namespace

void StageMatches(const Region& r, const Query& q, StagedEntries* out, bool may_defer) {
  std::vector<uint32_t> segs;
  if (q.segments.empty()) {
    for (uint32_t i = 0; i < kSegmentCapacity && r.segment(i).rec.used; ++i)
      segs.push_back(i);
  } else {
    for (const auto& name : q.segments) {
      const uint32_t row = SegmentList(r).Find(name);
      if (row != kNil) segs.push_back(row);
    }
  }
  const uint32_t all_bits = TagBloom(q.all_tags);
  const bool by_id = q.order == QueryOrder::kById;
  const bool on_prefix = FiltersOnPrefix(q);  // else Stage's own check of the prefix suffices
  // What the slot alone decides may be copied after the lock.
  const bool defer = may_defer && !on_prefix;
  for (uint32_t seg : segs) {
    uint32_t per_segment = 0;
    const SegmentList list(r);
    uint32_t i = FirstAfter(r, seg, q.after_id);
    const uint32_t cap = r.geo().slot_capacity;
    for (uint32_t k = 0; k < kAhead && i != kNil && i + k < cap; ++k)
      __builtin_prefetch(&r.slot(i + k));
    for (uint64_t steps = 0; i != kNil; ++steps, i = list.Next(i)) {
      if (steps >= cap) ThrowCorrupt("segment list loops");
      if (i + kAhead < cap) __builtin_prefetch(&r.slot(i + kAhead));
      if (!SlotMayMatch(r.slot(i), q, all_bits)) continue;
      if (defer) {
        out->Note(r, i);
      } else {
        if (!out->Stage(r, i, q.with_payload)) continue;
        if (on_prefix && !PrefixMatches(out->Prefix(out->size() - 1), q)) {
          out->PopBack();
          continue;
        }
      }
      // In id order a segment never needs more than limit of its own.
      if (by_id && q.limit != 0 && ++per_segment >= q.limit) break;
    }
  }
  if (defer) {
    OrderAndLimit(out->noted(), q, segs.size());
  } else {
    OrderAndLimit(out->items(), q, segs.size());
  }
}

std::vector<Entry> MaterializeAll(const StagedEntries& staged, const Region& r) {
  std::vector<Entry> out(staged.size());
  for (size_t i = 0; i < staged.size(); ++i) staged.Materialize(i, r, &out[i]);
  return out;
}

Result<std::vector<Entry>> FindIn(const Region& r, const Query& q) {
  StagedEntries staged;
  StageMatches(r, q, &staged, /*may_defer=*/false);
  return MaterializeAll(staged, r);
}

}  // namespace internal

Result<EntryId> Pool::Write(const NewEntry& entry) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (Status s = ValidateNewEntry(entry, impl_->region_.geo().max_payload);
      !s.ok())
    return s;
  if (entry.segment == segments::kTasks)
    return Status{StatusCode::kInvalidArgument,
                  "segment 'tasks' is written with PostTask"};
  if (entry.segment == segments::kAgents)
    return Status{StatusCode::kInvalidArgument,
                  "segment 'agents' is written with RegisterAgent"};
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Result<EntryId> {
    const Region& r = im.region_;
    uint32_t seg = SegmentList(r).Find(entry.segment);
    if (seg == kNil) {
      seg = SegmentList(r).FirstUnused();
      if (seg == kNil)
        return Status{StatusCode::kPoolFull,
                      "pool '" + im.name_ + "' has no room for segment '" +
                          entry.segment + "' (32 segments in use)"};
      Txn txn(r, OpCode::kSegment);
      SegmentRecord& rec = r.segment(seg).rec;
      txn.Save(rec);
      std::memset(rec.name, 0, sizeof rec.name);
      std::memcpy(rec.name, entry.segment.data(), entry.segment.size());
      rec.used = 1;
      txn.Commit();
    }
    SlotSpec spec;
    FillSlotSpec(&spec, seg, entry.author, "", entry.tags, entry.importance, entry.payload, &im);
    // Results written directly are not task results: nothing waits to
    // aggregate them unless kept. Errors stay live until resolved.
    if (entry.keep) spec.flags |= kKeep;
    else if (seg == kSegResults) spec.flags |= kSettled;
    if (Status s = im.Reserve(spec);
        !s.ok())
      return s;
    Txn txn(r, OpCode::kWrite);
    const uint32_t slot = im.InsertSlot(txn, spec);
    im.LinkSlot(slot);
    txn.Commit();
    g.Notify(&r.header().entries_event);
    return r.slot(slot).id;
  });
}

Result<Entry> Pool::Read(EntryId id) const {
  return impl_->WithView([&](const Region& r) -> Result<Entry> {
    const uint32_t slot = IdIndex(r).Find(id);
    auto e = slot == kNil ? std::nullopt : ReadEntryAt(r, slot, true);
    if (!e)
      return Status{StatusCode::kNotFound,
                    "entry " + std::to_string(id) + " not found in pool '" +
                        impl_->name_ + "'"};
    return std::move(*e);
  });
}

Status Pool::FindInto(const Query& query, std::vector<Entry>* out) const {
  auto fail = [out](Status s) {
    out->clear();
    return s;
  };
  if (!std::isfinite(query.min_importance))
    return fail({StatusCode::kInvalidArgument, "min importance is not a number"});
  if (impl_->read_only_) {
    auto found = impl_->WithView([&](const Region& r) { return FindIn(r, query); });
    if (!found.ok()) return fail(found.status());
    *out = std::move(*found);
    return Status::Ok();
  }
  // The lock holder picks the entries; their bytes are copied after it
  // when the slots alone decide the match, and under it, in a second hold,
  // if one of them changed meanwhile.
  thread_local StagedEntries staged;
  for (bool may_defer : {true, false}) {
    {
      Impl::Guard g(*impl_, LockUse::kRead);
      if (!g.status().ok()) return fail(g.status());
      Status s = impl_->RepairingLocked([&] {
        staged.Clear();
        StageMatches(impl_->region_, query, &staged, may_defer);
        return Status::Ok();
      });
      if (!s.ok()) return fail(s);
    }
    if (staged.CopyNoted(impl_->region_, query.with_payload)) break;
  }
  RecycledResize(out, staged.size());
  for (size_t i = 0; i < staged.size(); ++i) staged.Materialize(i, impl_->region_, &(*out)[i]);
  staged.Clear();
  return Status::Ok();
}

Result<std::vector<Entry>> Pool::Find(const Query& query) const {
  std::vector<Entry> out;
  if (Status s = FindInto(query, &out); !s.ok()) return s;
  return out;
}

Status Pool::WaitInto(const Query& query, std::chrono::milliseconds timeout,
                      std::vector<Entry>* out) const {
  const int64_t deadline = NowMonoNs() + timeout.count() * 1'000'000;
  Status s;
  if (!impl_->read_only_) {
    AwaitEvent(impl_->region_.header().entries_event, deadline, impl_->SpinPays(), [&] {
      s = FindInto(query, out);
      return !s.ok() || !out->empty();
    });
    return s;
  }
  // A read-only mapping cannot set the waiters bit: poll gently instead.
  for (;;) {
    s = FindInto(query, out);
    if (!s.ok() || !out->empty()) return s;
    const int64_t left = deadline - NowMonoNs();
    if (left <= 0) return s;
    std::this_thread::sleep_for(
        std::chrono::nanoseconds(std::min<int64_t>(left, 20'000'000)));
  }
}

Result<std::vector<Entry>> Pool::Wait(const Query& query,
                                      std::chrono::milliseconds timeout) const {
  std::vector<Entry> out;
  if (Status s = WaitInto(query, timeout, &out); !s.ok()) return s;
  return out;
}

Status Pool::Update(EntryId id, const EntryUpdate& u) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (u.importance)
    if (Status s = ValidateImportance(*u.importance); !s.ok()) return s;
  if (u.tags)
    if (Status s = ValidateTags(*u.tags); !s.ok()) return s;
  if (u.payload)
    if (Status s = ValidatePayload(*u.payload, impl_->region_.geo().max_payload);
        !s.ok())
      return s;
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Status {
    const Region& r = im.region_;
    auto slot = im.LocateLocked(id, "entry");
    if (!slot.ok()) return slot.status();
    if (IsTaskCheckpoint(r.slot(*slot))) return RefuseTaskCheckpoint(r.slot(*slot), "update");
    const bool rewrite = u.tags.has_value() || u.payload.has_value();
    std::vector<uint8_t> data;
    SlotSpec spec;
    if (rewrite) {
      auto old = ReadEntryAt(r, *slot, true);
      DataPrefix prefix;
      const Slot& s = r.slot(*slot);
      if (!old || !ReadPrefixAt(r, *slot, &prefix))
        return Status{StatusCode::kCorrupt,
                      "entry " + std::to_string(id) + " has unreadable data"};
      FillSlotSpec(&spec, s.segment, old->author, prefix.requires_cap,
                   u.tags ? *u.tags : old->tags, s.importance,
                   u.payload ? *u.payload : old->payload, &im);
      if (Status st = im.Reserve(spec); !st.ok())
        return st;
      slot = im.LocateLocked(id, "entry (evicted to make room for its update)");
      if (!slot.ok()) return slot.status();
    }
    Slot& s = r.slot(*slot);
    const DataRef old_data = DataRef::Of(s);
    Txn txn(r, OpCode::kUpdate);
    txn.Save(s);
    SegmentRow& seg = r.CheckedSegment(s.segment, "segment row");
    if (rewrite) {
      seg.bytes -= s.data_bytes;
      CellStore(r).StoreIn(s, spec.data);
      s.payload_bytes = spec.payload_bytes;
      s.tag_bloom = spec.bloom;
      s.ntags = spec.ntags;
      seg.bytes += s.data_bytes;
    }
    if (u.importance) s.importance = *u.importance;
    s.updated_ns = NowRealNs();
    EvictHeap(r).Fix(*slot);
    txn.Commit();
    if (rewrite) im.ReleaseData(old_data);
    g.Notify(&r.header().entries_event);
    return Status::Ok();
  });
}

Status Pool::Erase(EntryId id) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Status {
    const Region& r = im.region_;
    auto slot = im.LocateLocked(id, "entry");
    if (!slot.ok()) return slot.status();
    Slot& s = r.slot(*slot);
    if (s.segment == kSegTasks && IsPinned(s))
      return {StatusCode::kWrongState,
              "task " + std::to_string(id) + " is " +
                  TaskStateName(static_cast<TaskState>(s.kind.task.state)) +
                  (IsFinal(static_cast<TaskState>(s.kind.task.state))
                       ? " and kept; release it before erasing"
                       : "; complete or dead-letter it before erasing")};
    if (s.segment == kSegAgents)
      return {StatusCode::kWrongState,
              "entry " + std::to_string(id) + " is an agent; deregister it"};
    if (IsTaskCheckpoint(s)) return RefuseTaskCheckpoint(s, "erase");
    const DataRef data = DataRef::Of(s);
    Txn txn(r, OpCode::kErase);
    txn.Save(s);
    im.UnlinkSlot(*slot);
    s.state = static_cast<uint8_t>(SlotState::kFree);
    txn.Commit();
    im.ReleaseSlot(*slot, data);
    return Status::Ok();
  });
}

namespace {

// Marks an entry settled: no longer live. segment kNil accepts any.
Status Settle(Pool::Impl& im, EntryId id, uint32_t segment, const char* what) {
  if (Status s = im.RequireWritable(); !s.ok()) return s;
  Pool::Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Status {
    auto slot = im.LocateLocked(id, what);
    if (!slot.ok()) return slot.status();
    Slot& s = im.region_.slot(*slot);
    if (segment != kNil && s.segment != segment)
      return {StatusCode::kInvalidArgument,
              "entry " + std::to_string(id) + " is not in segment '" +
                  BuiltinSegmentName(segment) + "'"};
    if (IsTaskCheckpoint(s)) return RefuseTaskCheckpoint(s, "release");
    if (s.flags & kSettled) return Status::Ok();
    Txn txn(im.region_, OpCode::kSettle);
    txn.Save(s);
    im.Detach(*slot);
    s.flags |= kSettled;
    im.Attach(*slot);
    txn.Commit();
    return Status::Ok();
  });
}

}  // namespace

Status Pool::MarkAggregated(EntryId result_id) {
  return Settle(*impl_, result_id, kSegResults, "result");
}

Status Pool::Resolve(EntryId error_id) {
  return Settle(*impl_, error_id, kSegErrors, "error");
}

Status Pool::Release(EntryId kept_id) {
  return Settle(*impl_, kept_id, kNil, "entry");
}

}  // namespace slate
