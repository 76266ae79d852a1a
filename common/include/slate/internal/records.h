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
// started_ns/ended_ns: wall clock of the attempt's claim and failure.
std::vector<uint8_t> FailureRecord(uint64_t task, uint32_t attempt,
                                   const std::string& agent,
                                   const std::string& error, int64_t started_ns,
                                   int64_t ended_ns);
// A running claim taken away (its holder died, hung, lost its lease, left).
std::vector<uint8_t> LostRecord(uint64_t task, uint32_t attempt, const std::string& agent,
                                const std::string& reason, int64_t started_ns,
                                int64_t ended_ns);
// history: the task's earlier records in "errors" (failure and lost), oldest
// first, each a msgpack map; embedded as an array.
std::vector<uint8_t> DeadLetterRecord(uint64_t task, uint32_t attempts,
                                      const std::string& last_agent,
                                      const std::string& reason,
                                      const std::vector<std::vector<uint8_t>>& history);
std::vector<uint8_t> AgentEntryRecord(const std::string& name, int32_t pid,
                                      const std::vector<std::string>& caps);

}  // namespace slate::internal
