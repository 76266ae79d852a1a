#include "client.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "error.h"
#include "json_convert.h"
#include "request/request_reader.h"
#include "request/request_store.h"
#include "slate/clock.h"
#include "slate/json_payload.h"
#include "slate/pool.h"

namespace slate::python {

namespace py = pybind11;
using std::chrono::milliseconds;

namespace {

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) throw Error(what + ": " + r.status().message());
  return std::move(*r);
}

}  // namespace

py::object Submit(const SubmitOptions& o) {
  if (o.priority < -128 || o.priority > 127)
    throw py::value_error("priority must be in -128..127, not " + std::to_string(o.priority));
  const auto split = Must(supervisor::ParseSplitMode(o.split), "split");
  std::error_code ec;
  const std::string source = std::filesystem::absolute(o.path, ec).lexically_normal().string();
  std::unique_ptr<Pool> pool;
  std::string id;
  nlohmann::json doc;
  py::gil_scoped_release unlocked;  // no Python object is touched below
  {
    const auto defs = Must(supervisor::ReadRequest(source, split), "the request");
    pool = Must(Pool::Open(o.pool), "pool '" + o.pool + "'");
    if (!Must(pool->Leader(), "pool '" + o.pool + "'").alive)
      throw Error("no supervisor leads pool '" + o.pool + "' (slate-launch start)");
    supervisor::RequestShape shape = supervisor::ShapeOf(defs, {});
    shape.priority = o.priority;
    id = Must(supervisor::CreateRequest(*pool, source, split, defs.size(), "", shape), "submit")
             .id;
  }
  if (o.wait) {
    Query q;
    q.segments = {segments::kResults};
    q.all_tags = {"final", "req:" + id};
    const int64_t until = o.timeout_s > 0 ? NowMonoNs() + static_cast<int64_t>(o.timeout_s * 1e9)
                                          : INT64_MAX;
    for (;;) {
      auto done = pool->Wait(q, milliseconds(200));
      if (done.ok() && !done->empty()) {
        doc = Must(PayloadToJson(done->front().payload), "the result");
        break;
      }
      if (NowMonoNs() > until)
        throw Error("request " + id + " did not end within " + std::to_string(o.timeout_s) +
                    " s; it goes on");
      if (auto l = pool->Leader(); !l.ok() || !l->alive) {
        // A supervisor being replaced leads again within moments.
        std::this_thread::sleep_for(milliseconds(500));
        if (auto again = pool->Leader(); !again.ok() || !again->alive)
          throw Error("the group on pool '" + o.pool + "' stopped before request " + id +
                      " ended");
      }
    }
    if (doc.contains("error")) throw Error(doc["error"].get<std::string>());
  }
  py::gil_scoped_acquire locked;
  if (!o.wait) return py::str(id);
  return ToPython(doc);
}

}  // namespace slate::python
