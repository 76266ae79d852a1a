// The msgpack payloads the pool writes on its own: conflict, failure,
// dead-letter and agent records. Each is a map with a "kind" key, so a
// reader (dump, monitor, coordinator) can tell them apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slate::internal {

// Error texts are clipped to this many bytes so a record always fits.
inline constexpr size_t kMaxErrorText = 4096;

std::vector<uint8_t> StaleRecord(const char* op, uint64_t task, uint32_t epoch,
                                 uint32_t current_epoch, const char* state,
                                 const std::string& holder,
                                 const std::string& refused);
// An operation refused because the supervisor making it led in a term that
// is over (Pool::FenceByLead): `term` its term, `current_term` the lead's.
std::vector<uint8_t> StaleTermRecord(uint64_t term, uint64_t current_term,
                                     const std::string& holder,
                                     const std::string& refused);
// One attempt that did not produce a result: kind "failure" (the handler
// failed) or "lost" (the claim was taken from its holder: it died, hung or
// lost its lease). started_ns/ended_ns: wall clock of the claim and the end.
std::vector<uint8_t> AttemptRecord(const char* kind, uint64_t task, uint32_t attempt,
                                   const std::string& agent, const std::string& error,
                                   int64_t started_ns, int64_t ended_ns);
// history: the task's earlier records in "errors" (failure and lost), oldest
// first, each a msgpack map; embedded as an array.
std::vector<uint8_t> DeadLetterRecord(const char* kind, uint64_t task, uint32_t attempts,
                                      const std::string& last_agent,
                                      const std::string& reason,
                                      const std::vector<std::vector<uint8_t>>& history);
std::vector<uint8_t> AgentEntryRecord(const std::string& name, int32_t pid,
                                      const std::vector<std::string>& caps);

}  // namespace slate::internal
