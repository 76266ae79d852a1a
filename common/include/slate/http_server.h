// A small HTTP/1.1 server (Boost.Beast, blocking sockets) for what the
// group serves on loopback: the coordinator's /metrics and the dashboard.
// One thread accepts; each connection gets a thread of its own, up to a
// limit (past it: 503), answers one request and closes, unless the answer
// is a stream (Server-Sent Events), which runs until the client leaves or
// the server stops.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "slate/status.h"

namespace slate::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target before '?', percent-decoded
  std::map<std::string, std::string> query;    // decoded; a repeated key keeps its last value
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  uint16_t local_port = 0;  // the port the connection came in on
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Writes one chunk of a stream; false once the client has gone.
using StreamWriter = std::function<bool(const std::string& chunk)>;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for a stream: called once the headers are out, on the connection's
  // thread, until it returns; `stopping` turns true when the server stops.
  std::function<void(const StreamWriter& write, const std::atomic<bool>& stopping)> stream;

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
};

using Handler = std::function<Response(const Request&)>;

class Server {
 public:
  // Binds address ("HOST:PORT", or "PORT" alone for 127.0.0.1:PORT; port
  // 0 picks a free one) and starts serving. `option` names the flag the
  // address came from, for the error message.
  static Result<std::unique_ptr<Server>> Start(const std::string& address, Handler handler,
                                               const std::string& option = "--listen",
                                               size_t max_connections = 32);
  ~Server();  // stops accepting, ends streams, joins every thread
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }

 private:
  struct State;
  Server() = default;
  std::shared_ptr<State> state_;
  uint16_t port_ = 0;
  std::string host_;
};

struct Address {
  std::string host;  // as given: an IP address, checked when bound
  uint16_t port = 0;
};
// "HOST:PORT", or "PORT" alone for 127.0.0.1:PORT; kInvalidArgument, naming
// `option`, for anything else.
Result<Address> ParseAddress(const std::string& address, const std::string& option);

// Percent-decoding of a URL component ('+' is a space in a query).
std::string UrlDecode(const std::string& text, bool plus_is_space);

}  // namespace slate::http
