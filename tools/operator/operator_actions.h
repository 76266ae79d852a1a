// What a person may do to a running group, straight through the pool:
// cancel a request or a task, and answer the tasks held for review. The
// CLI (slate-launch cancel, review) and the dashboard both call these; the
// pool makes each safe against everything else the group does. None
// prints: each returns what it did, or a Status saying why it could not.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/pool.h"

namespace slate::ops {

struct Cancelled {
  size_t tasks = 0;    // ended as cancelled
  size_t running = 0;  // of them running: their workers stop them
};

// Cancels a request's unfinished tasks (its record first: the supervisor
// starts nothing new for it). kNotFound for no such request.
Result<Cancelled> CancelRequest(Pool& pool, const std::string& request, const std::string& who);

// Cancels one task: `task` is a pool task id, or a line's id (of `request`
// when given; kInvalidArgument when several unfinished lines share it).
// kWrongState when it has already ended, kNotFound when there is none.
Result<Cancelled> CancelTask(Pool& pool, const std::string& task, const std::string& request,
                             const std::string& who);

// The tasks held for review, found through their hold records.
Result<std::vector<Entry>> HeldTasks(Pool& pool);

// The held task `name` names: its pool id or its line's id.
Result<Entry> NamedHeld(Pool& pool, const std::string& name);

// A task's records in "errors" (failures, holds, dead letters), oldest first.
std::vector<nlohmann::json> TaskRecords(Pool& pool, TaskId id);

// A held task as review shows it: task, request, index, id, attempts,
// reason, errors, payload, feedback rounds and the last result.
nlohmann::json DescribeHeld(Pool& pool, const Entry& held);

// The answers. Accept: `result` becomes the task's result (dependents go
// on). Retry: it runs again, with one more feedback round when `feedback`
// is set (a plan step only: kInvalidArgument otherwise). Reject: it is
// dead-lettered (dependents are skipped), `feedback` saying why.
Status AcceptHeld(Pool& pool, const Entry& held, const nlohmann::json& result);
Status RetryHeld(Pool& pool, const Entry& held, const std::string& feedback);
Status RejectHeld(Pool& pool, const Entry& held, const std::string& feedback,
                  const std::string& who);

}  // namespace slate::ops
