#include "slate/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <cctype>
#include <list>
#include <mutex>
#include <thread>

namespace slate::http {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using tcp = asio::ip::tcp;

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

std::string UrlDecode(const std::string& text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

Request Parse(const beast_http::request<beast_http::string_body>& req) {
  Request r;
  r.method = std::string(req.method_string());
  const std::string target(req.target());
  const auto q = target.find('?');
  r.path = UrlDecode(target.substr(0, q), false);
  if (q != std::string::npos) {
    const std::string query = target.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t end = query.find('&', start);
      if (end == std::string::npos) end = query.size();
      const std::string pair = query.substr(start, end - start);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        r.query[UrlDecode(pair.substr(0, eq), true)] =
            eq == std::string::npos ? "" : UrlDecode(pair.substr(eq + 1), true);
      }
      start = end + 1;
    }
  }
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[name] = std::string(field.value());
  }
  r.body = req.body();
  return r;
}

}  // namespace

struct Server::State {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  Handler handler;
  size_t max_connections = 32;
  std::atomic<bool> stopping{false};
  std::thread acceptor_thread;
  // Connections in flight: their sockets (closed to end a stream at stop)
  // and threads (joined at stop, or by the next accept once done).
  struct Connection {
    std::shared_ptr<tcp::socket> socket;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::mutex mu;
  std::list<Connection> connections;

  void Reap(bool all) {
    std::list<Connection> finished;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto it = connections.begin(); it != connections.end();) {
        if (all || it->done.load()) {
          auto next = std::next(it);
          finished.splice(finished.end(), connections, it);
          it = next;
        } else {
          ++it;
        }
      }
    }
    for (auto& c : finished)
      if (c.thread.joinable()) c.thread.join();
  }

  void Answer(tcp::socket& socket) {
    boost::system::error_code ec;
    boost::beast::flat_buffer buffer;
    beast_http::request_parser<beast_http::string_body> parser;
    parser.body_limit(1 << 20);
    beast_http::read(socket, buffer, parser, ec);
    if (ec) return;
    const auto& req = parser.get();
    Response out;
    try {
      Request parsed = Parse(req);
      parsed.local_port = socket.local_endpoint(ec).port();
      out = handler(parsed);
    } catch (const std::exception& e) {
      out = Response::Text(500, std::string("internal error: ") + e.what() + "\n");
    }
    if (out.stream) {
      beast_http::response<beast_http::empty_body> head{beast_http::status::ok, req.version()};
      head.set(beast_http::field::content_type, "text/event-stream");
      head.set(beast_http::field::cache_control, "no-cache");
      for (const auto& [k, v] : out.headers) head.set(k, v);
      head.keep_alive(false);
      beast_http::response_serializer<beast_http::empty_body> sr{head};
      beast_http::write_header(socket, sr, ec);
      if (ec) return;
      const StreamWriter write = [&socket](const std::string& chunk) {
        boost::system::error_code wec;
        asio::write(socket, asio::buffer(chunk), wec);
        return !wec;
      };
      out.stream(write, stopping);
    } else {
      beast_http::response<beast_http::string_body> res{
          static_cast<beast_http::status>(out.status), req.version()};
      res.set(beast_http::field::content_type, out.content_type);
      res.set(beast_http::field::cache_control, "no-store");
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.keep_alive(false);
      res.body() = std::move(out.body);
      res.prepare_payload();
      beast_http::write(socket, res, ec);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  void AcceptLoop() {
    while (!stopping.load()) {
      auto socket = std::make_shared<tcp::socket>(acceptor.get_executor());
      boost::system::error_code ec;
      acceptor.accept(*socket, ec);
      if (ec || stopping.load()) continue;
      Reap(false);
      std::lock_guard<std::mutex> lock(mu);
      if (connections.size() >= max_connections) {
        beast_http::response<beast_http::string_body> busy{beast_http::status::service_unavailable,
                                                           11};
        busy.set(beast_http::field::content_type, "text/plain");
        busy.body() = "too many connections\n";
        busy.keep_alive(false);
        busy.prepare_payload();
        beast_http::write(*socket, busy, ec);
        continue;
      }
      connections.emplace_back();
      Connection& c = connections.back();
      c.socket = socket;
      c.thread = std::thread([this, socket, &c] {
        Answer(*socket);
        c.done = true;
      });
    }
  }
};

Result<Address> ParseAddress(const std::string& address, const std::string& option) {
  Address a{"127.0.0.1", 0};
  std::string port_text = address;
  if (const auto colon = address.rfind(':'); colon != std::string::npos) {
    a.host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  try {
    size_t used = 0;
    const unsigned long port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
    a.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return Status{StatusCode::kInvalidArgument,
                  option + " '" + address + "' is not HOST:PORT (port 0-65535)"};
  }
  return a;
}

Result<std::unique_ptr<Server>> Server::Start(const std::string& address, Handler handler,
                                              const std::string& option, size_t max_connections) {
  auto parsed = ParseAddress(address, option);
  if (!parsed.ok()) return parsed.status();
  const std::string& host = parsed->host;
  std::unique_ptr<Server> server(new Server());
  server->state_ = std::make_shared<State>();
  State& st = *server->state_;
  st.handler = std::move(handler);
  st.max_connections = max_connections;
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) return Status{StatusCode::kInvalidArgument, option + " host '" + host + "' is not an IP address"};
  const tcp::endpoint endpoint(ip, parsed->port);
  st.acceptor.open(endpoint.protocol(), ec);
  if (!ec) st.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st.acceptor.bind(endpoint, ec);
  if (!ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status{StatusCode::kIoError, "cannot listen on " + address + ": " + ec.message()};
  server->port_ = st.acceptor.local_endpoint().port();
  server->host_ = host;
  st.acceptor_thread = std::thread([s = server->state_.get()] { s->AcceptLoop(); });
  return server;
}

Server::~Server() {
  if (!state_) return;
  State& st = *state_;
  st.stopping = true;
  boost::system::error_code ec;
  // Unblock accept(): cancel, then poke it with a connection of our own.
  st.acceptor.cancel(ec);
  {
    auto addr = st.acceptor.local_endpoint(ec).address();
    if (ec || addr.is_unspecified()) addr = asio::ip::make_address("127.0.0.1");
    asio::io_context io;
    tcp::socket poke(io);
    poke.connect(tcp::endpoint(addr, port_), ec);
  }
  if (st.acceptor_thread.joinable()) st.acceptor_thread.join();
  {
    std::lock_guard<std::mutex> lock(st.mu);
    // The descriptor alone (the connection's thread owns the socket
    // object): a read waiting on a silent client returns.
    for (auto& c : st.connections) ::shutdown(c.socket->native_handle(), SHUT_RDWR);
  }
  st.Reap(true);
  st.acceptor.close(ec);
}

}  // namespace slate::http
