// Entry data as chains of fixed-size blocks in the data arena.
//
// Each block starts with a 4-byte link to the next block of its chain; the
// rest holds data. A chain is walked for exactly BlocksFor(data_bytes) blocks,
// so the link of a chain's last block is never read and may hold anything.
// That is what makes the free list cheap and crash-tolerant: the free list is
// itself one chain from Derived::block_free_head; Alloc takes a prefix of it
// and Free splices a whole chain onto its front by writing one link.
//
// The free list is DERIVED: Rebuild() relinks every block no live slot owns.
// REQUIRES for every method: the pool mutex held (or a private snapshot).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "slate/internal/region.h"

namespace slate::internal {

class BlockStore {
 public:
  explicit BlockStore(const Region& r) : r_(r) {}

  uint32_t BlocksFor(uint32_t data_bytes) const;
  // First block of a chain of n blocks, or kNil when fewer are free (n > 0).
  uint32_t Alloc(uint32_t n);
  // Returns the n-block chain starting at first to the free list.
  void Free(uint32_t first, uint32_t n);
  // REQUIRES: the chain from first has BlocksFor(data.size()) blocks.
  void Write(uint32_t first, std::span<const uint8_t> data);
  // Copies up to max_bytes of a data_bytes chain into out. Validates every
  // link it follows; false if the chain leaves the arena.
  bool Read(uint32_t first, uint32_t data_bytes, uint32_t max_bytes,
            std::vector<uint8_t>* out) const;
  // Copies bytes [offset, offset + len) of a data_bytes chain to dst.
  // Validates every link it follows; false if the chain leaves the arena or
  // the range passes data_bytes.
  bool ReadRange(uint32_t first, uint32_t data_bytes, uint32_t offset,
                 uint32_t len, uint8_t* dst) const;

 private:
  uint32_t Link(uint32_t b) const;
  void SetLink(uint32_t b, uint32_t next);
  uint32_t DataPerBlock() const { return r_.geo().block_bytes - kBlockLinkBytes; }

  Region r_;
};

}  // namespace slate::internal
