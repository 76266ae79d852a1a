// The serve handler (slate-worker --serve CMD): one command kept alive
// across tasks, so no task pays for its start (an interpreter's, a model's).
//
// The protocol is one line each way per task. The worker writes the task's
// payload as one line of JSON on the command's stdin (a plan step's whole
// envelope instead, as --exec gives it; a string payload is a JSON string
// here, quotes and all, since raw text could hold a newline). The command
// answers with one line on its stdout: the task's result, as JSON.
//  - A line that is an object whose only key is "error" fails the attempt
//    with that text, and the command carries on.
//  - A line that is not JSON fails the attempt ("not a JSON line"), and
//    the command carries on.
//  - A line longer than --max-output bytes fails the attempt, and the
//    command is killed and started again: what it writes next cannot be
//    told apart from the rest of that line.
//  - If the command exits, the task in flight fails (and is retried as any
//    failure) and the command is started again for the next task; so it is
//    after a timeout or a cancel, which kill its whole process group.
// Its stderr is read all along; a failure carries its last lines. It is
// started with the worker's environment (no per-task variables: it outlives
// tasks) and dies with the worker; when the worker stops, its stdin is
// closed and it has --stop-grace-ms to exit before SIGKILL.
#pragma once

#include <memory>

#include "handler.h"

namespace slate::worker {

Result<std::unique_ptr<Handler>> MakeServeHandler(const HandlerOptions& options);

}  // namespace slate::worker
