// Text and JSON renderings of entries and pool statistics: the one way
// slate-dump, slate-monitor and the tests print them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/agent.h"
#include "slate/entry.h"
#include "slate/stats.h"

namespace slate {

// "2026-11-21T16:50:23.123Z"
std::string FormatTime(int64_t wall_ns);

// A fixed-width table of entries: ID SEGMENT IMP LIVE AUTHOR CREATED TAGS
// PAYLOAD. Payloads are shown as compact JSON, cut to payload_width with "...".
std::string EntryTableHeader();
std::string EntryTableRow(const Entry& e, size_t payload_width = 60);

// One JSON object per entry; the payload decoded from msgpack to JSON (or,
// if undecodable, {"undecodable_msgpack_hex": "..."}).
nlohmann::ordered_json EntryToJson(const Entry& e);

// The --stats report: capacity, segments, tasks by state, agents.
std::string FormatStats(const PoolStats& stats, const std::vector<AgentInfo>& agents);
// Two lines: the lead's term and its holder (name, pid, liveness, lease);
// then the other supervisors, which stand by, and how many operations
// the pool refused under a term that was over. A supervision tree adds
// its TREE lines: each team under its parent, with its supervisor, its
// workers and its parent's tasks it is running.
std::string FormatLead(const PoolStats& stats, const std::vector<AgentInfo>& agents);
nlohmann::ordered_json StatsToJson(const PoolStats& stats, const std::vector<AgentInfo>& agents);

}  // namespace slate
