#include "node/connection.hpp"

#include <edist/flags.hpp>
#include <edist/text.hpp>

namespace edist {

namespace {

// What this node implements today; the handshake negotiates the intersection with the peer.
DistFlags offered_flags(bool hidden) {
    DistFlags f = dflag::MANDATORY_26 | dflag::MANDATORY_25_DIGEST | dflag::SMALL_ATOM_TAGS | dflag::SEND_SENDER |
                  dflag::BIG_SEQTRACE_LABELS | dflag::EXIT_PAYLOAD | dflag::DIST_HDR_ATOM_CACHE |
                  dflag::FRAGMENTS | dflag::DIST_MONITOR | dflag::DIST_MONITOR_NAME | dflag::ALIAS | dflag::SPAWN;
    if (!hidden) f |= dflag::PUBLISHED;
    return f;
}

std::pair<std::string, std::string> split_node(std::string_view n) {
    auto at = n.find('@');
    if (at == std::string_view::npos) return {std::string(n), ""};
    return {std::string(n.substr(0, at)), std::string(n.substr(at + 1))};
}

} // namespace

Connection::Connection(Node::Impl& node, Atom peer)
    : node_(node),
      node_ref_(node.weak_self.lock()),
      strand_(asio::make_strand(*node.io)),
      socket_(strand_),
      resolver_(strand_),
      handshake_timer_(strand_),
      tick_timer_(strand_),
      peer_(peer),
      ticker_(node.options.net_ticktime) {}

Connection::~Connection() = default;

Atom Connection::peer() const {
    std::lock_guard lock(mutex_);
    return peer_;
}
bool Connection::is_up() const {
    std::lock_guard lock(mutex_);
    return state_ == State::up;
}
bool Connection::is_closed() const {
    std::lock_guard lock(mutex_);
    return state_ == State::closed;
}

bool Connection::wait_up(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    state_cv_.wait_for(lock, timeout, [&] { return state_ == State::up || state_ == State::closed; });
    return state_ == State::up;
}

std::vector<dist::Signal> Connection::take_pending() {
    std::lock_guard lock(mutex_);
    return std::move(pending_);
}

void Connection::send(dist::Signal signal) {
    std::unique_lock lock(mutex_);
    switch (state_) {
    case State::closed: return;
    case State::connecting:
    case State::handshaking: pending_.push_back(std::move(signal)); return;
    case State::up: break;
    }
    sender_->encode(signal, out_);
    if (!write_pending_) {
        write_pending_ = true;
        lock.unlock();
        asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
    }
}

void Connection::queue_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    std::unique_lock lock(mutex_);
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    if (!write_pending_) {
        write_pending_ = true;
        lock.unlock();
        asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
    }
}

// Strand. Writes whatever accumulated while the previous write was in flight, in one go.
void Connection::do_write() {
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::closed || out_.empty()) {
            write_pending_ = false;
            return;
        }
        writing_.clear();
        writing_.swap(out_);
        wrote_since_tick_ = true;
    }
    asio::async_write(socket_, asio::buffer(writing_),
                      asio::bind_executor(strand_, [self = shared_from_this()](const std::error_code& ec, std::size_t) {
                          if (ec) {
                              self->fail(atom("connection_closed"), "writing to " + std::string(self->peer_.name()) + " failed: " + ec.message());
                              return;
                          }
                          self->do_write();
                      }));
}

// --- Setting up -----------------------------------------------------------------------------

handshake::Config Connection::handshake_config() const {
    handshake::Config cfg;
    cfg.this_node = std::string(node_.name.name());
    cfg.this_creation = node_.creation;
    cfg.cookie = node_.cookie;
    cfg.offer = offered_flags(node_.options.hidden);
    cfg.setup_time = node_.options.net_setuptime;
    cfg.name_mode = node_.options.long_names ? handshake::NameMode::longnames : handshake::NameMode::shortnames;
    return cfg;
}

void Connection::start_outgoing() {
    outgoing_ = true;
    asio::post(strand_, [self = shared_from_this()] {
        auto [alive, host] = split_node(self->peer_.name());
        if (host.empty()) {
            self->fail(atom("badarg"), "node name " + std::string(self->peer_.name()) + " has no host part");
            return;
        }
        epmd::ClientOptions opts;
        opts.host = host;
        opts.port = self->node_.options.epmd_port;
        opts.timeout = self->node_.options.net_setuptime;
        epmd::async_port_please(*self->node_.io, alive, opts, [self](Result<std::optional<epmd::NodeInfo>> r) {
            asio::post(self->strand_, [self, r = std::move(r)]() mutable { self->resolved(std::move(r)); });
        });
    });
}

void Connection::resolved(Result<std::optional<epmd::NodeInfo>> info) {
    if (is_closed()) return;
    if (!info) {
        fail(atom("nodedown"), "cannot look " + std::string(peer_.name()) + " up in epmd: " + info.error().what());
        return;
    }
    if (!*info) {
        fail(atom("nodedown"), "epmd does not know " + std::string(peer_.name()));
        return;
    }
    std::uint16_t port = (*info)->port;
    auto [alive, host] = split_node(peer_.name());
    resolver_.async_resolve(host, std::to_string(port),
                            [self = shared_from_this()](const std::error_code& ec, asio::ip::tcp::resolver::results_type r) {
                                if (ec) {
                                    self->fail(atom("nodedown"), "cannot resolve host: " + ec.message());
                                    return;
                                }
                                asio::async_connect(self->socket_, r,
                                                    [self](const std::error_code& ec2, const asio::ip::tcp::endpoint&) {
                                                        self->connected(ec2);
                                                    });
                            });
}

void Connection::connected(const std::error_code& ec) {
    if (ec) {
        fail(atom("nodedown"), "cannot connect to " + std::string(peer_.name()) + ": " + ec.message());
        return;
    }
    std::error_code ignore;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignore);
    begin_handshake(true);
}

void Connection::start_incoming(asio::ip::tcp::socket socket) {
    outgoing_ = false;
    // Move the accepted descriptor onto this connection's strand (the protocol must be read
    // before release() gives the descriptor up).
    std::error_code ec;
    auto local = socket.local_endpoint(ec);
    if (ec) {
        fail(atom("connection_closed"), "incoming connection lost before the handshake: " + ec.message());
        return;
    }
    auto protocol = local.protocol();
    auto fd = socket.release(ec);
    if (ec) {
        fail(atom("connection_closed"), "cannot take over an incoming connection: " + ec.message());
        return;
    }
    socket_.assign(protocol, fd, ec);
    if (ec) {
        fail(atom("connection_closed"), "cannot take over an incoming connection: " + ec.message());
        return;
    }
    std::error_code ignore;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignore);
    asio::post(strand_, [self = shared_from_this()] { self->begin_handshake(false); });
}

void Connection::begin_handshake(bool initiator) {
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::closed) return;
        state_ = State::handshaking;
    }
    auto cfg = handshake_config();
    auto now = handshake::Clock::now();
    if (initiator) {
        cfg.peer_node = std::string(peer_.name());
        hs_.emplace(handshake::Handshake::initiate(std::move(cfg), now));
    } else {
        hs_.emplace(handshake::Handshake::accept(std::move(cfg), now));
    }
    handshake_progress();
    read();
}

void Connection::arm_handshake_timer() {
    auto deadline = hs_->deadline();
    if (!deadline) return;
    handshake_timer_.expires_at(*deadline);
    handshake_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
        if (ec || !self->hs_ || self->hs_->done()) return;
        self->hs_->handle_timeout(handshake::Clock::now());
        self->handshake_progress();
    });
}

// Strand. Writes what the handshake wants written and answers its questions.
void Connection::handshake_progress() {
    auto out = hs_->take_output();
    queue_bytes(out);
    while (auto ev = hs_->poll_event()) {
        if (auto* ap = std::get_if<handshake::AcceptPending>(&*ev)) {
            handshake::ConnectionState st = handshake::ConnectionState::none;
            Atom peer;
            try {
                peer = Atom(ap->peer_node);
            } catch (const Error&) {
                fail(atom("badarg"), "peer announced an invalid node name");
                return;
            }
            std::shared_ptr<Connection> existing;
            {
                std::lock_guard lock(node_.conns_mutex);
                auto it = node_.conns.find(peer.index());
                if (it != node_.conns.end() && it->second.get() != this && !it->second->is_closed()) {
                    existing = it->second;
                    st = existing->is_up() ? handshake::ConnectionState::up : handshake::ConnectionState::pending;
                }
                auto status = hs_->accept_pending(st, handshake::Clock::now());
                if (status && (*status == handshake::Status::ok || *status == handshake::Status::ok_simultaneous ||
                               *status == handshake::Status::alive || *status == handshake::Status::named)) {
                    {
                        std::lock_guard me(mutex_);
                        peer_ = peer;
                    }
                    if (*status == handshake::Status::ok_simultaneous && existing) {
                        // Our own attempt loses: its queued messages travel on this connection.
                        auto moved = existing->take_pending();
                        std::lock_guard me(mutex_);
                        pending_.insert(pending_.begin(), std::make_move_iterator(moved.begin()),
                                        std::make_move_iterator(moved.end()));
                    }
                    if (*status != handshake::Status::alive) node_.conns[peer.index()] = shared_from_this();
                }
            }
            if (existing && st == handshake::ConnectionState::pending) {
                // Decided above: either this attempt won (close ours quietly) or lost (nok).
                // close() takes conns_mutex itself, so it is called without it.
                bool won;
                {
                    std::lock_guard lock(node_.conns_mutex);
                    auto it = node_.conns.find(peer.index());
                    won = it != node_.conns.end() && it->second.get() == this;
                }
                if (won) existing->close(atom("simultaneous_connect"));
            }
            queue_bytes(hs_->take_output());
        } else if (std::get_if<handshake::IsPending>(&*ev)) {
            hs_->is_pending(!is_closed(), handshake::Clock::now());
            queue_bytes(hs_->take_output());
        } else if (auto* wp = std::get_if<handshake::WaitPending>(&*ev)) {
            // The peer restarted: its old connection is dead; replace it.
            Atom peer = Atom(wp->peer_node);
            std::shared_ptr<Connection> old;
            {
                std::lock_guard lock(node_.conns_mutex);
                auto it = node_.conns.find(peer.index());
                if (it != node_.conns.end() && it->second.get() != this) old = it->second;
                node_.conns[peer.index()] = shared_from_this();
            }
            if (old) old->close(atom("connection_replaced"));
            hs_->pending_released(handshake::Clock::now());
            queue_bytes(hs_->take_output());
        } else if (auto* done = std::get_if<handshake::Completed>(&*ev)) {
            went_up(std::move(*done));
            return;
        } else if (auto* failed = std::get_if<handshake::Failed>(&*ev)) {
            fail(failed->error.reason(), std::string("handshake with ") +
                                             (peer_ == Atom() ? std::string("an incoming peer") : std::string(peer_.name())) +
                                             " failed: " + failed->error.what());
            return;
        }
    }
    arm_handshake_timer();
}

void Connection::went_up(handshake::Completed done) {
    handshake_timer_.cancel();
    dist::ChannelConfig cfg;
    cfg.fragments = done.negotiated_flags & dflag::FRAGMENTS;
    cfg.dist_header = cfg.fragments || (done.negotiated_flags & dflag::DIST_HDR_ATOM_CACHE);
    cfg.send.send_sender = done.negotiated_flags & dflag::SEND_SENDER;
    cfg.send.exit_payload = done.negotiated_flags & dflag::EXIT_PAYLOAD;
    Atom peer;
    try {
        peer = Atom(done.peer_node);
    } catch (const Error& e) {
        fail(atom("badarg"), e.what());
        return;
    }
    std::vector<dist::Signal> pending;
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::closed) return;
        peer_ = peer;
        receiver_.emplace(peer, cfg);
        sender_.emplace(cfg);
        state_ = State::up;
        pending.swap(pending_);
        for (auto& s : pending) sender_->encode(s, out_);
    }
    {
        std::lock_guard lock(node_.conns_mutex);
        node_.conns[peer.index()] = shared_from_this();
        node_.nok_nodes.erase(peer.index());
    }
    node_.conns_cv.notify_all();
    state_cv_.notify_all();
    kick_write();
    node_.log(LogLevel::info, "connection to " + std::string(peer.name()) + " is up");
    node_.notify({NodeEvent::Kind::nodeup, peer, Term()});
    arm_tick();
    hs_.reset();
    read_buf_.resize(64 * 1024); // small while handshaking, so half-open connections cost little
    if (!done.rest.empty()) consume(done.rest);
}

void Connection::kick_write() {
    std::unique_lock lock(mutex_);
    if (write_pending_ || out_.empty()) return;
    write_pending_ = true;
    lock.unlock();
    asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
}

// --- Running --------------------------------------------------------------------------------

void Connection::read() {
    socket_.async_read_some(asio::buffer(read_buf_.data(), read_buf_.size()), asio::bind_executor(strand_, [self = shared_from_this()](
                                                                                       const std::error_code& ec, std::size_t n) {
                                self->on_read(ec, n);
                            }));
}

void Connection::on_read(const std::error_code& ec, std::size_t n) {
    if (is_closed()) return;
    if (ec) {
        if (hs_ && !hs_->done()) {
            hs_->receive_eof(handshake::Clock::now());
            handshake_progress();
            if (!is_closed()) fail(atom("connection_closed"), "peer closed the connection during the handshake");
            return;
        }
        if (ec == asio::error::eof) {
            // An orderly close by the peer (a node stopping, erl_call or `edist ping` done) is
            // routine: OTP does not report it either. nodedown tells whoever cares.
            node_.log(LogLevel::info, std::string(peer_.name()) + " closed the connection");
            close(atom("connection_closed"));
        } else {
            fail(atom("connection_closed"), "connection to " + std::string(peer_.name()) + " lost: " + ec.message());
        }
        return;
    }
    consume(std::span(read_buf_.data(), n));
    if (!is_closed()) read();
}

void Connection::consume(std::span<const std::uint8_t> bytes) {
    if (hs_ && !hs_->done()) {
        hs_->receive(bytes, handshake::Clock::now());
        handshake_progress();
        return;
    }
    if (!receiver_) return;
    messages_.clear();
    auto r = receiver_->feed(bytes, messages_);
    for (auto& m : messages_) {
        auto signal = dist::parse(m.control, m.payload, peer_);
        if (!signal) {
            fail(atom("invalid_message"), "closing the connection to " + std::string(peer_.name()) + ": " +
                                              signal.error().what());
            return;
        }
        node_.deliver_local(*signal, peer_);
    }
    if (!r)
        fail(atom("invalid_message"),
             "closing the connection to " + std::string(peer_.name()) + ": " + r.error().what());
}

void Connection::arm_tick() {
    tick_timer_.expires_after(ticker_.interval());
    tick_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
        if (ec || self->is_closed()) return;
        bool sent;
        {
            std::lock_guard lock(self->mutex_);
            sent = self->wrote_since_tick_;
            self->wrote_since_tick_ = false;
        }
        auto action = self->ticker_.on_interval(self->receiver_->take_activity(), sent);
        if (action == dist::Ticker::Action::send_tick || action == dist::Ticker::Action::send_tick_and_peer_down) {
            std::vector<std::uint8_t> tick;
            dist::Sender::tick(tick);
            self->queue_bytes(tick);
        }
        if (action == dist::Ticker::Action::peer_down || action == dist::Ticker::Action::send_tick_and_peer_down) {
            self->fail(atom("net_tick_timeout"), "no data from " + std::string(self->peer_.name()) + " within net_ticktime");
            return;
        }
        self->arm_tick();
    });
}

void Connection::fail(Term reason, std::string why) {
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::closed) return;
    }
    node_.log(LogLevel::warning, why);
    close(std::move(reason));
}

void Connection::close(Term reason) {
    bool was_up;
    Atom peer;
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::closed) return;
        was_up = state_ == State::up;
        state_ = State::closed;
        pending_.clear();
        peer = peer_;
    }
    state_cv_.notify_all();
    bool was_current = false;
    {
        std::lock_guard lock(node_.conns_mutex);
        if (peer != Atom()) {
            auto it = node_.conns.find(peer.index());
            if (it != node_.conns.end() && it->second.get() == this) {
                node_.conns.erase(it);
                was_current = true;
            }
            // Our attempt lost a simultaneous connect: the peer's own attempt is on its way.
            if (outgoing_ && reason.is_atom(atom("nok"))) node_.nok_nodes.insert(peer.index());
        }
    }
    node_.conns_cv.notify_all();
    asio::post(strand_, [self = shared_from_this()] {
        std::error_code ignore;
        self->socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignore);
        self->socket_.close(ignore);
        self->handshake_timer_.cancel();
        self->tick_timer_.cancel();
        self->resolver_.cancel();
    });
    // Links, monitors and spawn requests towards the peer end with noconnection whether the
    // connection was up or never came up (a monitor of an unreachable node fires at once).
    if (was_current && (outgoing_ || was_up)) node_.node_down(peer);
    if (was_up) node_.notify({NodeEvent::Kind::nodedown, peer, reason});
}

// --- Node::Impl: listening, accepting, epmd, connection table -------------------------------

std::shared_ptr<Connection> Node::Impl::connection_for(Atom node, bool create) {
    std::shared_ptr<Connection> c;
    {
        std::lock_guard lock(conns_mutex);
        auto it = conns.find(node.index());
        if (it != conns.end() && !it->second->is_closed()) return it->second;
        if (!create || stopped) return nullptr;
        c = std::make_shared<Connection>(*this, node);
        conns[node.index()] = c;
    }
    c->start_outgoing();
    return c;
}

Result<bool> Node::Impl::start_listening() {
    try {
        asio::ip::tcp::endpoint ep(asio::ip::make_address(options.listen_address), options.listen_port);
        acceptor = std::make_unique<asio::ip::tcp::acceptor>(*io);
        acceptor->open(ep.protocol());
        acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true));
        acceptor->bind(ep);
        acceptor->listen();
        port = acceptor->local_endpoint().port();
    } catch (const std::system_error& e) {
        return Error(atom("eaddrinuse"), "cannot listen for distribution on " + options.listen_address + ":" +
                                             std::to_string(options.listen_port) + ": " + e.what());
    }
    return true;
}

void Node::Impl::start_accepting() {
    acceptor->async_accept([this, keep = weak_self](const std::error_code& ec, asio::ip::tcp::socket s) {
        auto node = keep.lock();
        if (!node || stopped) return;
        if (!ec) {
            auto c = std::make_shared<Connection>(*this, Atom());
            c->start_incoming(std::move(s));
        } else if (ec == asio::error::operation_aborted) {
            return;
        }
        start_accepting();
    });
}

Result<bool> Node::Impl::start_epmd() {
    if (!options.register_with_epmd) {
        creation = 1;
        return true;
    }
    epmd::NodeInfo info;
    info.name = std::string(name.name().substr(0, name.name().find('@')));
    info.port = port;
    epmd::ClientOptions opts;
    opts.port = options.epmd_port;
    opts.timeout = options.net_setuptime;
    auto reg = epmd::register_node(info, opts);
    if (!reg && options.embedded_epmd && reg.error().reason() == atom("econnrefused")) {
        epmd_io = std::make_unique<asio::io_context>();
        epmd::ServerOptions so;
        so.port = options.epmd_port;
        embedded_epmd = std::make_unique<epmd::Server>(*epmd_io, so);
        auto started = embedded_epmd->start();
        if (started) {
            log(LogLevel::info, "no epmd on port " + std::to_string(options.epmd_port) + ": started one in-process");
            epmd_work.emplace(asio::make_work_guard(*epmd_io));
            epmd_thread = std::thread([io = epmd_io.get()] { io->run(); });
        } else {
            embedded_epmd.reset();
        }
        reg = epmd::register_node(info, opts);
    }
    if (!reg) return Error(reg.error().reason(), std::string("cannot register with epmd: ") + reg.error().what());
    creation = reg->creation();
    registration = std::move(*reg);
    return true;
}

} // namespace edist
