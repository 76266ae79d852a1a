// How a request ends, in the order that survives a kill at any point: its
// output file first, then its final entry, then its results marked
// aggregated and its tasks released, and only then the request marked
// finished. A successor that finds it unfinished builds the same document
// again; one that finds it finished leaves the output alone.
#pragma once

#include <optional>
#include <string>

#include "request/request_store.h"
#include "slate/pool.h"

namespace slate::supervisor {

// Reports a request whose tasks are all final: the result document to its
// output (else `default_output`) and standard output, the final entry, the
// summary line on standard error. Returns the request's exit status, or
// kExitInternal when the document could not be written (it stays open).
int ReportRequest(Pool& pool, const RequestRecord& req, const std::string& default_output,
                  int64_t wall_ns);

// Ends a request that cannot run (its source is gone or no longer valid):
// a final entry and an output file that say why, so a waiting submitter
// hears back and the queue moves on.
void AbandonRequest(Pool& pool, const RequestRecord& req, const std::string& why);

// Writes text to path through a temporary file and a rename: readers see
// the old file or the whole new one.
Status WriteFileAtomically(const std::string& path, const std::string& text);

// The newest final entry: of one request, or of any of the top level's
// (request_id empty; a sub-request's final is tagged with its team).
std::optional<Entry> FinalEntryOf(Pool& pool, const std::string& request_id);

}  // namespace slate::supervisor
