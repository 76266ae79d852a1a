#include "slate/internal/block_store.h"

#include <algorithm>
#include <cstring>

namespace slate::internal {

// Writers follow links through CheckedBlock (RegionCorrupt on a link out
// of the arena); readers check ValidBlock themselves and return false.

uint32_t BlockStore::Link(uint32_t b) const {
  uint32_t next;
  std::memcpy(&next, r_.CheckedBlock(b, "block link"), sizeof next);
  return next;
}

void BlockStore::SetLink(uint32_t b, uint32_t next) {
  std::memcpy(r_.CheckedBlock(b, "block link"), &next, sizeof next);
}

uint32_t BlockStore::BlocksFor(uint32_t data_bytes) const {
  return (data_bytes + DataPerBlock() - 1) / DataPerBlock();
}

uint32_t BlockStore::Alloc(uint32_t n) {
  Derived& d = r_.header().derived;
  Counters& c = r_.header().counters;  // REQUIRES: in a Txn, which saved it
  if (n == 0 || d.blocks_free < n) return kNil;
  const uint32_t count = r_.geo().block_count;
  if (c.block_high > count || d.blocks_free < count - c.block_high)
    ThrowCorrupt("free block counts disagree with the high-water mark");
  const uint64_t chained = d.blocks_free - (count - c.block_high);
  // The chain first, then untouched blocks from the high-water mark.
  const auto from_chain = static_cast<uint32_t>(std::min<uint64_t>(n, chained));
  uint32_t first = kNil, last = kNil;
  if (from_chain > 0) {
    first = d.block_free_head;
    r_.CheckedBlock(first, "free block list head");
    last = first;
    for (uint32_t i = 1; i < from_chain; ++i) last = Link(last);
    d.block_free_head = chained == from_chain ? kNil : Link(last);
  }
  for (uint32_t i = from_chain; i < n; ++i) {
    const uint32_t fresh = c.block_high++;
    if (last == kNil) first = fresh; else SetLink(last, fresh);
    last = fresh;
  }
  d.blocks_free -= n;
  return first;
}

void BlockStore::Free(uint32_t first, uint32_t n) {
  if (n == 0) return;
  Derived& d = r_.header().derived;
  uint32_t last = first;
  for (uint32_t i = 1; i < n; ++i) last = Link(last);
  SetLink(last, d.block_free_head);
  d.block_free_head = first;
  d.blocks_free += n;
}

void BlockStore::Write(uint32_t first, std::span<const uint8_t> data) {
  uint32_t b = first;
  size_t done = 0;
  while (done < data.size()) {
    const size_t n = std::min<size_t>(DataPerBlock(), data.size() - done);
    std::memcpy(r_.CheckedBlock(b, "block link") + kBlockLinkBytes, data.data() + done, n);
    done += n;
    if (done < data.size()) b = Link(b);
  }
}

bool BlockStore::Read(uint32_t first, uint32_t data_bytes, uint32_t max_bytes,
                      std::vector<uint8_t>* out) const {
  const uint32_t want = std::min(data_bytes, max_bytes);
  out->resize(want);
  return ReadRange(first, data_bytes, 0, want, out->data());
}

bool BlockStore::ReadRange(uint32_t first, uint32_t data_bytes, uint32_t offset,
                           uint32_t len, uint8_t* dst) const {
  if (offset > data_bytes || len > data_bytes - offset) return false;
  if (len == 0) return true;
  const uint32_t per = DataPerBlock();
  uint32_t b = first;
  for (uint32_t skip = offset / per; skip > 0; --skip) {
    if (!r_.ValidBlock(b)) return false;
    b = Link(b);
  }
  uint32_t at = offset % per;
  uint32_t done = 0;
  while (done < len) {
    if (!r_.ValidBlock(b)) return false;
    const uint32_t n = std::min(per - at, len - done);
    std::memcpy(dst + done, r_.block(b) + kBlockLinkBytes + at, n);
    done += n;
    at = 0;
    if (done < len) b = Link(b);
  }
  return true;
}

}  // namespace slate::internal
