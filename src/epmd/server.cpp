// The epmd server's Asio runtime: listeners, sockets and one timer around ServerCore.
#include "epmd/registry.hpp"

#include <edist/epmd.hpp>

#include <asio.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <unordered_map>

namespace edist::epmd {

using asio::ip::tcp;
using protocol::Bytes;

std::uint16_t default_epmd_port() {
    const char* s = std::getenv("ERL_EPMD_PORT");
    if (!s) return default_port_number;
    std::string_view v(s);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
    if (ec != std::errc() || p != v.data() + v.size() || port == 0 || port > 65535)
        return default_port_number;
    return static_cast<std::uint16_t>(port);
}

ServerOptions ServerOptions::from_environment() {
    ServerOptions o;
    if (const char* a = std::getenv("ERL_EPMD_ADDRESS")) {
        std::string_view list(a);
        while (!list.empty()) {
            std::size_t end = list.find_first_of(", ");
            if (end != 0) o.addresses.emplace_back(list.substr(0, end));
            if (end == std::string_view::npos) break;
            list.remove_prefix(end + 1);
        }
    }
    o.relaxed_command_check = std::getenv("ERL_EPMD_RELAXED_COMMAND_CHECK") != nullptr;
    return o;
}

namespace {

bool is_loopback(const asio::ip::address& a) {
    if (a.is_loopback()) return true;  // 127/8 and ::1
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
    return false;
}

Error net_error(std::string_view what, const std::error_code& ec) {
    std::string reason = ec == asio::error::address_in_use ? "eaddrinuse"
                         : ec == asio::error::access_denied ? "eacces"
                         : ec == std::errc::address_not_available ? "eaddrnotavail"
                                                                     : "einval";
    return Error(Atom(reason), fmt::format("{}: {}", what, ec.message()));
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    struct Conn {
        explicit Conn(tcp::socket s) : sock(std::move(s)) {}
        tcp::socket sock;
        int id = -1;
        std::array<std::uint8_t, 4096> buf{};
        std::deque<Bytes> writes;
        bool writing = false;
        bool close_after_writes = false;  // the core has forgotten this connection
        bool exit_after_writes = false;   // a KILL_REQ was accepted on it
        bool closed = false;
    };

    Impl(asio::io_context& io, ServerOptions o) : io(io), opts(std::move(o)), timer(io) {
        // Embedded in a node the server is quiet unless asked: stderr only with debug > 0.
        if (!opts.log && opts.debug > 0)
            opts.log = [](std::string_view line) {
                std::fprintf(stderr, "epmd: %.*s\n", static_cast<int>(line.size()), line.data());
            };
    }

    asio::io_context& io;
    ServerOptions opts;
    std::optional<ServerCore> core;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::unordered_map<int, std::shared_ptr<Conn>> conns;
    asio::steady_timer timer;
    std::uint64_t timer_generation = 0;
    bool running = false;
    std::uint16_t port = 0;
    std::function<void()> on_killed;

    Result<std::uint16_t> start() {
        if (running) return port;
        std::vector<std::pair<asio::ip::address, bool>> binds;  // address, failure is fatal
        if (opts.addresses.empty()) {
            binds.emplace_back(asio::ip::address_v4::any(), true);
            binds.emplace_back(asio::ip::address_v6::any(), false);
        } else {
            binds.emplace_back(asio::ip::address_v4::loopback(), false);
            binds.emplace_back(asio::ip::address_v6::loopback(), false);
            for (const auto& a : opts.addresses) {
                std::error_code ec;
                auto addr = asio::ip::make_address(a, ec);
                if (ec)
                    return Error(Atom("einval"), fmt::format("cannot parse IP address \"{}\"", a));
                // Only the two loopback addresses bound above are skipped: 127.0.0.2 or
                // 127.0.1.1 are listened on as given, as OTP's epmd does.
                if (addr == asio::ip::address(asio::ip::address_v4::loopback()) ||
                    addr == asio::ip::address(asio::ip::address_v6::loopback()))
                    continue;
                if (std::find(binds.begin(), binds.end(), std::pair{addr, true}) != binds.end())
                    continue;
                binds.emplace_back(addr, true);
            }
        }
        std::uint16_t want = opts.port;
        std::vector<std::unique_ptr<tcp::acceptor>> bound;
        for (auto& [addr, fatal] : binds) {
            auto acc = std::make_unique<tcp::acceptor>(io);
            tcp::endpoint ep(addr, want);
            std::error_code ec;
            acc->open(ep.protocol(), ec);
            if (!ec && addr.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
            if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
            if (!ec) acc->bind(ep, ec);
            if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
            if (ec) {
                // Another epmd on the port is fatal on any address, as for OTP's epmd.
                if (ec == asio::error::address_in_use || fatal)
                    return net_error(fmt::format("cannot listen on {}", tcp::endpoint(addr, want).address().to_string() + ":" + std::to_string(want)), ec);
                continue;
            }
            if (want == 0) want = acc->local_endpoint().port();
            bound.push_back(std::move(acc));
        }
        if (bound.empty()) return Error(Atom("einval"), "unable to bind any address");
        port = want;
        ServerCore::Options co;
        co.epmd_port = port;
        co.relaxed_command_check = opts.relaxed_command_check;
        co.packet_timeout = opts.packet_timeout;
        co.debug = opts.debug;
        co.max_connections = opts.max_connections;
        if (auto log = opts.log) co.log = [log](int, std::string_view line) { log(line); };
        core.emplace(std::move(co));
        acceptors = std::move(bound);
        running = true;
        for (auto& acc : acceptors) accept(*acc);
        return port;
    }

    void stop() {
        if (!running) return;
        running = false;
        for (auto& acc : acceptors) {
            std::error_code ec;
            acc->close(ec);
        }
        acceptors.clear();
        for (auto& [id, c] : conns) close_socket(*c);
        conns.clear();
        timer.cancel();
        core.reset();
    }

    void accept(tcp::acceptor& acc) {
        auto self = shared_from_this();
        auto go = [self, &acc] {
            if (!self->running) return;
            acc.async_accept([self, &acc](std::error_code ec, tcp::socket sock) {
                if (!self->running) return;
                if (!ec) self->opened(std::move(sock));
                else if (self->opts.log) self->opts.log(fmt::format("accept failed: {}", ec.message()));
                self->accept(acc);
            });
        };
        if (opts.delay_accept.count() > 0) {
            auto t = std::make_shared<asio::steady_timer>(io, opts.delay_accept);
            t->async_wait([t, go](std::error_code) { go(); });
        } else {
            go();
        }
    }

    void opened(tcp::socket sock) {
        std::error_code ec;
        auto remote = sock.remote_endpoint(ec);
        auto local = sock.local_endpoint(ec);
        if (ec) return;  // the peer is already gone
        bool local_peer = is_loopback(remote.address()) || remote.address() == local.address();
        auto c = std::make_shared<Conn>(std::move(sock));
        c->id = static_cast<int>(c->sock.native_handle());
        conns[c->id] = c;
        apply(core->open(c->id, local_peer, ServerCore::Clock::now()));
        if (!c->closed && !c->close_after_writes) read(c);
        rearm_timer();
    }

    void read(const std::shared_ptr<Conn>& c) {
        auto self = shared_from_this();
        c->sock.async_read_some(asio::buffer(c->buf), [self, c](std::error_code ec, std::size_t n) {
            if (!self->running || c->closed || c->close_after_writes) return;
            if (ec) {
                self->apply(self->core->closed(c->id));
                self->close_socket(*c);
                self->conns.erase(c->id);
                self->rearm_timer();
                return;
            }
            ServerCore::Now now{ServerCore::Clock::now(),
                                static_cast<std::int64_t>(std::time(nullptr))};
            self->apply(self->core->receive(c->id, std::span(c->buf.data(), n), now));
            if (self->running && !c->closed && !c->close_after_writes) self->read(c);
            self->rearm_timer();
        });
    }

    void apply(const ServerCore::Actions& actions) {
        for (const auto& a : actions) {
            if (!running) return;
            auto it = conns.find(a.conn);
            if (it == conns.end()) continue;
            auto c = it->second;
            switch (a.kind) {
            case ServerCore::Action::Kind::write:
                c->writes.push_back(a.bytes);
                break;
            case ServerCore::Action::Kind::close:
                c->close_after_writes = true;
                break;
            case ServerCore::Action::Kind::exit:
                c->exit_after_writes = true;
                break;
            }
            flush(c);
        }
    }

    void flush(const std::shared_ptr<Conn>& c) {
        if (c->writing || c->closed) return;
        if (c->writes.empty()) {
            if (c->exit_after_writes) {
                auto cb = on_killed;
                stop();
                if (cb) cb();
            } else if (c->close_after_writes) {
                close_socket(*c);
                conns.erase(c->id);
            }
            return;
        }
        c->writing = true;
        auto self = shared_from_this();
        auto send = [self, c] {
            if (c->closed) return;
            asio::async_write(c->sock, asio::buffer(c->writes.front()),
                              [self, c](std::error_code ec, std::size_t) {
                                  c->writing = false;
                                  if (c->closed || !self->running) return;
                                  c->writes.pop_front();
                                  if (ec) {
                                      // The peer is gone; drop what is left.
                                      c->writes.clear();
                                      if (!c->close_after_writes)
                                          self->apply(self->core->closed(c->id));
                                      c->close_after_writes = true;
                                  }
                                  self->flush(c);
                              });
        };
        if (opts.delay_write.count() > 0) {
            auto t = std::make_shared<asio::steady_timer>(io, opts.delay_write);
            t->async_wait([t, send](std::error_code) { send(); });
        } else {
            send();
        }
    }

    void close_socket(Conn& c) {
        if (c.closed) return;
        c.closed = true;
        std::error_code ec;
        c.sock.shutdown(tcp::socket::shutdown_both, ec);
        c.sock.close(ec);
    }

    void rearm_timer() {
        if (!running) return;
        auto deadline = core->next_deadline();
        ++timer_generation;
        timer.cancel();
        if (!deadline) return;
        timer.expires_at(*deadline);
        auto self = shared_from_this();
        timer.async_wait([self, gen = timer_generation](std::error_code ec) {
            if (ec || !self->running || gen != self->timer_generation) return;
            self->apply(self->core->tick(ServerCore::Clock::now()));
            self->rearm_timer();
        });
    }
};

Server::Server(asio::io_context& io, ServerOptions opts)
    : impl_(std::make_shared<Impl>(io, std::move(opts))) {}

Server::~Server() { impl_->stop(); }

Result<std::uint16_t> Server::start() { return impl_->start(); }
void Server::stop() { impl_->stop(); }
bool Server::running() const noexcept { return impl_->running; }
std::uint16_t Server::port() const noexcept { return impl_->port; }
void Server::on_killed(std::function<void()> cb) { impl_->on_killed = std::move(cb); }

}  // namespace edist::epmd
