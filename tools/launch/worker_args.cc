#include "worker_args.h"

#include "handler.h"

namespace slate::launch {

Status CheckWorkerFlags(const WorkerFlags& f) {
  worker::HandlerOptions h;
  h.name = f.exec.empty() ? f.handler : "exec";
  h.exec_command = f.exec;
  h.exec_shell = f.shell;
  if (auto made = worker::MakeHandler(h); !made.ok()) return made.status();
  if (f.validate.empty()) return Status::Ok();
  h.name = "exec";
  h.exec_command = f.validate;
  if (auto made = worker::MakeHandler(h); !made.ok())
    return Status{made.status().code(), "--validate: " + made.status().message()};
  return Status::Ok();
}

std::vector<std::string> WorkerArgv(const std::string& bin, const std::string& name,
                                    const WorkerFlags& f, const std::vector<std::string>& caps) {
  std::vector<std::string> argv = {bin + "/slate-worker", "--name", name};
  if (f.exec.empty()) argv.insert(argv.end(), {"--handler", f.handler});
  else argv.insert(argv.end(), {"--handler", "exec", "--exec", f.exec});
  if (!f.validate.empty()) argv.insert(argv.end(), {"--validate", f.validate});
  if (f.shell) argv.push_back("--shell");
  argv.insert(argv.end(), {"--preempt-grace-ms", std::to_string(f.preempt_grace_ms)});
  for (const auto& c : caps) argv.insert(argv.end(), {"--capability", c});
  return argv;
}

}  // namespace slate::launch
