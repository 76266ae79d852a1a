#include "dashboard_app.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "dashboard_assets.h"
#include "operator_actions.h"
#include "slate/clock.h"
#include "slate/process_setup.h"

namespace slate::dashboard {
namespace {

using std::chrono::milliseconds;

http::Response Error(int status, const std::string& message) {
  return http::Response::Json(status, json{{"error", message}}.dump());
}

http::Response FromResult(const Result<json>& r) {
  if (r.ok()) return http::Response::Json(200, r->dump());
  switch (r.status().code()) {
    case StatusCode::kNotFound: return Error(404, r.status().message());
    case StatusCode::kInvalidArgument: return Error(400, r.status().message());
    case StatusCode::kWrongState: return Error(409, r.status().message());
    default: return Error(500, r.status().message());
  }
}

http::Response Asset(const char* body, const char* type) {
  http::Response r = http::Response::Text(200, body);
  r.content_type = type;
  // The page runs only its own script and style, and loads nothing else.
  r.headers.push_back({"Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  return r;
}

Result<uint64_t> Number(const http::Request& req, const std::string& key, uint64_t fallback) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
    return Status{StatusCode::kInvalidArgument, key + " must be a number, not '" + v + "'"};
  return std::stoull(v);
}

std::string Query(const http::Request& req, const std::string& key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? "" : it->second;
}

bool SameToken(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Result<std::string> NewToken() {
  unsigned char raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    const ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status{StatusCode::kIoError, std::string("no random bytes: ") + strerror(errno)};
    }
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char c : raw) {
    token.push_back(kHex[c >> 4]);
    token.push_back(kHex[c & 15]);
  }
  return token;
}

// The token kept in `path`: read when the file exists (it must be ours and
// readable by us alone), else made and written there with mode 0600.
Result<std::string> TokenFrom(const std::string& path) {
  if (path.empty()) return NewToken();
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    fstat(fd, &st);
    std::string token(128, '\0');
    const ssize_t n = read(fd, token.data(), token.size());
    close(fd);
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
      return Status{StatusCode::kPermissionDenied,
                    path + " must be owned by you with mode 0600 (it holds the dashboard's token)"};
    token.resize(n > 0 ? static_cast<size_t>(n) : 0);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.size() >= 16) return token;
    return Status{StatusCode::kInvalidArgument, path + " holds no token (16 characters or more)"};
  }
  auto token = NewToken();
  if (!token.ok()) return token;
  const int out = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) return Status{StatusCode::kIoError, "cannot write " + path + ": " + strerror(errno)};
  const std::string line = *token + "\n";
  const bool written = write(out, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(out);
  if (!written) return Status{StatusCode::kIoError, "cannot write " + path};
  return token;
}

}  // namespace

DashboardApp::DashboardApp(DashboardConfig cfg) : cfg_(std::move(cfg)) {}

DashboardApp::~DashboardApp() {
  stopping_ = true;
  server_.reset();  // ends the streams before what they read goes
  if (sampler_.joinable()) sampler_.join();
}

uint16_t DashboardApp::port() const { return server_ ? server_->port() : 0; }

Status DashboardApp::Start() {
  auto token = TokenFrom(cfg_.token_file);
  if (!token.ok()) return token.status();
  token_ = *token;
  auto pool = Pool::Open(cfg_.pool, OpenMode::kReadOnly);
  if (!pool.ok()) return pool.status();
  reader_ = std::move(*pool);
  // One private copy of the region a refresh, whatever the pages ask: each
  // copy of a pool that changes as it is read may take several tries.
  reader_->SetSnapshotMaxAge(milliseconds(cfg_.refresh_ms));
  Sample();
  sampler_ = std::thread([this] {
    while (!stopping_.load()) {
      for (uint32_t waited = 0; waited < cfg_.refresh_ms && !stopping_.load(); waited += 50)
        std::this_thread::sleep_for(milliseconds(50));
      if (!stopping_.load()) Sample();
    }
  });
  auto server = http::Server::Start(cfg_.listen,
                                    [this](const http::Request& req) { return Handle(req); });
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  if (!cfg_.url_file.empty()) {
    const std::string tmp = cfg_.url_file + ".tmp";
    std::ofstream(tmp) << "http://" << server_->host() << ":" << server_->port() << "/\n";
    std::rename(tmp.c_str(), cfg_.url_file.c_str());
  }
  return Status::Ok();
}

int DashboardApp::Run() {
  if (Status s = Start(); !s.ok()) {
    spdlog::error("{}", s.message());
    return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf("slate-dashboard: pool '%s' at http://%s:%u/#token=%s\n", cfg_.pool.c_str(),
              server_->host().c_str(), server_->port(), token_.c_str());
  if (!cfg_.token_file.empty())
    std::printf("slate-dashboard: actions need the token in %s\n", cfg_.token_file.c_str());
  std::fflush(stdout);
  std::atomic<bool>& stop = InstallStopSignals();
  while (!stop.load()) std::this_thread::sleep_for(milliseconds(100));
  return 0;
}

void DashboardApp::Sample() {
  auto st = reader_->Stats();
  if (!st.ok()) return;
  history_.Add(NowRealNs(), st->tasks_by_state[static_cast<int>(TaskState::kDone)]);
}

json DashboardApp::Members() const {
  if (cfg_.state_file.empty()) return json::array();
  std::ifstream in(cfg_.state_file);
  const json state = json::parse(in, nullptr, false);
  return state.is_object() && state.contains("members") ? state["members"] : json::array();
}

// A request must name this dashboard as its host (and origin, when the
// browser sends one): a page of another site, even one whose name was
// rebound to 127.0.0.1, is refused.
bool DashboardApp::SameOrigin(const http::Request& req) const {
  // From the request and the configuration alone: requests are served
  // before Start has stored the server.
  const std::string port = std::to_string(req.local_port);
  const std::string host = req.Header("host");
  auto listen = http::ParseAddress(cfg_.listen, "--listen");  // checked when it was bound
  const std::string bound = listen.ok() ? listen->host : "127.0.0.1";
  const bool any_host = bound == "0.0.0.0" || bound == "::";
  const bool host_ok = any_host || host == bound + ":" + port ||
                       host == "localhost:" + port || host == "127.0.0.1:" + port ||
                       host == "[::1]:" + port;
  if (!host_ok) return false;
  const std::string origin = req.Header("origin");
  return origin.empty() || origin == "http://" + host;
}

http::Response DashboardApp::Handle(const http::Request& req) {
  if (!SameOrigin(req)) return Error(403, "this dashboard answers requests to its own address only");
  if (req.method == "GET" || req.method == "HEAD") return Get(req);
  if (req.method == "POST") return Post(req);
  http::Response r = Error(405, "use GET, or POST for an action");
  r.headers.push_back({"Allow", "GET, POST"});
  return r;
}

http::Response DashboardApp::Get(const http::Request& req) {
  const std::string& p = req.path;
  if (p == "/" || p == "/index.html") return Asset(kIndexHtml, "text/html; charset=utf-8");
  if (p == "/app.js") return Asset(kAppJs, "text/javascript; charset=utf-8");
  if (p == "/style.css") return Asset(kStyleCss, "text/css; charset=utf-8");
  if (p == "/favicon.ico") return http::Response::Text(204, "");
  if (p == "/api/events") return Events();
  if (p == "/api/overview") return FromResult(Overview(*reader_, history_));
  if (p == "/api/workers") return FromResult(Workers(*reader_, Members()));
  if (p == "/api/held") return FromResult(Held(*reader_));
  auto page = Number(req, "page", 1);
  auto per_page = Number(req, "per_page", 50);
  if (!page.ok()) return Error(400, page.status().message());
  if (!per_page.ok()) return Error(400, per_page.status().message());
  if (p == "/api/dead-letters") return FromResult(DeadLetters(*reader_, *page, *per_page));
  if (p == "/api/conflicts") return FromResult(Conflicts(*reader_, *page, *per_page));
  if (p == "/api/tasks") {
    TaskQuery q;
    q.state = Query(req, "state");
    q.worker = Query(req, "worker");
    q.tag = Query(req, "tag");
    q.request = Query(req, "request");
    if (!Query(req, "sort").empty()) q.sort = Query(req, "sort");
    q.descending = !Query(req, "desc").empty() && Query(req, "desc") != "0";
    q.page = *page;
    q.per_page = *per_page;
    return FromResult(Tasks(*reader_, q));
  }
  if (p.rfind("/api/tasks/", 0) == 0) {
    const std::string id = p.substr(11);
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
      return Error(400, "a task id is a number, not '" + id + "'");
    return FromResult(TaskDetail(*reader_, std::stoull(id)));
  }
  return Error(404, "no page " + p);
}

Result<Pool*> DashboardApp::Writable() {
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (!writer_) {
    auto pool = Pool::Open(cfg_.pool);
    if (!pool.ok()) return pool.status();
    writer_ = std::move(*pool);
  }
  return writer_.get();
}

http::Response DashboardApp::Post(const http::Request& req) {
  const std::string auth = req.Header("authorization");
  if (auth.rfind("Bearer ", 0) != 0 || !SameToken(auth.substr(7), token_))
    return Error(401, "an action needs the dashboard's token (Authorization: Bearer TOKEN)");
  if (req.Header("content-type").rfind("application/json", 0) != 0)
    return Error(415, "send the action as JSON (Content-Type: application/json)");
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return Error(400, "the body is not a JSON object");
  auto str = [&body](const char* key) {
    return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : "";
  };
  auto pool = Writable();
  if (!pool.ok()) return Error(500, pool.status().message());
  const std::string who = "the dashboard (uid " + std::to_string(getuid()) + ")";
  if (req.path == "/api/cancel") {
    Result<ops::Cancelled> done = Status{StatusCode::kInvalidArgument,
                                         "name the request (\"request\") or the task (\"task\")"};
    if (!str("task").empty()) done = ops::CancelTask(**pool, str("task"), str("request"), who);
    else if (!str("request").empty()) done = ops::CancelRequest(**pool, str("request"), who);
    if (!done.ok()) return FromResult(done.status());
    spdlog::info("{} cancelled {} task(s) of {}", who, done->tasks,
                 str("task").empty() ? "request " + str("request") : "task " + str("task"));
    return http::Response::Json(
        200, json{{"cancelled", done->tasks}, {"running", done->running},
                  {"message", "cancelled " + std::to_string(done->tasks) + " task(s)"}}.dump());
  }
  if (req.path == "/api/review") {
    const std::string action = str("action");
    if (action != "accept" && action != "retry" && action != "reject")
      return Error(400, "action must be accept, retry or reject");
    auto held = ops::NamedHeld(**pool, str("task"));
    if (!held.ok()) return FromResult(held.status());
    Status s;
    if (action == "accept") {
      if (!body.contains("result")) return Error(400, "accept needs the result (\"result\")");
      s = ops::AcceptHeld(**pool, *held, body["result"]);
    } else if (action == "retry") {
      s = ops::RetryHeld(**pool, *held, str("feedback"));
    } else {
      s = ops::RejectHeld(**pool, *held, str("feedback"), who);
    }
    if (!s.ok()) return FromResult(s);
    spdlog::info("{}: {} task {}", who, action, held->id);
    return http::Response::Json(
        200, json{{"task", held->id}, {"action", action},
                  {"message", "task " + std::to_string(held->id) + ": " + action}}.dump());
  }
  return Error(404, "no action " + req.path);
}

http::Response DashboardApp::Events() {
  http::Response r;
  r.stream = [this](const http::StreamWriter& write, const std::atomic<bool>& stopping) {
    while (!stopping.load() && !stopping_.load()) {
      auto doc = Overview(*reader_, history_);
      const std::string event =
          doc.ok() ? "event: overview\ndata: " + doc->dump() + "\n\n"
                   : "event: trouble\ndata: " + json{{"error", doc.status().message()}}.dump() + "\n\n";
      if (!write(event)) return;
      for (uint32_t waited = 0; waited < cfg_.refresh_ms && !stopping.load(); waited += 50)
        std::this_thread::sleep_for(milliseconds(50));
    }
  };
  return r;
}

}  // namespace slate::dashboard
