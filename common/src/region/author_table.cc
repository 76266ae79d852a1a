#include "slate/internal/author_table.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <string>

namespace slate::internal {

bool AuthorTable::Resolve(uint32_t author_hash, DataPrefix* p) const {
  if (p->author_row < 0) return true;
  const std::string_view name = NameOf(p->author_row, author_hash);
  if (name.empty()) return false;
  p->author.assign(name);
  return true;
}

uint32_t AuthorTable::Used() const {
  return std::min(r_.header().counters.authors_used, kAuthorRows);
}

namespace {

// The row among rows [0, n) that holds `author`, or -1.
int FindAmong(const AuthorRow* rows, uint32_t n, std::string_view author, uint32_t hash) {
  for (uint32_t i = 0; i < n; ++i)
    if (rows[i].hash == hash && rows[i].len == author.size() &&
        std::memcmp(rows[i].name, author.data(), author.size()) == 0)
      return static_cast<int>(i);
  return -1;
}

}  // namespace

int AuthorTable::FindPublished(std::string_view author, uint32_t hash) const {
  return FindAmong(r_.header().authors.rows, Published(), author, hash);
}

void AuthorTable::InternLocked(Txn& txn, std::string_view author, uint32_t hash) const {
  if (author.empty() || author.size() > kMaxAuthorBytes) return;
  Header& h = r_.header();
  const uint32_t used = Used();
  if (FindAmong(h.authors.rows, used, author, hash) >= 0 || used >= kAuthorRows) return;
  AuthorRow& row = h.authors.rows[used];
  txn.Save(row);  // counters are saved by every transaction
  std::memset(&row, 0, sizeof row);
  row.hash = hash;
  row.len = static_cast<uint8_t>(author.size());
  std::memcpy(row.name, author.data(), author.size());
  h.counters.authors_used = used + 1;
  txn.PublishAuthorsAtCommit();
}

void AuthorTable::Republish() const {
  r_.header().authors.published.store(Used(), std::memory_order_release);
}

int AuthorRowHint(uint64_t pool_serial, const AuthorTable& table, std::string_view author,
                  uint32_t hash) {
  struct Memo {
    uint64_t pool_serial = 0;  // 0: empty
    uint32_t hash = 0;
    int row = -1;
    uint32_t published = 0;  // when row is -1: the count it was sought among
    std::string author;
  };
  thread_local std::array<Memo, 4> memos;
  thread_local uint32_t next = 0;
  for (Memo& m : memos) {
    if (m.pool_serial != pool_serial || m.hash != hash || m.author != author) continue;
    if (m.row >= 0) return m.row;
    const uint32_t published = table.Published();
    if (m.published == published) return -1;
    m.row = table.FindPublished(author, hash);
    m.published = published;
    return m.row;
  }
  Memo& m = memos[next++ % memos.size()];
  m.pool_serial = pool_serial;
  m.hash = hash;
  m.author.assign(author);
  m.published = table.Published();
  m.row = table.FindPublished(author, hash);
  return m.row;
}

}  // namespace slate::internal
