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

#include "request_reader.h"
#include "slate/pool.h"

namespace slate::supervisor {

inline constexpr const char* kRequestsSegment = "requests";

struct RequestRecord {
  EntryId entry_id = 0;
  std::string id;  // the entry id as text: tags say "req:<id>"
  std::string source;
  SplitMode split = SplitMode::kJsonLines;
  uint64_t tasks = 0;
  bool posted = false;
  int64_t started_ns = 0;
  std::string output;  // where the result JSON goes ("" for nowhere)
  bool plan = false;   // its lines depend on each other (plan_run.h)
  uint64_t context_bytes = 0;  // plans: each task's context budget
};

// The oldest request not yet finished, if any.
Result<std::optional<RequestRecord>> FindActiveRequest(Pool& pool);
// A new request entry; its tasks are not posted yet (see PostTasks). A
// supervisor in --serve mode picks up such entries in id order.
struct RequestShape {
  bool plan = false;
  uint64_t context_bytes = 0;
};
Result<RequestRecord> CreateRequest(Pool& pool, const std::string& source, SplitMode split,
                                    uint64_t tasks, const std::string& output = "",
                                    RequestShape shape = {});
// Posts every task whose index is not in the pool yet into the backlog,
// then marks the request posted. A plan's tasks carry stubs
// (slate/plan_task.h); those with dependencies are posted waiting.
Status PostTasks(Pool& pool, RequestRecord& req, const std::vector<TaskDef>& defs,
                 AgentRef backlog, uint32_t default_max_retries);
// The request's task entries, ordered by input index.
struct RequestTask {
  uint64_t index = 0;
  std::optional<std::string> user_id;
  Entry entry;
};
Result<std::vector<RequestTask>> RequestTasks(Pool& pool, const RequestRecord& req,
                                              bool with_payload);
Status FinishRequest(Pool& pool, const RequestRecord& req);

}  // namespace slate::supervisor
