// slate-launch review: a person's part in a run. Tasks whose retries or
// iterations ran out under on_exhausted review are held in the pool (not
// final, in no queue); the request stays open until each is answered:
//   review                      lists them with their history
//   review accept ID --result   supplies the result; dependents go on
//   review retry ID             runs it again (--feedback: one more round)
//   review reject ID            dead-letters it; dependents are skipped
// Every answer is one pool transaction on the held task (a retry with
// feedback first rewrites its stub, idempotently), so a killed command
// leaves the task held or answered, never half of it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "group_service.h"
#include "operator_actions.h"
#include "slate/json_payload.h"
#include "slate/pool.h"

namespace slate::launch {
namespace {

using nlohmann::json;

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "slate-launch review: %s\n", message.c_str());
  return code;
}

void PrintHeld(const json& d) {
  std::printf("task %s  request %s  line %s%s  attempts %s\n", d["task"].dump().c_str(),
              d["request"].get<std::string>().c_str(), d["index"].dump().c_str(),
              d["id"].is_null() ? "" : (" ('" + d["id"].get<std::string>() + "')").c_str(),
              d["attempts"].dump().c_str());
  std::printf("  held: %s\n", d.value("reason", "").c_str());
  for (const auto& err : d["errors"]) std::printf("  error: %s\n", err.dump().c_str());
  if (d.contains("feedback"))
    for (const auto& r : d["feedback"])
      std::printf("  iteration %s: %s\n", r["iteration"].dump().c_str(),
                  r.value("feedback", "").c_str());
  if (d.contains("last_result"))
    std::printf("  last result: %s\n", JsonText(d["last_result"]).c_str());
  std::printf("  payload: %s\n", JsonText(d.value("payload", json(nullptr))).c_str());
}

std::string Who() { return "a person (uid " + std::to_string(getuid()) + ")"; }

int List(Pool& pool, const ServiceOptions& o) {
  auto held = ops::HeldTasks(pool);
  if (!held.ok()) return Fail(held.status().message());
  json all = json::array();
  for (const Entry& e : *held) all.push_back(ops::DescribeHeld(pool, e));
  if (o.json) {
    std::printf("%s\n", JsonText(all, 2).c_str());
    return 0;
  }
  if (all.empty()) std::printf("no task is held for review in pool '%s'\n", o.pool.c_str());
  for (const auto& d : all) PrintHeld(d);
  return 0;
}

int Accept(Pool& pool, const Entry& e, const ServiceOptions& o) {
  std::string text = o.result;
  if (!o.result_file.empty()) {
    std::ifstream in(o.result_file, std::ios::binary);
    if (!in) return Fail("cannot read " + o.result_file, 2);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.empty() && o.result_file.empty())
    return Fail("accept needs the result: --result JSON or --result-file F", 2);
  const json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Fail("the result is not valid JSON", 2);
  if (Status st = ops::AcceptHeld(pool, e, value); !st.ok())
    return Fail(st.message(), st.code() == StatusCode::kInvalidArgument ? 2 : 1);
  std::printf("slate-launch: task %llu accepted with the given result; what depends on it goes on\n",
              static_cast<unsigned long long>(e.id));
  return 0;
}

int Retry(Pool& pool, const Entry& e, const ServiceOptions& o) {
  if (Status st = ops::RetryHeld(pool, e, o.feedback); !st.ok())
    return Fail(st.message(), st.code() == StatusCode::kInvalidArgument ? 2 : 1);
  std::printf("slate-launch: task %llu runs again%s\n", static_cast<unsigned long long>(e.id),
              o.feedback.empty() ? "" : " with your feedback");
  return 0;
}

int Reject(Pool& pool, const Entry& e, const ServiceOptions& o) {
  if (Status st = ops::RejectHeld(pool, e, o.feedback, Who()); !st.ok()) return Fail(st.message());
  std::printf("slate-launch: task %llu dead-lettered; what depends on it is skipped\n",
              static_cast<unsigned long long>(e.id));
  return 0;
}

}  // namespace

int ReviewTasks(const ServiceOptions& o) {
  const bool list = o.action.empty() || o.action == "list";
  if (!list && o.action != "accept" && o.action != "retry" && o.action != "reject")
    return Fail("unknown action '" + o.action + "' (list, accept, retry, reject)", 2);
  if (!list && o.task.empty())
    return Fail(o.action + " needs the held task's ID (see review --help)", 2);
  auto pool = Pool::Open(o.pool);
  if (!pool.ok()) return Fail(pool.status().message());
  if (list) return List(**pool, o);
  auto e = ops::NamedHeld(**pool, o.task);
  if (!e.ok())
    return Fail(e.status().message(), e.status().code() == StatusCode::kInvalidArgument ? 2 : 1);
  if (o.action == "accept") return Accept(**pool, *e, o);
  if (o.action == "retry") return Retry(**pool, *e, o);
  return Reject(**pool, *e, o);
}

}  // namespace slate::launch
