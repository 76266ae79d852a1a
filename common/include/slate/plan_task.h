// A task of a plan: what its entry in the pool carries, and the envelope a
// handler receives. Written by the supervisor, read by workers (slate-worker,
// the Python package) and tools.
//
// A plan task carries the tag "plan" and, as its payload, a stub:
//   {"slate_plan": 1, "id": <its line's id or null>, "payload": <the line's>,
//    "iteration": n, "feedback": [...], "context_bytes": budget,
//    "after": [line indexes]   while waiting: the lines it depends on,
//    "deps": [result ids],     once ready: the accepted result of each, in
//                              the order of the line's depends_on
//    "validates": result id,   a validation task: the result it checks
//    "exhausted": "why"}       a line's last task, posted when its
//                              iterations ran out: never run unless a
//                              person retries it
// "feedback" holds the rounds before this iteration, each
// {"iteration": k, "feedback": "...", "result_id": <that round's result>};
// the envelope puts the result itself in "result".
// The supervisor writes "after" when it posts the task waiting, and replaces
// it with "deps" just before MakeReady: a waiting task's stub is the only
// record of the graph's edges the pool needs, so a replacement supervisor
// rebuilds the plan from the pool alone.
//
// A result of a plan task carries the tag "id:<line id>" (when the line has
// one) and the importance of its line unless the handler set its own: the
// context of a dependent is built from those results alone.
//
// A line's tasks carry "i:<index>" and, from its second iteration on,
// "it:<k>"; its validation tasks carry "v:<index>", "it:<k>" and
// "validate", and require the capability "validate" (workers started with
// a validator have it). A validation's result is {"ok": true} or
// {"ok": false, "feedback": "..."}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/entry.h"
#include "slate/pool.h"

namespace slate {

inline constexpr const char* kPlanTag = "plan";
// A line may depend on at most this many others: its stub must fit a pool
// entry (1 MiB by default) as result ids of up to 9 bytes each.
inline constexpr size_t kMaxDependencies = 100'000;
inline constexpr uint64_t kDefaultContextBytes = 1u << 20;
inline constexpr const char* kValidateTag = "validate";
inline constexpr const char* kValidateCap = "validate";

struct PlanTask {
  std::optional<std::string> id;  // the line's id
  nlohmann::json payload;
  uint32_t iteration = 1;
  nlohmann::json feedback = nlohmann::json::array();
  uint64_t context_bytes = kDefaultContextBytes;
  std::vector<uint32_t> after;  // waiting: the lines it depends on
  std::vector<EntryId> deps;    // ready: their accepted results
  EntryId validates = 0;        // a validation task: the result it checks
  std::string exhausted;        // a line's task posted when it ran out
};

bool IsPlanTask(const Entry& task);
std::vector<uint8_t> EncodePlanTask(const PlanTask& t);
// kInvalidArgument when the payload is not a stub.
Result<PlanTask> DecodePlanTask(std::span<const uint8_t> payload);

// What a handler of a plan task gets: {"id", "payload", "context",
// "feedback", "iteration"}, "context_omitted" when the budget left
// results out, and, for a validation task, "result": the one it checks. The context maps each dependency's id to its result. Past
// context_bytes (counted as each member's JSON text), the least important
// results are left out: ordered by importance, highest first, then by their
// place in depends_on, the first that does not fit and every one after it.
// A dependency whose result is gone from the pool is an error: the task
// cannot run with a context that is not whole.
Result<nlohmann::json> BuildEnvelope(const Pool& pool, const PlanTask& t);

// The result tags a plan task's completion carries.
std::vector<std::string> PlanResultTags(const PlanTask& t);

// A validator's verdict, from what it printed: {"ok": true} or
// {"ok": false, "feedback": "<text>"}. kInvalidArgument, saying what was
// wrong, for anything else.
struct Verdict {
  bool ok = false;
  std::string feedback;
};
Result<Verdict> ParseVerdict(const nlohmann::json& printed);
nlohmann::json VerdictJson(const Verdict& v);

}  // namespace slate
