#include "pool_binding.h"

#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "error.h"
#include "json_convert.h"
#include "slate/json_payload.h"
#include "slate/pool.h"

namespace slate::python {

namespace py = pybind11;
using namespace pybind11::literals;
using std::chrono::milliseconds;

namespace {

void Check(const Status& s) {
  if (!s.ok()) throw Error(s.ToString());
}

template <typename T>
T Take(Result<T> r) {
  Check(r.status());
  return std::move(*r);
}

std::vector<uint8_t> PayloadOf(py::handle o) { return JsonToPayload(FromPython(o)); }

py::object FromPayload(const std::vector<uint8_t>& p) {
  if (p.empty()) return py::none();
  return ToPython(Take(PayloadToJson(p)));
}

py::dict EntryDict(const Entry& e) {
  py::dict d;
  d["id"] = e.id;
  d["segment"] = e.segment;
  d["tags"] = e.tags;
  d["importance"] = e.importance;
  d["author"] = e.author;
  d["created_ns"] = e.created_ns;
  d["updated_ns"] = e.updated_ns;
  d["payload"] = FromPayload(e.payload);
  d["task_id"] = e.task_id;
  d["run_ns"] = e.run_ns;
  return d;
}

py::dict TaskDict(const TaskInfo& t) {
  py::dict d;
  d["id"] = t.id;
  d["state"] = TaskStateName(t.state);
  d["priority"] = t.priority;
  d["requires"] = t.requires_cap;
  d["attempts"] = t.attempts;
  d["max_retries"] = t.max_retries;
  d["epoch"] = t.epoch;
  d["result_id"] = t.result_id;
  d["checkpointed"] = t.checkpointed;
  return d;
}

AgentRole RoleOf(const std::string& role) {
  if (role == "worker") return AgentRole::kWorker;
  if (role == "supervisor") return AgentRole::kSupervisor;
  if (role == "coordinator") return AgentRole::kCoordinator;
  if (role == "sub-supervisor") return AgentRole::kSubSupervisor;
  throw py::value_error("role is worker, supervisor, coordinator or sub-supervisor, not '" + role + "'");
}

Query MakeQuery(const std::optional<std::vector<std::string>>& segments,
                const std::optional<std::vector<std::string>>& tags,
                const std::optional<std::vector<std::string>>& any_tags, float min_importance,
                const std::string& author, const std::string& exclude_author, EntryId after_id,
                uint32_t limit, bool by_importance) {
  Query q;
  if (segments) q.segments = *segments;
  if (tags) q.all_tags = *tags;
  if (any_tags) q.any_tags = *any_tags;
  q.min_importance = min_importance;
  q.author = author;
  q.exclude_author = exclude_author;
  q.after_id = after_id;
  q.limit = limit;
  q.order = by_importance ? QueryOrder::kByImportanceThenRecency : QueryOrder::kById;
  return q;
}

py::list EntryList(const std::vector<Entry>& entries) {
  py::list l;
  for (const Entry& e : entries) l.append(EntryDict(e));
  return l;
}

// One attached pool. Closed when the object goes (or close()).
class PyPool {
 public:
  explicit PyPool(std::unique_ptr<Pool> p) : p_(std::move(p)) {}

  Pool& p() {
    if (!p_) throw Error("the pool is closed");
    return *p_;
  }
  void Close() { p_.reset(); }

 private:
  std::unique_ptr<Pool> p_;
};

#define UNLOCKED(expr) ([&] { py::gil_scoped_release unlocked; return expr; }())

}  // namespace

void BindPool(py::module_& m) {
  py::class_<AgentRef>(m, "AgentRef", "A registered agent: its row and generation.")
      .def_readonly("row", &AgentRef::row)
      .def_readonly("generation", &AgentRef::generation)
      .def("__eq__", [](const AgentRef& a, const AgentRef& b) { return a == b; })
      .def("__repr__", [](const AgentRef& a) {
        return "AgentRef(row=" + std::to_string(a.row) + ", generation=" +
               std::to_string(a.generation) + ")";
      });

  py::class_<PyPool>(m, "Pool", "A slate pool in shared memory, attached to this process.")
      .def_static(
          "create",
          [](const std::string& name, uint32_t slots, uint64_t data_bytes, uint32_t max_payload,
             uint32_t agents) {
            PoolOptions o;
            o.name = name;
            o.slot_capacity = slots;
            o.data_bytes = data_bytes;
            o.max_payload = max_payload;
            o.agent_capacity = agents;
            return PyPool(Take(UNLOCKED(Pool::Create(o))));
          },
          "name"_a, "slots"_a = 65536, "data_bytes"_a = uint64_t{64} << 20,
          "max_payload"_a = 1u << 20, "agents"_a = 64,
          "Creates the pool `name` (/dev/shm/slate.<name>); fails if it exists.")
      .def_static(
          "open", [](const std::string& name) { return PyPool(Take(UNLOCKED(Pool::Open(name)))); },
          "name"_a, "Attaches to the pool `name`.")
      .def_static(
          "remove", [](const std::string& name) { Check(UNLOCKED(Pool::Remove(name))); },
          "name"_a, "Removes the pool's name; attached processes keep their mapping.")
      .def_static("exists", &Pool::Exists, "name"_a)
      .def("close", &PyPool::Close, "Detaches (also when the object goes).")
      .def_property_readonly("name", [](PyPool& self) { return self.p().name(); })
      // ---- entries ----
      .def(
          "write",
          [](PyPool& self, const std::string& segment, py::handle payload,
             std::vector<std::string> tags, float importance, const std::string& author,
             bool keep) {
            NewEntry e;
            e.segment = segment;
            e.payload = PayloadOf(payload);
            e.tags = std::move(tags);
            e.importance = importance;
            e.author = author;
            e.keep = keep;
            return Take(UNLOCKED(self.p().Write(e)));
          },
          "segment"_a, "payload"_a, "tags"_a = std::vector<std::string>{}, "importance"_a = 0.5f,
          "author"_a = "", "keep"_a = false,
          "Writes an entry; returns its id. keep: never evicted until released.")
      .def(
          "read", [](PyPool& self, EntryId id) { return EntryDict(Take(UNLOCKED(self.p().Read(id)))); },
          "id"_a, "The entry as a dict (id, segment, tags, importance, author, created_ns, "
                  "updated_ns, payload, task_id, and for a task's result run_ns: its claim's run, 0 "
                  "if unknown).")
      .def(
          "update",
          [](PyPool& self, EntryId id, std::optional<py::object> payload,
             std::optional<std::vector<std::string>> tags, std::optional<float> importance) {
            EntryUpdate u;
            if (payload) u.payload = PayloadOf(*payload);
            u.tags = std::move(tags);
            u.importance = importance;
            Check(UNLOCKED(self.p().Update(id, u)));
          },
          "id"_a, "payload"_a = py::none(), "tags"_a = py::none(), "importance"_a = py::none(),
          "Replaces what is given of an entry's payload, tags and importance.")
      .def(
          "erase", [](PyPool& self, EntryId id) { Check(UNLOCKED(self.p().Erase(id))); }, "id"_a)
      .def(
          "find",
          [](PyPool& self, std::optional<std::vector<std::string>> segments,
             std::optional<std::vector<std::string>> tags,
             std::optional<std::vector<std::string>> any_tags, float min_importance,
             const std::string& author, const std::string& exclude_author, EntryId after_id,
             uint32_t limit, bool by_importance) {
            const Query q = MakeQuery(segments, tags, any_tags, min_importance, author,
                                      exclude_author, after_id, limit, by_importance);
            return EntryList(Take(UNLOCKED(self.p().Find(q))));
          },
          "segments"_a = py::none(), "tags"_a = py::none(), "any_tags"_a = py::none(),
          "min_importance"_a = 0.0f, "author"_a = "", "exclude_author"_a = "", "after_id"_a = 0,
          "limit"_a = 100, "by_importance"_a = false,
          "Entries matching every filter given: segments, all of tags, any of any_tags, "
          "importance, author, not exclude_author, id past after_id; oldest first (or most "
          "important, then newest), at most limit (0: all).")
      .def(
          "wait",
          [](PyPool& self, std::optional<std::vector<std::string>> segments,
             std::optional<std::vector<std::string>> tags,
             std::optional<std::vector<std::string>> any_tags, float min_importance,
             const std::string& exclude_author, EntryId after_id, uint32_t limit,
             double timeout_s) {
            const Query q = MakeQuery(segments, tags, any_tags, min_importance, "",
                                      exclude_author, after_id, limit, false);
            const auto timeout = milliseconds(static_cast<int64_t>(timeout_s * 1000));
            return EntryList(Take(UNLOCKED(self.p().Wait(q, timeout))));
          },
          "segments"_a = py::none(), "tags"_a = py::none(), "any_tags"_a = py::none(),
          "min_importance"_a = 0.0f, "exclude_author"_a = "", "after_id"_a = 0, "limit"_a = 100,
          "timeout_s"_a = 1.0,
          "As find, but sleeps until a matching entry past after_id is written, or the "
          "timeout passes (then an empty list).")
      // ---- tasks ----
      .def(
          "post",
          [](PyPool& self, py::handle payload, std::vector<std::string> tags, int priority,
             const std::string& requires_cap, uint32_t max_retries, uint32_t timeout_ms,
             std::optional<AgentRef> assignee) {
            TaskSpec t;
            t.entry.payload = PayloadOf(payload);
            t.entry.tags = std::move(tags);
            t.priority = priority;
            t.requires_cap = requires_cap;
            t.max_retries = max_retries;
            t.timeout_ms = timeout_ms;
            if (assignee) t.assignee = *assignee;
            return Take(UNLOCKED(self.p().PostTask(t)));
          },
          "payload"_a, "tags"_a = std::vector<std::string>{}, "priority"_a = 0,
          "requires"_a = "", "max_retries"_a = 3, "timeout_ms"_a = 0,
          "assignee"_a = py::none(),
          "Posts a task to an agent's queue (default: the shared one); returns its id.")
      .def(
          "claim",
          [](PyPool& self, AgentRef agent, uint32_t lease_ms, double wait_s) -> py::object {
            auto c = Take(UNLOCKED(wait_s > 0 ? self.p().WaitClaim(
                                                   agent, milliseconds(lease_ms),
                                                   milliseconds(static_cast<int64_t>(wait_s * 1000)))
                                             : self.p().ClaimNext(agent, milliseconds(lease_ms))));
            if (!c) return py::none();
            py::dict d = TaskDict(c->task);
            d["payload"] = FromPayload(c->entry.payload);
            d["tags"] = c->entry.tags;
            return d;
          },
          "agent"_a, "lease_ms"_a = 30000, "wait_s"_a = 0.0,
          "Claims the agent's next task (its queue, then the shared one) for lease_ms, "
          "waiting up to wait_s for one; None when there is none. The dict's epoch fences "
          "renew, complete and fail.")
      .def(
          "renew",
          [](PyPool& self, TaskId id, uint32_t epoch, uint32_t lease_ms) {
            Check(UNLOCKED(self.p().RenewLease(id, epoch, milliseconds(lease_ms))));
          },
          "task"_a, "epoch"_a, "lease_ms"_a = 30000)
      .def(
          "complete",
          [](PyPool& self, TaskId id, uint32_t epoch, py::handle result,
             std::vector<std::string> tags, float importance, std::optional<AgentRef> by) {
            TaskResult r;
            r.payload = PayloadOf(result);
            r.tags = std::move(tags);
            r.importance = importance;
            return Take(UNLOCKED(self.p().Complete(id, epoch, r, by.value_or(kSharedQueue))));
          },
          "task"_a, "epoch"_a, "result"_a, "tags"_a = std::vector<std::string>{},
          "importance"_a = 0.5f, "by"_a = py::none(),
          "Records the result and marks the task done, if epoch is its current claim; "
          "returns the result's entry id. A stale epoch is slate.Error.")
      .def(
          "fail",
          [](PyPool& self, TaskId id, uint32_t epoch, const std::string& error,
             std::optional<AgentRef> by) {
            Check(UNLOCKED(self.p().Fail(id, epoch, error, by.value_or(kSharedQueue))));
          },
          "task"_a, "epoch"_a, "error"_a, "by"_a = py::none())
      .def(
          "task", [](PyPool& self, TaskId id) { return TaskDict(Take(UNLOCKED(self.p().GetTask(id)))); },
          "id"_a, "A task's state, attempts, epoch and result id.")
      // ---- agents ----
      .def(
          "register",
          [](PyPool& self, const std::string& name, std::vector<std::string> capabilities,
             const std::string& role, const std::string& team) {
            return Take(UNLOCKED(self.p().RegisterAgent({name, std::move(capabilities), 0,
                                                         RoleOf(role), team})));
          },
          "name"_a, "capabilities"_a = std::vector<std::string>{}, "role"_a = "worker",
          "team"_a = "",
          "Registers this process as an agent (in a team of a supervision tree, if given); "
          "returns its AgentRef.")
      .def(
          "heartbeat", [](PyPool& self, AgentRef a) { Check(self.p().Heartbeat(a)); }, "agent"_a)
      .def(
          "deregister", [](PyPool& self, AgentRef a) { Check(UNLOCKED(self.p().Deregister(a))); },
          "agent"_a, "Leaves: its queued and running tasks go to the shared queue.")
      .def(
          "leader",
          [](PyPool& self) {
            const LeaderInfo l = Take(UNLOCKED(self.p().Leader()));
            const PoolStats st = Take(UNLOCKED(self.p().Stats()));
            py::dict d;
            d["term"] = l.term;
            d["name"] = l.name;
            d["pid"] = l.pid;
            d["alive"] = l.alive;
            d["expires_in_s"] = static_cast<double>(l.expires_in_ns) / 1e9;
            d["refused"] = st.lead_refused;
            return d;
          },
          "Who leads the pool's supervisors: term (0: never), name and pid of the holder "
          "('' and 0: nobody), alive, expires_in_s (the lease; negative once run out), and "
          "refused: operations the pool refused under a term that was over.");
}

}  // namespace slate::python
