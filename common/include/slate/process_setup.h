// What every slate program does first: logging to stderr, the default pool
// name, and turning SIGTERM/SIGINT into a flag the main loop polls.
#pragma once

#include <atomic>
#include <string>

#include "slate/status.h"

namespace slate {

// Exit status of any slate program whose pool region was shrunk or replaced
// under it by another process: nothing it can do with that pool, and
// restarting it cannot help (slate-launch stops the group).
inline constexpr int kExitRegionLost = 4;

// --log-level: trace, debug, info, warn, error, off. Logs go to stderr,
// prefixed with the program's name and pid.
Status SetUpLogging(const std::string& program, const std::string& level);

// SLATE_POOL if set, else "slate".
std::string DefaultPoolName();

// SIGTERM, SIGINT and SIGHUP set the returned flag instead of killing the
// process.
// Installed without SA_RESTART, so a blocking wait returns early (EINTR).
std::atomic<bool>& InstallStopSignals();

// Arranges SIGTERM for this process when its parent dies (PR_SET_PDEATHSIG).
void DieWithParent();

// The folders searched for a program when PATH is not set.
inline constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
// Where `program` runs from, as exec would find it: a name with a slash as
// it is, else the first executable of that name in PATH (kDefaultPath when
// unset; an empty entry is the current folder); "" when there is none.
std::string FindProgram(const std::string& program);

}  // namespace slate
