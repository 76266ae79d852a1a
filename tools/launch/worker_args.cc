#include "worker_args.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "exec_handler.h"
#include "handler.h"
#include "slate/process_setup.h"

namespace slate::launch {
namespace {

// A command's program can be run: a path that is executable, or a name
// found executable in PATH. Without --shell only (a shell line's program
// is the shell's to find).
Status CheckProgram(const std::string& flag, const std::string& line) {
  auto words = worker::SplitCommandLine(line);
  if (!words.ok() || words->empty()) return Status::Ok();  // MakeHandler says why
  const std::string& program = words->front();
  if (!FindProgram(program).empty()) return Status::Ok();
  if (program.find('/') != std::string::npos)
    return {StatusCode::kInvalidArgument,
            flag + ": cannot run '" + program + "': " + std::strerror(errno)};
  const char* path = std::getenv("PATH");
  return {StatusCode::kInvalidArgument, flag + ": no program '" + program + "' in PATH (" +
                                            (path ? path : kDefaultPath) + ")"};
}

}  // namespace

Status CheckWorkerFlags(const WorkerFlags& f) {
  if (!f.python.empty()) {
    const size_t colon = f.python.find(':');
    if (colon == 0 || colon == std::string::npos || colon + 1 == f.python.size())
      return {StatusCode::kInvalidArgument,
              "--python-worker: expected MODULE:FUNCTION, got '" + f.python + "'"};
    if (!f.exec.empty() || !f.serve.empty() || !f.validate.empty())
      return {StatusCode::kInvalidArgument,
              "--python-worker runs a Python function: it takes no --exec, --serve or "
              "--validate"};
    return Status::Ok();
  }
  if (!f.exec.empty() && !f.serve.empty())
    return {StatusCode::kInvalidArgument,
            "give --exec (a process per task) or --serve (one kept alive), not both"};
  worker::HandlerOptions h;
  h.name = !f.serve.empty() ? "serve" : f.exec.empty() ? f.handler : "exec";
  h.exec_command = !f.serve.empty() ? f.serve : f.exec;
  h.exec_shell = f.shell;
  if (auto made = worker::MakeHandler(h); !made.ok()) return made.status();
  if (!f.shell && !h.exec_command.empty())
    if (Status s = CheckProgram(f.serve.empty() ? "--exec" : "--serve", h.exec_command); !s.ok())
      return s;
  if (f.validate.empty()) return Status::Ok();
  if (!f.shell)
    if (Status s = CheckProgram("--validate", f.validate); !s.ok()) return s;
  h.name = "exec";
  h.exec_command = f.validate;
  if (auto made = worker::MakeHandler(h); !made.ok())
    return Status{made.status().code(), "--validate: " + made.status().message()};
  return Status::Ok();
}

Status CheckPythonWorker(const std::string& bin, const WorkerFlags& f) {
  if (f.python.empty()) return Status::Ok();
  const std::string program = bin + "/slate-python-worker";
  if (access(program.c_str(), X_OK) != 0)
    return {StatusCode::kNotFound, "--python-worker: " + program +
                                       " is not there (this build has no Python package)"};
  const pid_t child = fork();
  if (child < 0) return {StatusCode::kIoError, "--python-worker: cannot fork"};
  if (child == 0) {
    execl(program.c_str(), program.c_str(), "--check", "--function", f.python.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  return {StatusCode::kInvalidArgument,
          "--python-worker " + f.python + " cannot be served (its error is above)"};
}

std::vector<std::string> WorkerArgv(const std::string& bin, const std::string& name,
                                    const WorkerFlags& f, const std::vector<std::string>& caps) {
  if (!f.python.empty()) {
    std::vector<std::string> argv = {bin + "/slate-python-worker", "--name", name,
                                     "--function", f.python};
    for (const auto& c : caps) argv.insert(argv.end(), {"--capability", c});
    return argv;
  }
  std::vector<std::string> argv = {bin + "/slate-worker", "--name", name};
  if (!f.serve.empty()) argv.insert(argv.end(), {"--handler", "serve", "--serve", f.serve});
  else if (f.exec.empty()) argv.insert(argv.end(), {"--handler", f.handler});
  else argv.insert(argv.end(), {"--handler", "exec", "--exec", f.exec});
  if (!f.validate.empty()) argv.insert(argv.end(), {"--validate", f.validate});
  if (f.shell) argv.push_back("--shell");
  argv.insert(argv.end(), {"--preempt-grace-ms", std::to_string(f.preempt_grace_ms)});
  for (const auto& c : caps) argv.insert(argv.end(), {"--capability", c});
  return argv;
}

}  // namespace slate::launch
