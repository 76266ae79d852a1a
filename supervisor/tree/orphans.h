// A sub-request outlives its parent task only by mistake: the parent was
// cancelled, dead-lettered or skipped at the level above (its
// sub-supervisor gave it up, and nobody will wait for the result). The
// team's supervisor cancels such a sub-request, as `slate-launch cancel`
// would: its record first, then its unfinished tasks, so its workers stop
// and the team is free for work that is still wanted.
#pragma once

#include <string>

#include "slate/pool.h"

namespace slate::supervisor {

// The sub-requests of `team` it cancelled.
Result<size_t> CancelOrphans(Pool& pool, const std::string& team);

}  // namespace slate::supervisor
