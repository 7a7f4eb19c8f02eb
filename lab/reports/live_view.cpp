#include "lab/reports/live_view.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/recording/signal_selection.hpp"
#include "harness/recording/test_record.hpp"
#include "harness/scenario/check.hpp"
#include "lab/reports/report_html.hpp"

namespace zhil::lab {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

std::string random_token() {
  std::random_device rd;
  char buf[33];
  for (int k = 0; k < 4; ++k) std::snprintf(buf + 8 * k, 9, "%08x", rd());
  return std::string(buf, 32);
}

// The token in a request target's query (?token=...), or "".
std::string token_of(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, 6) == "token=") return std::string(pair.substr(6));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

bool same(const std::string& a, const std::string& b) {  // no early exit on the first difference
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d |= static_cast<unsigned char>(a[k] ^ b[k]);
  return d == 0;
}

}  // namespace

// One browser's WebSocket: one frame written at a time, the newest waiting; a frame replaced while
// waiting is dropped. At the end, what is waiting is written and the socket closed normally.
class LiveClient : public std::enable_shared_from_this<LiveClient> {
 public:
  LiveClient(tcp::socket socket, std::atomic<std::uint64_t>& dropped, std::function<void()> on_gone)
      : ws_(std::move(socket)), dropped_(dropped), on_gone_(std::move(on_gone)) {}
  ~LiveClient() {
    if (on_gone_) on_gone_();
  }
  // Frames are taken from `frames()` when the handshake is done: the newest then, not at connect.
  template <class Request, class Frames>
  void start(Request req, Frames frames) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.async_accept(req, [self = shared_from_this(), frames](beast::error_code ec) {
      if (ec) return;
      self->open_ = true;
      for (auto& f : frames()) self->send(f);
      self->read();  // to see a close
    });
  }
  void send(std::shared_ptr<const std::string> frame) {
    if (!open_ || !frame) return;
    if (writing_) {
      if (waiting_) ++dropped_;
      waiting_ = std::move(frame);
      return;
    }
    write(std::move(frame));
  }
  // The run is over: what is waiting goes out, then a normal close.
  void finish() {
    closing_ = true;
    if (open_ && !writing_) close();
  }

 private:
  void write(std::shared_ptr<const std::string> frame) {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*frame), [self = shared_from_this(), frame](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->open_ = false;
        return;
      }
      if (self->waiting_) self->write(std::exchange(self->waiting_, nullptr));
      else if (self->closing_) self->close();
    });
  }
  void close() {
    open_ = false;
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
  }
  void read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->open_ = false;
        return;
      }
      self->in_.consume(self->in_.size());
      self->read();
    });
  }
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer in_;
  std::atomic<std::uint64_t>& dropped_;
  std::function<void()> on_gone_;
  std::shared_ptr<const std::string> waiting_;
  bool writing_ = false, open_ = false, closing_ = false;
};

// Owned by the server alone; every handler refers to it by pointer and the io_context (with the
// handlers still in it) goes before it, so nothing outlives the server and its port is freed.
struct LiveViewServer::Impl {
  static constexpr int kMaxConnections = 32;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io}, deadline{io};
  std::string address, token, page, host;  // host: address:port as a browser on loopback names it
  unsigned short port = 0;
  std::shared_ptr<const std::string> hello, last;
  std::vector<std::weak_ptr<LiveClient>> clients;
  std::atomic<std::uint64_t> dropped{0}, connected{0};
  // HTTP requests being read, and WebSocket clients. Shared with the clients, whose end may come
  // as the io_context (declared first, so gone last) drops their handlers.
  std::shared_ptr<int> connections = std::make_shared<int>(0);
  bool stopping = false;
  std::thread thread;
  std::mutex page_mutex;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || stopping) return;
      if (ec) {
        // Out of descriptors, say: try again shortly rather than stop serving for good.
        retry.expires_after(std::chrono::milliseconds(200));
        retry.async_wait([this](beast::error_code e) {
          if (!e) accept();
        });
        return;
      }
      if (*connections >= kMaxConnections) {
        beast::error_code ignored;
        socket.close(ignored);  // too many: this one is refused, the run's own descriptors are not
      } else {
        // A slow browser shows as a full send buffer soon, not after megabytes of old frames.
        beast::error_code ignored;
        socket.set_option(asio::socket_base::send_buffer_size(64 * 1024), ignored);
        serve(std::move(socket));
      }
      accept();
    });
  }

  // A browser on this machine names the server by the address it is bound to (or localhost);
  // a page of another site (its Origin) must not read the bench.
  bool same_origin(const http::request<http::string_body>& req) const {
    const std::string h(req[http::field::host]);
    const bool host_ok = !token.empty() || h == host || h == "localhost:" + std::to_string(port);
    const auto origin = req.find(http::field::origin);
    const bool origin_ok = origin == req.end() || std::string(origin->value()) == "http://" + h;
    return host_ok && origin_ok;
  }

  void serve(tcp::socket socket) {
    ++*connections;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto req = std::make_shared<http::request<http::string_body>>();
    stream->expires_after(std::chrono::seconds(10));
    http::async_read(*stream, *buffer, *req, [this, stream, buffer, req](beast::error_code ec, std::size_t) {
      --*connections;
      if (ec || stopping) return;
      const std::string target(req->target());
      const bool allowed = (token.empty() || same(token_of(target), token)) && same_origin(*req);
      if (websocket::is_upgrade(*req) && target.rfind("/ws", 0) == 0) {
        if (!allowed) return respond(stream, http::status::forbidden, "refused: a token or this machine's page is needed\n", "text/plain");
        stream->expires_never();
        ++*connections;
        auto client = std::make_shared<LiveClient>(stream->release_socket(), dropped, [n = connections] { --*n; });
        ++connected;
        clients.push_back(client);
        client->start(*req, [this] { return std::vector<std::shared_ptr<const std::string>>{hello, last != hello ? last : nullptr}; });
        return;
      }
      if (req->method() != http::verb::get || (target != "/" && target.rfind("/?", 0) != 0))
        return respond(stream, http::status::not_found, "not found\n", "text/plain");
      if (!allowed) return respond(stream, http::status::forbidden, "refused: a token or this machine's page is needed\n", "text/plain");
      std::string page_copy;
      {
        std::lock_guard<std::mutex> l(page_mutex);
        page_copy = page;
      }
      respond(stream, http::status::ok, std::move(page_copy), "text/html; charset=utf-8");
    });
  }

  void respond(const std::shared_ptr<beast::tcp_stream>& stream, http::status status, std::string body, const char* type) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, type);
    res->set(http::field::cache_control, "no-store");
    res->body() = std::move(body);
    res->prepare_payload();
    res->keep_alive(false);
    http::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  void broadcast(std::shared_ptr<const std::string> frame) {
    last = frame;
    std::erase_if(clients, [](const std::weak_ptr<LiveClient>& w) { return w.expired(); });
    for (auto& w : clients)
      if (auto c = w.lock()) c->send(frame);
  }

  // The end of the run: no new client; each one gets what is waiting and a normal close, for at
  // most two seconds, then the loop stops whatever is left.
  void shutdown() {
    stopping = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    retry.cancel();
    for (auto& w : clients)
      if (auto c = w.lock()) c->finish();
    clients.clear();
    deadline.expires_after(std::chrono::seconds(2));
    deadline.async_wait([this](beast::error_code ec) {
      if (!ec) io.stop();
    });
  }
};

LiveViewServer::LiveViewServer(const std::string& address, unsigned short port, std::string token)
    : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("--serve " + address + ": not an IP address");
  // Anyone on the network could watch the bench served beyond loopback: a token.
  if (!addr.is_loopback() && token.empty()) token = random_token();
  impl_->token = std::move(token);
  impl_->address = address;
  const tcp::endpoint ep(addr, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("live view: cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  const bool v6 = address.find(':') != std::string::npos;
  impl_->host = (v6 ? "[" + address + "]" : address) + ":" + std::to_string(impl_->port);
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] {
    // A handler that throws must not end the process (the run is what matters): the view stops.
    try {
      impl->io.run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "zhil: live view stopped: %s\n", e.what());
    }
  });
}

LiveViewServer::~LiveViewServer() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
  if (impl_->thread.joinable()) impl_->thread.join();
  // The io_context goes first (Impl's members in reverse), with whatever handlers are left in it.
}

std::string LiveViewServer::url() const {
  return "http://" + impl_->host + "/" + (impl_->token.empty() ? "" : "?token=" + impl_->token);
}

unsigned short LiveViewServer::port() const { return impl_->port; }

void LiveViewServer::set_page(std::string html) {
  std::lock_guard<std::mutex> l(impl_->page_mutex);
  impl_->page = std::move(html);
}

void LiveViewServer::publish_hello(std::string frame) {
  auto f = std::make_shared<const std::string>(std::move(frame));
  asio::post(impl_->io, [impl = impl_.get(), f] {
    impl->hello = f;
    impl->broadcast(f);
  });
}

void LiveViewServer::publish(std::string frame) {
  auto f = std::make_shared<const std::string>(std::move(frame));
  asio::post(impl_->io, [impl = impl_.get(), f] { impl->broadcast(f); });
}

std::uint64_t LiveViewServer::frames_dropped() const { return impl_->dropped.load(); }
std::uint64_t LiveViewServer::clients() const { return impl_->connected.load(); }

std::shared_ptr<LiveViewServer> serve_live_view(const std::string& serve, const std::string& token) {
  const auto colon = serve.rfind(':');
  std::string address = colon == std::string::npos ? "" : serve.substr(0, colon);
  if (address.size() > 1 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  unsigned long port = 70000;
  try {
    if (colon != std::string::npos) port = std::stoul(serve.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (address.empty() || port > 65535)
    throw std::runtime_error("--serve " + serve + ": give ADDRESS:PORT (127.0.0.1:8080; port 0 picks a free one)");
  return std::make_shared<LiveViewServer>(address, static_cast<unsigned short>(port), token);
}

// ---------------------------------------------------------------------------------------------

namespace {

constexpr std::string_view kLiveScript = R"js(
(function () {
  const body = document.body;
  body.dataset.frames = '0';
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  const keep = 3000;  // points on the chart
  let names = [], data = null, plot = null;
  const el = document.getElementById('live');
  const verdict = document.getElementById('verdict');
  const setCheck = (name, state, text) => {
    const row = document.querySelector('tr[data-check="' + CSS.escape(name) + '"]');
    if (!row) return;
    row.dataset.state = state;
    row.querySelector('.state').textContent = text;
    row.querySelector('.state').className = 'state verdict ' + (state === 'FAIL' ? 'fail' : state === 'PASS' ? 'pass' : '');
  };
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws' + location.search);
  ws.onopen = () => { body.dataset.connected = '1'; };
  ws.onclose = () => { body.dataset.connected = '0'; };
  ws.onmessage = ev => {
    const f = JSON.parse(ev.data);
    body.dataset.frames = String(+body.dataset.frames + 1);
    if (f.names && !plot) {
      names = f.names;
      const table = document.getElementById('signals');
      for (const n of names) {
        const tr = document.createElement('tr');
        const a = document.createElement('td'); a.textContent = n;
        const b = document.createElement('td'); b.dataset.signal = n; b.textContent = '—';
        tr.append(a, b); table.append(tr);
      }
      data = [[]].concat(names.map(() => []));
      plot = new uPlot({
        width: Math.max(400, el.clientWidth || 1100), height: 300, scales: { x: { time: false } },
        axes: [{ label: 't (s)' }, { size: 64, values: (u, vals) => vals.map(v => Math.abs(v) >= 1e6 ? +(v / 1e6).toPrecision(3) + 'M'
                                                                      : Math.abs(v) >= 1e4 ? +(v / 1e3).toPrecision(3) + 'k' : +v.toPrecision(4)) }],
        series: [{ label: 't (s)' }].concat(names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 1 }))),
      }, data, el);
    }
    if (f.t !== undefined && f.values && data) {
      data[0].push(f.t);
      f.values.forEach((v, i) => data[i + 1].push(v));
      if (data[0].length > keep) data.forEach(a => a.splice(0, a.length - keep));
      plot.setData(data);
      body.dataset.lastT = String(f.t);
      names.forEach((n, i) => {
        const cell = document.querySelector('td[data-signal="' + CSS.escape(n) + '"]');
        if (cell) cell.textContent = f.values[i] === null ? '—' : (+f.values[i].toPrecision(6)).toString();
      });
    }
    for (const name of (f.failed || [])) setCheck(name, 'FAIL', 'FAIL');
    if (f.verdict) { verdict.textContent = f.verdict; verdict.className = 'verdict ' + f.verdict.toLowerCase().replace(/ .*/, ''); }
    for (const c of (f.checks || [])) setCheck(c.name, c.outcome, c.outcome);
  };
})();
)js";

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

LiveViewSink::LiveViewSink(std::shared_ptr<LiveViewServer> server, const Scenario* scenario, std::vector<std::string> signals)
    : server_(std::move(server)), scenario_(scenario), names_(std::move(signals)) {
  // The page is there from the start (a browser may open it before the first cycle); the signals'
  // names come with the first frame.
  ReportPage page("zhil live — " + (scenario_ ? scenario_->name : std::string("run")));
  std::ostringstream& h = page.body();
  h << "<header><h1>" << esc(scenario_ ? scenario_->name : "run") << " <span class=\"verdict\" id=\"verdict\">STARTING</span></h1>"
    << "<p class=\"note\">live view of a running bench</p></header>\n<h2>Signals</h2><div class=\"plot\" id=\"live\"></div>\n"
    << "<table class=\"list\" id=\"signals\"><tr><th>signal</th><th>now</th></tr></table>\n"
    << "<h2>Checks</h2><table class=\"list\" id=\"checks\"><tr><th>state</th><th>check</th><th>condition</th></tr>\n";
  if (scenario_)
    for (const CheckSpec& c : scenario_->checks)
      h << "<tr data-check=\"" << esc(c.name) << "\" data-state=\"ok\"><td class=\"state\">ok so far</td><td>" << esc(c.name)
        << "</td><td><code>" << esc(c.kind == CheckKind::settles ? c.signal : c.expression) << "</code></td></tr>\n";
  h << "</table>\n";
  page.add_script(kLiveScript);
  server_->set_page(page.html());
}

Status LiveViewSink::on_started(const RunInfo& info, const SignalTable& table) {
  if (names_.empty()) {
    // Those the checks read, up to eight.
    if (scenario_)
      for (const CheckSpec& c : scenario_->checks)
        for (const std::string& n : signal_names_in(c.kind == CheckKind::settles ? c.signal : c.expression))
          if (table.find(n) != kNoSignal && std::find(names_.begin(), names_.end(), n) == names_.end() && names_.size() < 8)
            names_.push_back(n);
    for (const std::string& n : names_) ids_.push_back(table.find(n));
  } else {
    // Patterns as in a scenario's record: (grid.*, pack*.soc).
    std::vector<RecordPattern> patterns;
    for (const std::string& n : names_) patterns.push_back({n, "--serve-signals " + n});
    try {
      ids_ = select_signals(table, patterns);
    } catch (const std::exception& e) {
      return Status::error(e.what());
    }
    names_.clear();
    for (SignalId id : ids_) names_.push_back(table.info(id).name);
  }
  nlohmann::json hello = {{"names", names_}, {"verdict", "RUNNING"}, {"run", info.run_id}, {"real_time", info.real_time}};
  server_->publish_hello(hello.dump());
  return Status::ok();
}

Status LiveViewSink::on_row(Time t, const SignalTable& table) {
  // At most 20 frames a second of wall time, whatever the run's speed: a simulated run at 65,000x
  // would otherwise format frames no one can see.
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (frames_ > 0 && now - last_push_ns_ < 50'000'000) return Status::ok();
  last_push_ns_ = now;
  ++frames_;
  std::string f = "{\"t\":" + number(to_seconds(t)) + ",\"values\":[";
  for (std::size_t k = 0; k < ids_.size(); ++k) f += (k ? "," : "") + number(table.value(ids_[k]));
  f += "]";
  if (!failed_.empty()) f += ",\"verdict\":\"FAIL so far\"";
  f += "}";
  server_->publish(std::move(f));
  return Status::ok();
}

void LiveViewSink::on_check(Time, const CheckResult& c) {
  failed_.push_back(c.name);
  server_->publish(nlohmann::json({{"failed", failed_}, {"verdict", "FAIL so far"}}).dump());
}

Status LiveViewSink::on_finished(TestRecord& record) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : record.checks) checks.push_back({{"name", c.name}, {"outcome", to_string(c.outcome)}});
  server_->publish(nlohmann::json({{"verdict", to_string(record.verdict)}, {"checks", checks}, {"failed", failed_}}).dump());
  if (const auto dropped = server_->frames_dropped(); dropped > 0)
    record.events.push_back({record.end_s,
                             "live view: " + std::to_string(dropped) + " frames dropped for clients that read slowly"});
  return Status::ok();
}

}  // namespace zhil::lab
