// Entries copied out of the region as raw bytes, and turned into Entry
// objects after the lock is released: allocation and decoding happen
// outside the lock, where processes run in parallel.
//
// An entry is copied either under the lock (Stage) or after it: the lock
// holder only notes which entries it wants (Note: the slot and its version
// bytes, all on the slot's first cache line), and CopyNoted copies them
// once the lock is free, as a seqlock reader would, keeping a copy only if
// the slot still held that same committed version when its data had been
// copied. The data's other lines, written by another process, are then
// read while the lock serves someone else.
#pragma once

#include <cstddef>
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
  int64_t run_ns = 0;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
  float importance = 0;
  uint32_t segment = 0;
  bool live = false;
  bool with_payload = false;
  uint32_t offset = 0;        // of its data in StagedEntries::bytes
  uint32_t data_bytes = 0;    // copied: the prefix, plus the payload if asked
  uint32_t prefix_bytes = 0;
  // An interned author's name, in the pool's author table (author_table.h;
  // rows never change once published), checked when staged. Empty: the
  // author is in the data.
  std::string_view author_row_name;
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

// How many CopyNoted calls in this process found a noted entry changed (or
// were made to fail) and left the copy to the lock.
uint64_t CopyNotedRefusals();
// Test-only: the next `n` CopyNoted calls in this process refuse.
void RefuseCopyNotedForTesting(int n);

// A slot's bytes that name the committed version it holds: every field
// before the derived links, the id and seal among them. An eviction changes
// the state, an update the data's place; any commit changes the seal.
inline constexpr size_t kSlotVersionBytes = offsetof(Slot, seg_prev);

// An entry the lock holder wants copied after the lock (StagedEntries::Note).
struct NotedEntry {
  EntryId id = 0;
  uint32_t slot = 0;
  float importance = 0;
  uint8_t version[kSlotVersionBytes];  // as noted, under the lock
};

class StagedEntries {
 public:
  // Copies the entry in `slot`. Every slot field is read once and checked
  // before use, the seal first. False, staging nothing, if the slot is not
  // a sound live entry. REQUIRES: the lock held, or a private snapshot.
  bool Stage(const Region& r, uint32_t slot, bool with_payload);
  void PopBack();
  // Empties both the staged and the noted entries.
  void Clear();

  // Remembers the live entry in `slot` for CopyNoted: its version bytes,
  // on the slot's first cache line. REQUIRES: the lock held; `slot` valid.
  void Note(const Region& r, uint32_t slot);
  // Stages every noted entry, in order, without the lock. True when each
  // slot held the version noted both before and after its data was
  // copied, so no writer changed or freed it meanwhile, and its seal holds
  // on the copy: every kind keeps inline data in its kind bytes, which the
  // version bytes do not cover. Otherwise false, with nothing staged: the caller
  // stages them again under the lock. Noted entries are kept either way.
  // REQUIRES: nothing staged; the lock not held by this thread.
  bool CopyNoted(const Region& r, bool with_payload);
  std::vector<NotedEntry>& noted() { return noted_; }

  size_t size() const { return items_.size(); }
  const StagedEntry& operator[](size_t i) const { return items_[i]; }
  // The prefix of entry i (author, requires, tags), as views into bytes.
  PrefixView Prefix(size_t i) const;
  // Fills *e (reusing its storage) and, if given, the task's required
  // capability. Needs no lock: segment names never change once set.
  void Materialize(size_t i, const Region& r, Entry* e,
                   std::string* requires_cap = nullptr) const;
  // The staged entries, to reorder or cut (their bytes stay where they are).
  std::vector<StagedEntry>& items() { return items_; }

 private:
  // Stages the entry whose slot `slot` was copied into `s`.
  bool StageCopy(const Region& r, uint32_t slot, const Slot& s, bool with_payload);

  std::vector<StagedEntry> items_;
  std::vector<NotedEntry> noted_;
  StagingBytes bytes_;
};

}  // namespace slate::internal
