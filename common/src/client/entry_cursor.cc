#include "slate/entry_cursor.h"

namespace slate {

EntryCursor::EntryCursor(Pool& pool, Query query, EntryId after)
    : pool_(pool), query_(std::move(query)) {
  query_.after_id = after;
  query_.order = QueryOrder::kById;
}

Result<std::vector<Entry>> EntryCursor::Next() {
  auto found = pool_.Find(query_);
  if (found.ok() && !found->empty()) query_.after_id = found->back().id;
  return found;
}

}  // namespace slate
