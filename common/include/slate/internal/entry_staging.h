// Entries copied out of the region as raw bytes under the lock, and turned
// into Entry objects after it is released. The lock holder pays one bounded
// copy per entry; allocation and decoding happen outside the lock, where
// processes run in parallel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slate/entry.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/region.h"

namespace slate::internal {

struct StagedEntry {
  EntryId id = 0;
  EntryId task_id = 0;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
  float importance = 0;
  uint32_t segment = 0;
  bool live = false;
  bool with_payload = false;
  uint32_t offset = 0;        // of its data in StagedEntries::bytes
  uint32_t data_bytes = 0;    // copied: the prefix, plus the payload if asked
  uint32_t prefix_bytes = 0;
};

// Bytes appended without being zeroed first (std::vector<uint8_t>::resize
// writes every byte it adds), reused across Clear().
class StagingBytes {
 public:
  size_t size() const { return size_; }
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  // Grows to n; bytes past the old size are unspecified.
  void Resize(size_t n) {
    if (n > capacity_) Grow(n);
    size_ = n;
  }
  // Empties it; a buffer grown past kKeepBytes is given back.
  void Clear();

 private:
  static constexpr size_t kKeepBytes = 4u << 20;
  void Grow(size_t n);
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

class StagedEntries {
 public:
  // Copies the entry in `slot`. Every slot field is read once and checked
  // before use, the seal too unless this lock hold has just sealed it
  // (`sealed_here`). False, staging nothing, if the slot is not a sound live
  // entry. REQUIRES: the lock held, or a private snapshot.
  bool Stage(const Region& r, uint32_t slot, bool with_payload, bool sealed_here = false);
  void PopBack();
  void Clear();
  size_t size() const { return items_.size(); }
  const StagedEntry& operator[](size_t i) const { return items_[i]; }
  // The prefix of entry i (author, requires, tags), as views into bytes.
  PrefixView Prefix(size_t i) const;
  // Fills *e (reusing its storage) and, if given, the task's required
  // capability. Needs no lock: segment names never change once set.
  void Materialize(size_t i, const Region& r, Entry* e,
                   std::string* requires_cap = nullptr) const;
  // Reorders the staged entries (their bytes stay where they are).
  template <typename Less>
  void Sort(Less less);
  void Truncate(size_t n) {
    if (n < items_.size()) items_.resize(n);
  }

 private:
  std::vector<StagedEntry> items_;
  StagingBytes bytes_;
};

template <typename Less>
void StagedEntries::Sort(Less less) {
  std::sort(items_.begin(), items_.end(), less);
}

}  // namespace slate::internal
