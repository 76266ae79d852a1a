// slate-dashboard: a web page over a running group's pool, served on
// loopback. It reads through a read-only attachment (a private copy of the
// region, refreshed at most every refresh_ms / 2: no read takes the pool's
// lock) and writes only for a person's actions (cancel, review), which
// need the dashboard's token.
//
// Security: actions are POSTs of JSON carrying "Authorization: Bearer
// <token>"; a page of another site can send neither the header nor a JSON
// body without a CORS preflight, which the dashboard never grants. A
// request whose Host or Origin is not the dashboard's own address is
// refused (DNS rebinding). The token is 32 random bytes, hex; written to
// token_file (mode 0600) when one is named, and printed at start.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dashboard_data.h"
#include "slate/http_server.h"
#include "slate/pool.h"

namespace slate::dashboard {

struct DashboardConfig {
  std::string pool;
  std::string listen = "127.0.0.1:0";
  std::string token_file;  // where the token is kept (read if it exists)
  std::string state_file;  // the keeper's group.json: restarts per member
  std::string url_file;    // where the page's address is written once serving
  uint32_t refresh_ms = 1000;
};

class DashboardApp {
 public:
  explicit DashboardApp(DashboardConfig cfg);
  ~DashboardApp();
  // Serves until SIGTERM or SIGINT. 0 on a clean stop, 1 when the pool
  // cannot be read or the address not bound, 2 for a bad option.
  int Run();

  // For tests: everything but the signal wait. Start binds and begins
  // serving; the token and port are then known.
  Status Start();
  uint16_t port() const;
  const std::string& token() const { return token_; }
  http::Response Handle(const http::Request& req);

 private:
  http::Response Get(const http::Request& req);
  http::Response Post(const http::Request& req);
  http::Response Events();
  Result<Pool*> Writable();
  bool SameOrigin(const http::Request& req) const;
  json Members() const;
  void Sample();

  DashboardConfig cfg_;
  std::string token_;
  std::unique_ptr<Pool> reader_;
  std::unique_ptr<Pool> writer_;  // opened on the first action
  std::mutex writer_mu_;
  History history_;
  std::atomic<bool> stopping_{false};
  std::thread sampler_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace slate::dashboard
