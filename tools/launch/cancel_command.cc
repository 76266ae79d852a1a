// slate-launch cancel: ends tasks as cancelled, straight through the pool.
// The pool makes it safe against everything else the group does: a queued
// task leaves its queue, a running one's claim goes stale (its worker sees
// it within a heartbeat and stops the command: SIGTERM, then SIGKILL), its
// late result is refused, and the supervisor skips what depends on it.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "group_service.h"
#include "plan/exhaustion.h"
#include "request/request_store.h"
#include "slate/pool.h"

namespace slate::launch {
namespace {

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "slate-launch cancel: %s\n", message.c_str());
  return code;
}

bool IsNumber(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The tasks --task names: a pool task id, or the id of a line (of --request
// when given). Several lines of different requests may share an id.
Result<std::vector<TaskId>> Named(Pool& pool, const ServiceOptions& o) {
  if (IsNumber(o.task) && pool.GetTask(std::strtoull(o.task.c_str(), nullptr, 10)).ok())
    return std::vector<TaskId>{std::strtoull(o.task.c_str(), nullptr, 10)};
  Query q;
  q.segments = {segments::kTasks};
  q.all_tags = {"id:" + o.task};
  if (!o.request.empty()) q.all_tags.push_back("req:" + o.request);
  q.with_payload = false;
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return found.status();
  std::vector<TaskId> ids;
  for (const Entry& e : *found)
    if (auto t = pool.GetTask(e.id); t.ok() && !IsFinal(t->state)) ids.push_back(e.id);
  if (ids.empty()) {
    for (const Entry& e : *found)  // it exists, but has finished
      if (auto t = pool.GetTask(e.id); t.ok())
        return Status{StatusCode::kWrongState, "task '" + o.task + "' (" +
                                                   std::to_string(e.id) + ") is already " +
                                                   TaskStateName(t->state)};
    return Status{StatusCode::kNotFound, "no task '" + o.task + "' in pool '" + o.pool + "'"};
  }
  if (ids.size() > 1 && o.request.empty())
    return Status{StatusCode::kInvalidArgument,
                  std::to_string(ids.size()) + " unfinished tasks have the id '" + o.task +
                      "'; name one with --request or by its pool id"};
  return ids;
}

Result<std::vector<TaskId>> OfRequest(Pool& pool, const ServiceOptions& o) {
  Query q;
  q.segments = {supervisor::kRequestsSegment};
  q.limit = 0;
  q.with_payload = false;
  auto reqs = pool.Find(q);
  if (!reqs.ok()) return reqs.status();
  std::optional<EntryId> known;
  for (const Entry& r : *reqs)
    if (std::to_string(r.id) == o.request) known = r.id;
  if (!known) return Status{StatusCode::kNotFound, "no request " + o.request + " in pool '" +
                                                       o.pool + "'"};
  // First the record: the supervisor starts nothing new for the request
  // (no next iteration, no validation) once it says cancelled.
  if (auto req = supervisor::LoadRequest(pool, *known); req.ok() && !req->cancelled) {
    req->cancelled = true;
    if (Status s = supervisor::SaveRequest(pool, *req); !s.ok()) return s;
  }
  return supervisor::TaskIdsOf(pool, o.request);
}

}  // namespace

int CancelTasks(const ServiceOptions& o) {
  if (o.request.empty() && o.task.empty()) return Fail("name --request R or --task ID", 2);
  auto pool = Pool::Open(o.pool);
  if (!pool.ok()) return Fail(pool.status().message());
  auto ids = o.task.empty() ? OfRequest(**pool, o) : Named(**pool, o);
  if (!ids.ok()) return Fail(ids.status().message());
  const std::string why = "cancelled by slate-launch cancel (uid " + std::to_string(getuid()) + ")";
  size_t cancelled = 0, running = 0;
  for (TaskId id : *ids) {
    auto before = (*pool)->GetTask(id);
    if (!before.ok() || IsFinal(before->state)) continue;
    auto r = (*pool)->EndTask(id, TaskState::kCancelled, why);
    if (r.ok()) {
      ++cancelled;
      running += before->state == TaskState::kRunning;
    } else if (r.status().code() != StatusCode::kWrongState) {
      return Fail("task " + std::to_string(id) + ": " + r.status().message());
    }
  }
  std::printf("slate-launch: cancelled %zu task(s)%s\n", cancelled,
              running ? (", " + std::to_string(running) + " of them running: their workers "
                         "stop them").c_str() : "");
  return 0;
}

}  // namespace slate::launch
