#include "tree/subtasks.h"

#include <algorithm>
#include <sstream>

#include "handler.h"
#include "slate/json_payload.h"
#include "slate/plan_task.h"

namespace slate::supervisor {
namespace {

using nlohmann::json;

// A command's output, or a result that is already JSON, as the text of a
// JSON Lines request.
std::string LinesOf(const json& out) {
  if (out.is_string()) return out.get<std::string>();
  if (out.is_array()) {
    std::string text;
    for (const json& line : out) text += line.dump() + "\n";
    return text;
  }
  return out.dump() + "\n";
}

Result<std::vector<TaskDef>> Parse(const std::string& name, const std::string& text) {
  std::istringstream in(text);
  auto defs = ReadRequestStream(name, in, SplitMode::kJsonLines);
  if (defs.ok() && defs->empty())
    return Status{StatusCode::kInvalidArgument, name + " holds no subtasks"};
  return defs;
}

}  // namespace

Result<std::vector<TaskDef>> Subtasks::Make(TaskId parent, const json& payload) {
  const std::string name = "the subtasks of task " + std::to_string(parent);
  Result<std::vector<TaskDef>> defs = Status::Ok();
  if (payload.is_object() && payload.contains("subtasks")) {
    if (!payload["subtasks"].is_array())
      return Status{StatusCode::kInvalidArgument, name + ": \"subtasks\" must be an array"};
    defs = Parse(name, LinesOf(payload["subtasks"]));
  } else if (!decompose_.empty()) {
    defs = Decompose(parent, payload);
  } else {
    return Status{StatusCode::kInvalidArgument,
                  "task " + std::to_string(parent) +
                      " has no \"subtasks\" and its sub-supervisor no --decompose command"};
  }
  if (!defs.ok()) return defs;
  std::lock_guard<std::mutex> lock(mu_);
  made_[parent] = *defs;
  return defs;
}

Result<std::vector<TaskDef>> Subtasks::Of(TaskId parent) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = made_.find(parent); it != made_.end()) return it->second;
  }
  auto e = pool_.Read(parent);
  if (!e.ok()) return e.status();
  const bool plan = std::find(e->tags.begin(), e->tags.end(), kPlanTag) != e->tags.end();
  Result<json> payload = Status::Ok();
  if (plan) {
    auto stub = DecodePlanTask(e->payload);
    if (!stub.ok()) return stub.status();
    payload = stub->payload;
  } else {
    payload = PayloadToJson(e->payload);
  }
  if (!payload.ok()) return payload.status();
  return Make(parent, *payload);
}

Result<std::vector<TaskDef>> Subtasks::Decompose(TaskId parent, const json& payload) {
  worker::HandlerOptions o;
  o.name = "exec";
  o.exec_command = decompose_;
  o.exec_shell = true;
  o.default_timeout_ms = timeout_ms_;
  auto handler = worker::MakeHandler(o);
  if (!handler.ok()) return handler.status();
  worker::TaskInput in;
  in.task_id = parent;
  in.payload = payload;
  in.timeout_ms = timeout_ms_;
  worker::RunControl control;
  const worker::Outcome out = (*handler)->Run(in, control);
  const std::string name = "--decompose of task " + std::to_string(parent);
  if (!out.ok) return Status{StatusCode::kInvalidArgument, name + " failed: " + out.error};
  return Parse(name, LinesOf(out.result));
}

}  // namespace slate::supervisor
