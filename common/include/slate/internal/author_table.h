// Authors kept once per pool (layout.h, Authors): an entry whose
// author has a row names it by that row in its data's first byte
// (entry_codec.h, kInternedAuthor) instead of carrying its bytes. A bench
// task's data shrinks from 81 bytes to 67, a cell less.
//
// How a row comes to be, and why lock-free readers may trust it:
// - A writer encodes outside the lock. It uses a row only if it found the
//   author among the published rows (AuthorRowHint), which are committed,
//   and rows never change after their commit. So any entry that names a
//   row was committed after that row, and reading the row needs no lock.
// - Otherwise the entry carries its author, and the transaction that
//   inserts it adds the author's row if none has it and there is room
//   (InternLocked), saved in the journal like any authoritative bytes. A
//   death before the commit undoes the row with the entry.
// - Once the table is full (kAuthorRows names in the pool's life), further
//   authors stay in their entries' data, as before layout 6.
//
// A row's name is not sealed. Each read checks the row against the naming
// slot's author_hash (sealed), which catches a row index gone wrong; a
// scribbled name is caught by the checker (the name's hash), not by reads.
#pragma once

#include <cstdint>
#include <string_view>

#include "slate/internal/entry_codec.h"
#include "slate/internal/journal.h"
#include "slate/internal/region.h"

namespace slate::internal {

static_assert(kAuthorRows <= 0x100 - kInternedAuthor, "a row must fit the first byte");

class AuthorTable {
 public:
  explicit AuthorTable(const Region& r) : r_(r) {}

  // The name in row `row`, if a slot with `author_hash` may name it: the
  // row is published and holds 1 to kMaxAuthorBytes bytes with that hash.
  // Empty otherwise. A view into the region, its length read once. No lock
  // needed (see above); the acquire load of the published count orders
  // the row's bytes before the caller's reads of them.
  std::string_view NameOf(int row, uint32_t author_hash) const {
    if (row < 0 || static_cast<uint32_t>(row) >= Published()) return {};
    const AuthorRow& a = r_.header().authors.rows[row];
    const uint8_t len = a.len;
    if (len > kMaxAuthorBytes || a.hash != author_hash) return {};
    return {a.name, len};
  }
  // Sets p->author to the name of p->author_row; false when NameOf finds
  // none. Does nothing for an author kept in the data.
  bool Resolve(uint32_t author_hash, DataPrefix* p) const;

  // The row among the published ones that holds `author` (hash `hash`),
  // or -1. Lock-free.
  int FindPublished(std::string_view author, uint32_t hash) const;
  // Rows published, clamped to the table.
  uint32_t Published() const {
    const uint32_t n = r_.header().authors.published.load(std::memory_order_acquire);
    return n < kAuthorRows ? n : kAuthorRows;
  }

  // Gives `author` a row in txn if no committed row has it and the table
  // has room; the entry being inserted keeps its own copy either way. Txn
  // publishes the row after its commit. REQUIRES: the lock held.
  void InternLocked(Txn& txn, std::string_view author, uint32_t hash) const;

  // Rows in use, clamped to the table (a damaged count must not send a
  // reader past it).
  uint32_t Used() const;
  // Rebuild(): publishes every committed row.
  void Republish() const;

 private:
  const Region& r_;
};

// The row `author` (hash `hash`) has in `table`'s pool as this thread last
// saw it, -1 if none: a small per-thread memo over FindPublished, keyed by
// `pool_serial` (Pool::Impl::serial_, unique in the process), so no two
// pools share an entry. A miss is remembered until more rows are
// published. Lock-free.
int AuthorRowHint(uint64_t pool_serial, const AuthorTable& table, std::string_view author,
                  uint32_t hash);

}  // namespace slate::internal
