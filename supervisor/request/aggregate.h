// The final result of a request, built from the pool alone: every task in
// input order with its status, result or error, worker, attempts and time,
// and a summary. A task the pool quarantined (its entry or its result's
// was damaged) still has its item, with status "lost".
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "request/request_store.h"

namespace slate::supervisor {

struct Aggregate {
  nlohmann::ordered_json request;  // the document's "request"
  nlohmann::ordered_json summary;  // the document's "summary"
  uint64_t done = 0;
  uint64_t dead_lettered = 0;
  uint64_t skipped = 0;    // a dependency will never be done
  uint64_t cancelled = 0;  // by an operator
  uint64_t lost = 0;  // quarantined by the pool: reported, never silently dropped
  std::vector<EntryId> results;  // to mark aggregated
  std::vector<EntryId> errors;   // to resolve
  std::vector<TaskId> tasks;     // to release
};

// Writes the request's result document to `out`, pretty-printed, one task
// at a time: memory grows by tens of bytes per task (ids), never by the
// document. The bytes are those of the whole document dumped with indent 2.
Result<Aggregate> WriteAggregate(Pool& pool, const RequestRecord& req, int64_t wall_ns,
                                 std::ostream& out);

// True when a result document's summary reports any task not done: the
// request's exit status is then kExitPartial.
template <typename Json>
bool IsPartial(const Json& summary) {
  for (const char* k : {"dead_lettered", "skipped", "cancelled", "lost"})
    if (summary.value(k, 0) > 0) return true;
  return false;
}

// The exit status a result document's summary calls for: 5 when the
// request failed (it names failed_by), 3 when partial, else 0.
template <typename Json>
int ExitStatusOf(const Json& summary) {
  if (summary.contains("failed_by")) return 5;
  return IsPartial(summary) ? 3 : 0;
}

// JSON text that survives any bytes a handler produced (invalid UTF-8 is
// replaced, never thrown on).
std::string DumpJson(const nlohmann::ordered_json& j, int indent = -1);

}  // namespace slate::supervisor
