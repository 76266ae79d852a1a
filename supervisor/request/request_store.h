// A request as the pool holds it, so that no supervisor state lives outside
// the pool. The request entry (segment "requests", kept until finished)
// records the source and how many tasks it has; each task carries the tags
// "req:<request>" and "i:<input index>" (and "id:<user id>" if given).
// Posting is resumable: a supervisor that dies halfway through posting is
// replaced by one that posts only the indexes still missing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "request/request_reader.h"
#include "slate/pool.h"

namespace slate::supervisor {

inline constexpr const char* kRequestsSegment = "requests";

// How a request's tasks run beyond their lines: set by whoever submits it,
// kept in its record.
struct PlanOptions {
  uint64_t context_bytes = 1u << 20;  // each plan task's context budget
  bool validate = false;        // results go through the workers' validator
  uint32_t max_iterations = 3;  // runs of a line before it is exhausted
  OnExhausted on_exhausted = OnExhausted::kDeadLetter;  // lines may override
};

struct RequestRecord {
  EntryId entry_id = 0;
  std::string id;  // the entry id as text: tags say "req:<id>"
  std::string source;
  SplitMode split = SplitMode::kJsonLines;
  uint64_t tasks = 0;
  bool posted = false;
  int64_t started_ns = 0;
  std::string output;  // where the result JSON goes ("" for nowhere)
  bool plan = false;   // its tasks carry stubs (plan_run.h)
  PlanOptions options;
  TaskId failed_by = 0;    // the task whose exhaustion failed the request
  std::string failed_why;  // failed_by's dead letter reason
  bool failed_fast = false;  // failed_by failed as every worker failed the
                             // request's tasks (same_failure_watch.h)
  bool cancelled = false;  // by an operator: nothing new is started
  int priority = 0;        // added to each line's (submit --priority)
  // A sub-request of a supervision tree: run by `team`'s supervisor for
  // its parent's task `parent`; "" and 0 at the top level. Its record is
  // tagged "team:<team>" and "parent:<task>", its tasks "team:<team>".
  std::string team;
  TaskId parent = 0;
};

// The request to run: one already begun (its tasks posted), else the most
// urgent of those waiting (priority, then age); none when all finished.
// Of the top level or of one team of a tree.
Result<std::optional<RequestRecord>> FindActiveRequest(Pool& pool, const std::string& team = "");
// Every unfinished request in that order: begun ones first (oldest
// first), then those waiting, most urgent first.
// `after`: only records with a greater id (a supervisor that has seen
// every request up to an id need not read those records again).
Result<std::vector<RequestRecord>> FindActiveRequests(Pool& pool, const std::string& team = "",
                                                      EntryId after = 0);
// The newest request, finished or not, made for a parent task.
Result<std::optional<RequestRecord>> FindSubRequest(Pool& pool, TaskId parent);
inline constexpr const char* kTeamTag = "team:";
// The team a task or record is tagged with ("" at the top level).
std::string TeamOf(const Entry& e);
// A new request entry; its tasks are not posted yet (see PostTasks). A
// supervisor in --serve mode picks up such entries in id order.
struct RequestShape {
  bool plan = false;
  PlanOptions options;
  int priority = 0;  // the request's, added to each line's
  std::string team = {};  // a sub-request's (RequestRecord)
  TaskId parent = 0;
};
// A request is a plan when its lines depend on each other or its results
// are validated.
RequestShape ShapeOf(const std::vector<TaskDef>& defs, const PlanOptions& options);
Result<RequestRecord> CreateRequest(Pool& pool, const std::string& source, SplitMode split,
                                    uint64_t tasks, const std::string& output = "",
                                    RequestShape shape = {});
// Posts every task whose index is not in the pool yet into the backlog,
// then marks the request posted. A plan's tasks carry stubs
// (slate/plan_task.h); those with dependencies are posted waiting.
Status PostTasks(Pool& pool, RequestRecord& req, const std::vector<TaskDef>& defs,
                 AgentRef backlog, uint32_t default_max_retries);
// The request's task entries (a line's iterations too, not its
// validations), ordered by input index, then by id: a line's latest task
// comes last.
struct RequestTask {
  uint64_t index = 0;
  std::optional<std::string> user_id;
  Entry entry;
};
Result<std::vector<RequestTask>> RequestTasks(Pool& pool, const RequestRecord& req,
                                              bool with_payload);
// The id of a request's record, from its id as users see it (0 for a
// malformed one). Every entry of a request (tasks, results, failures, its
// final entry) is written after its record, and ids ascend, so a query for
// them starts after this id: its cost follows what the pool took in since
// the request began, not every request the group ever served.
EntryId RecordIdOf(const std::string& request_id);
// Every task of the request (its lines' iterations and validations too),
// ids ascending, read a page at a time.
Result<std::vector<TaskId>> TaskIdsOf(Pool& pool, const std::string& request_id);
Status FinishRequest(Pool& pool, const RequestRecord& req);
// The request's record as the pool holds it now (another process may have
// marked it cancelled or failed).
Result<RequestRecord> LoadRequest(Pool& pool, EntryId entry_id);
// Rewrites the record's payload from req (failed_by, cancelled, posted).
Status SaveRequest(Pool& pool, const RequestRecord& req);
// The tag a line's own on_exhausted travels in, and a task's policy: its
// tag's, else the request's.
inline constexpr const char* kOnExhaustedTag = "on-exhausted:";
inline constexpr const char* kNoValidateTag = "no-validate";
inline constexpr const char* kNoPreemptTag = "no-preempt";  // "preemptible": false
OnExhausted PolicyOf(const Entry& task, const RequestRecord& req);

}  // namespace slate::supervisor
