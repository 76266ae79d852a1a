// Follows the entries matching a query as they arrive: each Next() returns
// those newer than the last one it returned, in id order. One reader's
// position; not shared between threads.
#pragma once

#include <vector>

#include "slate/pool.h"

namespace slate {

class EntryCursor {
 public:
  // Starts after `after` (0: from the oldest entry).
  EntryCursor(Pool& pool, Query query, EntryId after = 0);
  // Matches newer than the last call's, at most query.limit (0: all).
  Result<std::vector<Entry>> Next();
  EntryId position() const { return query_.after_id; }

 private:
  Pool& pool_;
  Query query_;
};

}  // namespace slate
