#include "metrics_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace slate::coordinator {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct MetricsServer::State {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::function<std::string()> render;
  std::atomic<bool> stopping{false};
};

namespace {

}  // namespace

// The server thread: accept, answer one request, close; until stopping.
void MetricsServer::Serve(State& st) {
  while (!st.stopping.load()) {
    boost::system::error_code ec;
    tcp::socket socket(st.acceptor.get_executor());
    st.acceptor.accept(socket, ec);
    if (ec || st.stopping.load()) continue;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) continue;
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(false);
    if (req.method() == http::verb::get && req.target() == "/metrics") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4");
      res.body() = st.render();
    } else {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain");
      res.body() = "slate-coordinator serves /metrics only\n";
    }
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, std::function<std::string()> render) {
  std::string host = "127.0.0.1";
  std::string port_text = address;
  if (const auto colon = address.rfind(':'); colon != std::string::npos) {
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Status{StatusCode::kInvalidArgument,
                  "--metrics '" + address + "' is not HOST:PORT (port 0-65535)"};
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->state_ = std::make_shared<State>();
  State& st = *server->state_;
  st.render = std::move(render);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) return Status{StatusCode::kInvalidArgument, "--metrics host '" + host + "' is not an IP address"};
  const tcp::endpoint endpoint(ip, static_cast<uint16_t>(port));
  st.acceptor.open(endpoint.protocol(), ec);
  if (!ec) st.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st.acceptor.bind(endpoint, ec);
  if (!ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status{StatusCode::kIoError, "cannot listen on " + address + ": " + ec.message()};
  server->port_ = st.acceptor.local_endpoint().port();
  server->thread_ = std::thread([s = server.get()] { s->Serve(*s->state_); });
  spdlog::info("metrics on http://{}:{}/metrics", host, server->port_);
  return server;
}

MetricsServer::~MetricsServer() {
  if (!state_) return;
  state_->stopping = true;
  boost::system::error_code ec;
  // Unblock accept(): shut the listening socket down, then poke it.
  state_->acceptor.cancel(ec);
  {
    auto addr = state_->acceptor.local_endpoint(ec).address();
    if (ec || addr.is_unspecified()) addr = asio::ip::make_address("127.0.0.1");
    asio::io_context io;
    tcp::socket poke(io);
    poke.connect(tcp::endpoint(addr, port_), ec);
  }
  if (thread_.joinable()) thread_.join();
  state_->acceptor.close(ec);
}

}  // namespace slate::coordinator
