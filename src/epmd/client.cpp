// The epmd client: one request per connection, as epmd expects. Each operation is an
// Exchange (resolve, connect, send, read until the reply parser is satisfied) bounded by one
// timer; the sync forms run the async ones on a private io_context.
#include "epmd/protocol.hpp"

#include <edist/epmd.hpp>

#include <asio.hpp>
#include <fmt/format.h>

namespace edist::epmd {

using asio::ip::tcp;
using protocol::Bytes;

namespace {

// A NAMES or DUMP reply larger than this is not from an epmd (OTP's would need >60k names).
constexpr std::size_t max_reply_bytes = 16 * 1024 * 1024;

Error errno_error(const std::error_code& ec, std::string_view what) {
    std::string reason = ec == asio::error::connection_refused   ? "econnrefused"
                         : ec == asio::error::host_not_found      ? "nxdomain"
                         : ec == asio::error::connection_reset    ? "econnreset"
                         : ec == asio::error::host_unreachable    ? "ehostunreach"
                         : ec == asio::error::network_unreachable ? "enetunreach"
                                                                   : "closed";
    return Error(Atom(reason), fmt::format("{}: {}", what, ec.message()));
}

// P: what the reply parser yields. The exchange ends with the parsed reply and the socket,
// which register_node keeps.
template <class P>
struct Exchange : std::enable_shared_from_this<Exchange<P>> {
    using Parse = std::function<std::optional<Result<P>>(std::span<const std::uint8_t>, bool eof)>;
    using Done = std::function<void(Result<P>, tcp::socket&)>;

    Exchange(asio::io_context& io, ClientOptions o, Bytes req, Parse p, Done d)
        : resolver(io), sock(io), timer(io), opts(std::move(o)), request(std::move(req)),
          parse(std::move(p)), done(std::move(d)) {}

    tcp::resolver resolver;
    tcp::socket sock;
    asio::steady_timer timer;
    ClientOptions opts;
    Bytes request;
    Bytes in;
    std::array<std::uint8_t, 4096> buf{};
    Parse parse;
    Done done;
    bool finished = false;

    std::string where() const { return fmt::format("epmd at {}:{}", opts.host, opts.port); }

    void start() {
        auto self = this->shared_from_this();
        // now + milliseconds::max() overflows: a wait of a century or more is forever.
        if (opts.timeout >= std::chrono::hours(24 * 365 * 100))
            timer.expires_at(asio::steady_timer::time_point::max());
        else
            timer.expires_after(opts.timeout);
        timer.async_wait([self](std::error_code ec) {
            if (ec) return;
            self->finish(Error(atoms::timeout, fmt::format("no reply from {} within {} ms",
                                                           self->where(),
                                                           self->opts.timeout.count())));
        });
        resolver.async_resolve(opts.host, std::to_string(opts.port),
                               [self](std::error_code ec, tcp::resolver::results_type results) {
                                   if (self->finished) return;
                                   if (ec) return self->finish(errno_error(ec, "cannot resolve " + self->opts.host));
                                   asio::async_connect(self->sock, results,
                                                       [self](std::error_code ec, const tcp::endpoint&) {
                                                           self->connected(ec);
                                                       });
                               });
    }

    void connected(std::error_code ec) {
        if (finished) return;
        if (ec) return finish(errno_error(ec, "cannot connect to " + where()));
        auto self = this->shared_from_this();
        asio::async_write(sock, asio::buffer(request), [self](std::error_code ec, std::size_t) {
            if (self->finished) return;
            if (ec) return self->finish(errno_error(ec, "cannot send to " + self->where()));
            self->read();
        });
    }

    void read() {
        auto self = this->shared_from_this();
        sock.async_read_some(asio::buffer(buf), [self](std::error_code ec, std::size_t n) {
            if (self->finished) return;
            bool eof = false;
            if (ec == asio::error::eof || ec == asio::error::connection_reset) {
                eof = true;
            } else if (ec) {
                return self->finish(errno_error(ec, "cannot read from " + self->where()));
            }
            self->in.insert(self->in.end(), self->buf.begin(), self->buf.begin() + n);
            if (self->in.size() > max_reply_bytes)
                return self->finish(Error(Atom("system_limit"), "epmd reply too large"));
            if (auto r = self->parse(self->in, eof)) return self->finish(std::move(*r));
            if (eof)
                return self->finish(Error(Atom("closed"), self->where() + " closed the connection"));
            self->read();
        });
    }

    void finish(Result<P> r) {
        if (finished) return;
        finished = true;
        timer.cancel();
        resolver.cancel();
        if (!r.ok()) {
            std::error_code ignored;
            sock.close(ignored);
        }
        done(std::move(r), sock);
    }
};

template <class P>
void run_exchange(asio::io_context& io, const ClientOptions& opts, const protocol::Request& req,
                  typename Exchange<P>::Parse parse, typename Exchange<P>::Done done) {
    auto bytes = protocol::encode_request(req);
    if (!bytes) {
        // Report bad arguments through the callback too, never from inside the call.
        asio::post(io, [&io, e = bytes.error(), done = std::move(done)] {
            tcp::socket none(io);
            done(Result<P>(e), none);
        });
        return;
    }
    std::make_shared<Exchange<P>>(io, opts, std::move(bytes).value(), std::move(parse),
                                  std::move(done))
        ->start();
}

// For the replies that need nothing from the socket afterwards.
template <class P>
typename Exchange<P>::Done deliver(Callback<P> cb) {
    return [cb = std::move(cb)](Result<P> r, tcp::socket&) { cb(std::move(r)); };
}

template <class T>
Result<T> run_sync(const std::function<void(asio::io_context&, Callback<T>)>& start) {
    asio::io_context io;
    std::optional<Result<T>> out;
    start(io, [&](Result<T> r) { out.emplace(std::move(r)); });
    io.run();
    if (!out) return Error(Atom("closed"), "epmd operation ended without a result");
    return std::move(*out);
}

}  // namespace

// --- Registration --------------------------------------------------------------------------------

struct Registration::State {
    std::unique_ptr<asio::io_context> own_io;  // sync registrations: keeps the socket's context
    std::optional<tcp::socket> sock;           // declared after own_io: destroyed before it
    std::function<void(Error)> on_lost;
    bool closed = false;
    std::array<std::uint8_t, 64> buf{};

    void close() {
        if (closed) return;
        closed = true;
        on_lost = nullptr;
        std::error_code ec;
        if (sock) sock->close(ec);
    }
};

Registration::Registration(std::shared_ptr<State> state, std::uint32_t creation, NodeInfo node)
    : state_(std::move(state)), creation_(creation), node_(std::move(node)) {}
Registration::Registration(Registration&&) noexcept = default;
Registration& Registration::operator=(Registration&& other) noexcept {
    if (this != &other) {
        close();
        state_ = std::move(other.state_);
        creation_ = other.creation_;
        node_ = std::move(other.node_);
    }
    return *this;
}
Registration::~Registration() { close(); }

bool Registration::active() const noexcept { return state_ && !state_->closed; }

void Registration::close() noexcept {
    if (state_) state_->close();
}

void Registration::on_lost(std::function<void(Error)> cb) {
    if (!state_ || state_->closed || state_->own_io) return;
    state_->on_lost = std::move(cb);
    auto st = state_;
    st->sock->async_read_some(asio::buffer(st->buf), [st](std::error_code ec, std::size_t n) {
        if (st->closed) return;
        auto cb = std::move(st->on_lost);
        st->close();
        if (!cb) return;
        cb(Error(Atom("closed"), n > 0 ? "epmd wrote on the registration connection"
                                       : "epmd closed the registration connection: " +
                                             ec.message()));
    });
}

// --- async operations ----------------------------------------------------------------------------

namespace {

// `own_io`, when given, is the private io_context of a sync call; a successful registration
// takes it over so that its socket stays valid.
void start_register(asio::io_context& io, const NodeInfo& node, const ClientOptions& opts,
                    std::unique_ptr<asio::io_context>* own_io, Callback<Registration> cb) {
    run_exchange<protocol::Alive2Resp>(
        io, opts, protocol::Alive2Req{node}, protocol::parse_alive2_resp,
        [node, own_io, cb = std::move(cb)](Result<protocol::Alive2Resp> r, tcp::socket& sock) {
            if (!r) return cb(r.error());
            if (!r->ok) {
                std::error_code ec;
                sock.close(ec);
                return cb(Error(Atom("duplicate_name"),
                                fmt::format("epmd refused to register \"{}\" (name in use or "
                                            "invalid)", node.name)));
            }
            auto st = std::make_shared<Registration::State>();
            if (own_io) st->own_io = std::move(*own_io);
            st->sock.emplace(std::move(sock));
            cb(Registration(std::move(st), r->creation, node));
        });
}

}  // namespace

void async_register_node(asio::io_context& io, const NodeInfo& node, const ClientOptions& opts,
                         Callback<Registration> cb) {
    start_register(io, node, opts, nullptr, std::move(cb));
}

void async_port_please(asio::io_context& io, std::string_view name, const ClientOptions& opts,
                       Callback<std::optional<NodeInfo>> cb) {
    run_exchange<std::optional<NodeInfo>>(io, opts, protocol::PortPlease2Req{std::string(name)},
                                          protocol::parse_port2_resp, deliver(std::move(cb)));
}

void async_names(asio::io_context& io, const ClientOptions& opts,
                 Callback<std::vector<NameEntry>> cb) {
    std::uint16_t asked = opts.port;
    run_exchange<std::vector<NameEntry>>(
        io, opts, protocol::NamesReq{},
        [asked](std::span<const std::uint8_t> in,
                bool eof) -> std::optional<Result<std::vector<NameEntry>>> {
            if (!eof) return std::nullopt;
            // Every epmd answers NAMES with at least its port; a connection closed without
            // one is no reply (an empty list is the port alone).
            if (in.empty())
                return Result<std::vector<NameEntry>>(
                    Error(Atom("closed"), fmt::format("epmd on port {} closed the connection "
                                                      "without answering NAMES_REQ",
                                                      asked)));
            std::uint32_t port = 0;
            auto r = protocol::parse_names(in, port);
            if (r && port != asked)
                return Result<std::vector<NameEntry>>(
                    Error(Atom("address"), fmt::format("epmd on port {} reports port {}; not "
                                                       "the epmd asked for",
                                                       asked, port)));
            return r;
        },
        deliver(std::move(cb)));
}

void async_dump(asio::io_context& io, const ClientOptions& opts, Callback<DumpResult> cb) {
    run_exchange<DumpResult>(
        io, opts, protocol::DumpReq{},
        [](std::span<const std::uint8_t> in, bool eof) -> std::optional<Result<DumpResult>> {
            if (!eof) return std::nullopt;
            if (in.empty())
                return Result<DumpResult>(Error(Atom("closed"), "epmd closed the connection "
                                                                "without answering DUMP_REQ "
                                                                "(not a local peer?)"));
            return protocol::parse_dump(in);
        },
        deliver(std::move(cb)));
}

void async_kill(asio::io_context& io, const ClientOptions& opts, Callback<bool> cb) {
    run_exchange<bool>(io, opts, protocol::KillReq{}, protocol::parse_kill_resp,
                       deliver(std::move(cb)));
}

void async_stop(asio::io_context& io, std::string_view name, const ClientOptions& opts,
                Callback<StopResult> cb) {
    run_exchange<StopResult>(io, opts, protocol::StopReq{std::string(name)},
                             protocol::parse_stop_resp, deliver(std::move(cb)));
}

// --- sync operations -----------------------------------------------------------------------------

Result<Registration> register_node(const NodeInfo& node, const ClientOptions& opts) {
    auto io = std::make_unique<asio::io_context>();
    asio::io_context& ctx = *io;
    std::optional<Result<Registration>> out;
    start_register(ctx, node, opts, &io, [&](Result<Registration> r) { out.emplace(std::move(r)); });
    ctx.run();
    if (!out) return Error(Atom("closed"), "epmd registration ended without a result");
    return std::move(*out);
}

Result<std::optional<NodeInfo>> port_please(std::string_view name, const ClientOptions& opts) {
    std::string n(name);
    return run_sync<std::optional<NodeInfo>>(
        [&](asio::io_context& io, Callback<std::optional<NodeInfo>> cb) {
            async_port_please(io, n, opts, std::move(cb));
        });
}

Result<std::vector<NameEntry>> names(const ClientOptions& opts) {
    return run_sync<std::vector<NameEntry>>(
        [&](asio::io_context& io, Callback<std::vector<NameEntry>> cb) {
            async_names(io, opts, std::move(cb));
        });
}

Result<DumpResult> dump(const ClientOptions& opts) {
    return run_sync<DumpResult>([&](asio::io_context& io, Callback<DumpResult> cb) {
        async_dump(io, opts, std::move(cb));
    });
}

Result<bool> kill(const ClientOptions& opts) {
    return run_sync<bool>(
        [&](asio::io_context& io, Callback<bool> cb) { async_kill(io, opts, std::move(cb)); });
}

Result<StopResult> stop(std::string_view name, const ClientOptions& opts) {
    std::string n(name);
    return run_sync<StopResult>([&](asio::io_context& io, Callback<StopResult> cb) {
        async_stop(io, n, opts, std::move(cb));
    });
}

}  // namespace edist::epmd
