// One request run by the supervisor, from posted to finished: it
// delegates the backlog to live workers, takes work back from dead or hung
// ones (WorkerHealth), retries failures with backoff, dead-letters what
// cannot succeed, and aggregates the result. All its state is in the pool;
// a successor resumes it.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "delegator.h"
#include "request_store.h"
#include "slate/pool.h"
#include "supervisor_app.h"

namespace slate::supervisor {

// Runs `req` until it is finished (returns kExitOk or kExitPartial) or stop
// is set (kExitInternal: the request stays in the pool to be resumed).
int RunRequest(const SupervisorConfig& cfg, Pool& pool, AgentRef me, RequestRecord req,
               Policy policy, const std::atomic<bool>& stop);

// Writes text to path through a temporary file and a rename: readers see
// the old file or the whole new one.
Status WriteFileAtomically(const std::string& path, const std::string& text);

// The newest final entry: of one request, or of any (request_id empty).
std::optional<Entry> FinalEntryOf(Pool& pool, const std::string& request_id);

}  // namespace slate::supervisor
