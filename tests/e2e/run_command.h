// Runs slate's programs as a user would, for the end-to-end tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace slate::testing {

struct CommandResult {
  int exit_code = -1;  // 128+signal if killed, -1 if timed out
  std::string out;
  std::string err;
};

// argv[0] is a program in the build's bin folder ("slate-launch") or a path.
CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms = 60000);
// Starts it in the background with output discarded (or stdout to a file);
// returns its pid.
pid_t StartCommand(const std::vector<std::string>& argv);
pid_t StartCommandToFile(const std::vector<std::string>& argv, const std::string& stdout_path);
int WaitCommand(pid_t pid, int timeout_ms);

// Pids of live processes whose command line mentions `needle`.
std::vector<pid_t> ProcessesMentioning(const std::string& needle);
// Those of them that run `program` ("slate-worker"), whatever their arguments.
std::vector<pid_t> MembersRunning(const std::string& pool, const std::string& program);
bool PoolExists(const std::string& pool);
// This test process's temporary file called `name` (/tmp, its pid in the name).
std::string TempPath(const std::string& name);
std::string WriteTempFile(const std::string& name, const std::string& content);
std::string SourceDir();
// The folder holding the test binary and slate's programs.
std::string BinDir();

}  // namespace slate::testing
