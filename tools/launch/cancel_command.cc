// slate-launch cancel: ends tasks as cancelled, straight through the pool
// (operator_actions.h). The pool makes it safe against everything else the
// group does: a queued task leaves its queue, a running one's claim goes
// stale (its worker sees it within a heartbeat and stops the command:
// SIGTERM, then SIGKILL), its late result is refused, and the supervisor
// skips what depends on it.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "group_service.h"
#include "operator_actions.h"
#include "slate/pool.h"

namespace slate::launch {

int CancelTasks(const ServiceOptions& o) {
  auto fail = [](const std::string& message, int code = 1) {
    std::fprintf(stderr, "slate-launch cancel: %s\n", message.c_str());
    return code;
  };
  if (o.request.empty() && o.task.empty()) return fail("name --request R or --task ID", 2);
  auto pool = Pool::Open(o.pool);
  if (!pool.ok()) return fail(pool.status().message());
  const std::string who = "slate-launch cancel (uid " + std::to_string(getuid()) + ")";
  auto done = o.task.empty() ? ops::CancelRequest(**pool, o.request, who)
                             : ops::CancelTask(**pool, o.task, o.request, who);
  if (!done.ok()) return fail(done.status().message());
  std::printf("slate-launch: cancelled %zu task(s)%s\n", done->tasks,
              done->running ? (", " + std::to_string(done->running) +
                               " of them running: their workers stop them").c_str()
                            : "");
  return 0;
}

}  // namespace slate::launch
