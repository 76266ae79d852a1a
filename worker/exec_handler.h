// The exec handler: one child process per task.
//
// The child runs in its own process group with the payload on stdin (a JSON
// string as raw text, anything else as JSON) and SLATE_TASK_ID, SLATE_ATTEMPT
// and SLATE_REQUEST_ID in its environment. Its stdout is the result (JSON if
// it parses, else a string). A non-zero exit fails the task with the exit code
// and the tail of stderr. The timeout, cancellation and output beyond the
// limit kill the whole process group. So does the leader's exit: nothing the
// command started outlives its task.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "handler.h"

namespace slate::worker {

Result<std::unique_ptr<Handler>> MakeExecHandler(const HandlerOptions& options);

// Splits a command line like a shell would split words: whitespace
// separates, single and double quotes group, a backslash escapes. No
// expansion of any kind. Errors on an unterminated quote or an empty line.
Result<std::vector<std::string>> SplitCommandLine(const std::string& line);

}  // namespace slate::worker
