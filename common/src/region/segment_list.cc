#include "slate/internal/segment_list.h"

#include <cstring>

namespace slate::internal {

// Links are read once into locals and checked before they are followed: a
// neighbour must point back, or the lists are damaged (RegionCorrupt).

void SegmentList::Append(uint32_t slot) {
  Slot& s = r_.slot(slot);
  SegmentRow& seg = r_.CheckedSegment(s.segment, "segment row");
  const uint32_t tail = seg.tail;
  s.seg_prev = tail;
  s.seg_next = kNil;
  if (tail == kNil) {
    seg.head = slot;
  } else {
    Slot& last = r_.CheckedSlot(tail, "segment tail");
    if (last.seg_next != kNil) ThrowCorrupt("segment tail " + std::to_string(tail) + " has a next");
    last.seg_next = slot;
  }
  seg.tail = slot;
  seg.count += 1;
  seg.bytes += s.data_bytes;
}

void SegmentList::Unlink(uint32_t slot) {
  Slot& s = r_.slot(slot);
  SegmentRow& seg = r_.CheckedSegment(s.segment, "segment row");
  const uint32_t prev = s.seg_prev, next = s.seg_next;
  Slot* p = prev == kNil ? nullptr : &r_.CheckedSlot(prev, "segment link");
  Slot* n = next == kNil ? nullptr : &r_.CheckedSlot(next, "segment link");
  if ((p ? p->seg_next : seg.head) != slot || (n ? n->seg_prev : seg.tail) != slot)
    ThrowCorrupt("segment list around slot " + std::to_string(slot) + " disagrees");
  if (p) p->seg_next = next; else seg.head = next;
  if (n) n->seg_prev = prev; else seg.tail = prev;
  s.seg_prev = s.seg_next = kNil;
  seg.count -= 1;
  seg.bytes -= s.data_bytes;
}

uint32_t SegmentList::Head(uint32_t row) const {
  const uint32_t head = r_.CheckedSegment(row, "segment row").head;
  if (head != kNil && r_.CheckedSlot(head, "segment head").seg_prev != kNil)
    ThrowCorrupt("segment head " + std::to_string(head) + " has a previous entry");
  return head;
}

uint32_t SegmentList::Tail(uint32_t row) const {
  const uint32_t tail = r_.CheckedSegment(row, "segment row").tail;
  if (tail != kNil && r_.CheckedSlot(tail, "segment tail").seg_next != kNil)
    ThrowCorrupt("segment tail " + std::to_string(tail) + " has a next entry");
  return tail;
}

uint32_t SegmentList::Next(uint32_t slot) const {
  const Slot& s = r_.slot(slot);
  const uint32_t next = s.seg_next;
  if (next == kNil) {
    if (r_.CheckedSegment(s.segment, "segment row").tail != slot)
      ThrowCorrupt("segment list ends early at slot " + std::to_string(slot));
    return kNil;
  }
  const Slot& n = r_.CheckedSlot(next, "segment link");
  if (n.seg_prev != slot || n.id <= s.id)
    ThrowCorrupt("segment list after slot " + std::to_string(slot) + " disagrees");
  return next;
}

uint32_t SegmentList::Prev(uint32_t slot) const {
  const Slot& s = r_.slot(slot);
  const uint32_t prev = s.seg_prev;
  if (prev == kNil) return kNil;
  const Slot& p = r_.CheckedSlot(prev, "segment link");
  if (p.seg_next != slot || p.id >= s.id)
    ThrowCorrupt("segment list before slot " + std::to_string(slot) + " disagrees");
  return prev;
}

std::string_view SegmentList::Name(uint32_t row) const {
  const char* name = r_.segment(row).rec.name;
  return {name, strnlen(name, kMaxSegmentBytes)};
}

uint32_t SegmentList::Find(std::string_view name) const {
  for (uint32_t i = 0; i < kSegmentCapacity; ++i) {
    if (!r_.segment(i).rec.used) return kNil;  // rows fill in order
    if (Name(i) == name) return i;
  }
  return kNil;
}

uint32_t SegmentList::FirstUnused() const {
  for (uint32_t i = 0; i < kSegmentCapacity; ++i)
    if (!r_.segment(i).rec.used) return i;
  return kNil;
}

}  // namespace slate::internal
