#include "tree/sub_request_handler.h"

#include <spdlog/spdlog.h>

#include "request/aggregate.h"
#include "request/request_report.h"
#include "slate/json_payload.h"

namespace slate::supervisor {
namespace {

using nlohmann::json;
using worker::Outcome;

// The children's results as the parent's: each subtask's id (or index)
// with its result, in input order.
json ResultsOf(const json& doc) {
  json out = json::array();
  for (const json& t : doc.value("tasks", json::array())) {
    json item = {{"id", t.contains("id") && !t["id"].is_null() ? t["id"] : t.value("index", json())},
                 {"result", t.value("result", json())}};
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Result<RequestRecord> SubRequestHandler::SubRequestFor(const worker::TaskInput& in) {
  auto found = FindSubRequest(pool_, in.task_id);
  if (!found.ok()) return found.status();
  if (*found) {
    auto fin = FinalEntryOf(pool_, (*found)->id);
    if (!fin) {
      spdlog::info("task {}: resuming its sub-request {}", in.task_id, (*found)->id);
      return **found;
    }
    auto doc = PayloadToJson(fin->payload);
    if (doc.ok() && doc->contains("summary") && ExitStatusOf((*doc)["summary"]) == kExitOk)
      return **found;
    spdlog::info("task {}: its sub-request {} ended short; running it anew", in.task_id,
                 (*found)->id);
  }
  auto defs = subtasks_.Make(in.task_id, in.payload);
  if (!defs.ok()) return defs.status();
  RequestShape shape = ShapeOf(*defs, cfg_.plan);
  shape.team = cfg_.team;
  shape.parent = in.task_id;
  auto made = CreateRequest(pool_, "task " + std::to_string(in.task_id), SplitMode::kJsonLines,
                            defs->size(), "", shape);
  if (made.ok())
    spdlog::info("task {}: sub-request {} of {} subtasks for team '{}'", in.task_id, made->id,
                 defs->size(), cfg_.team);
  return made;
}

Outcome SubRequestHandler::Run(const worker::TaskInput& in, worker::RunControl& control) {
  auto req = SubRequestFor(in);
  if (!req.ok()) return Outcome::Failure(req.status().message());
  Query finals;
  finals.segments = {segments::kResults};
  finals.all_tags = {"final", "req:" + req->id};
  finals.limit = 1;
  finals.with_payload = false;
  for (;;) {
    if (auto fin = FinalEntryOf(pool_, req->id)) return OutcomeOf(in, *req, *fin);
    if (control.cancel.load())
      return Outcome::Failure("given up before sub-request " + req->id +
                              " finished; it goes on in the pool and resumes with the next try");
    (void)pool_.Wait(finals, std::chrono::milliseconds(200));
  }
}

Outcome SubRequestHandler::OutcomeOf(const worker::TaskInput& in, const RequestRecord& req,
                                     const Entry& final_entry) {
  auto doc = PayloadToJson(final_entry.payload);
  if (!doc.ok() || !doc->contains("summary"))
    return Outcome::Failure("sub-request " + req.id + ": its result cannot be read");
  const json& summary = (*doc)["summary"];
  if (ExitStatusOf(summary) != kExitOk)
    return Outcome::Failure("sub-request " + req.id + " of team '" + cfg_.team +
                            "' ended short: " + summary.dump());
  if (!doc->contains("tasks"))
    return Outcome::Failure("sub-request " + req.id + ": " +
                            doc->value("note", std::string("its results were omitted")));
  json results = {{"team", cfg_.team}, {"sub_request", req.id}, {"results", ResultsOf(*doc)}};
  if (cfg_.synthesize.empty()) return Outcome::Success(std::move(results));
  worker::HandlerOptions o;
  o.name = "exec";
  o.exec_command = cfg_.synthesize;
  o.exec_shell = true;
  auto handler = worker::MakeHandler(o);
  if (!handler.ok()) return Outcome::Failure(handler.status().message());
  worker::TaskInput synth;
  synth.task_id = in.task_id;
  synth.payload = {{"task", in.payload}, {"results", results["results"]}};
  worker::RunControl control;
  Outcome out = (*handler)->Run(synth, control);
  if (!out.ok) out.error = "--synthesize failed: " + out.error;
  return out;
}

}  // namespace slate::supervisor
