#include "slate/internal/segment_list.h"

#include <cstring>

namespace slate::internal {

void SegmentList::Append(uint32_t slot) {
  Slot& s = r_.slot(slot);
  SegmentRow& seg = r_.segment(s.segment);
  s.seg_prev = seg.tail;
  s.seg_next = kNil;
  if (seg.tail == kNil) {
    seg.head = slot;
  } else {
    r_.slot(seg.tail).seg_next = slot;
  }
  seg.tail = slot;
  seg.count += 1;
  seg.bytes += s.data_bytes;
}

void SegmentList::Unlink(uint32_t slot) {
  Slot& s = r_.slot(slot);
  SegmentRow& seg = r_.segment(s.segment);
  if (s.seg_prev == kNil) {
    seg.head = s.seg_next;
  } else {
    r_.slot(s.seg_prev).seg_next = s.seg_next;
  }
  if (s.seg_next == kNil) {
    seg.tail = s.seg_prev;
  } else {
    r_.slot(s.seg_next).seg_prev = s.seg_prev;
  }
  s.seg_prev = s.seg_next = kNil;
  seg.count -= 1;
  seg.bytes -= s.data_bytes;
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
