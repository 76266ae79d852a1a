// A minimal HTTP server for /metrics (Boost.Beast, synchronous, one
// connection at a time: a scraper every few seconds is its whole load).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "slate/status.h"

namespace slate::coordinator {

class MetricsServer {
 public:
  // Binds host:port ("PORT" alone means 127.0.0.1:PORT). Port 0 picks one.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                      std::function<std::string()> render);
  ~MetricsServer();
  uint16_t port() const { return port_; }

 private:
  struct State;
  MetricsServer() = default;
  void Serve(State& st);
  std::shared_ptr<State> state_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace slate::coordinator
