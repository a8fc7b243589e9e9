#include "node/connection.hpp"

#include <edist/etf.hpp>
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

Connection::Connection(Node::Impl& node, Atom peer, Strand strand, bool outgoing)
    : node_(node),
      node_ref_(node.weak_self.lock()),
      strand_(std::move(strand)),
      handshake_timer_(strand_),
      tick_timer_(strand_),
      outgoing_(outgoing),
      peer_(peer),
      ticker_(node.tick_schedule()) {}

Connection::~Connection() = default;

Atom Connection::peer() const {
    std::lock_guard lock(mutex_);
    return peer_;
}
bool Connection::is_up() const {
    std::lock_guard lock(mutex_);
    return state_ == State::up;
}
bool Connection::is_announced() const {
    std::lock_guard lock(mutex_);
    return state_ == State::up && announced_;
}
bool Connection::is_closed() const {
    std::lock_guard lock(mutex_);
    return state_ == State::closed;
}

std::vector<dist::Signal> Connection::take_pending(const std::shared_ptr<Connection>& successor) {
    std::vector<dist::Signal> taken;
    std::vector<Held> held;
    {
        std::lock_guard lock(mutex_);
        pending_bytes_ = 0;
        taken = std::move(pending_);
        successor_ = successor; // what is sent here from now on goes there (see send)
        held = release_held_locked();
    }
    resume_held(std::move(held));
    return taken;
}

bool Connection::hold(const std::shared_ptr<detail::Process>& p, std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    if (drained_locked()) return false;
    held_.push_back({p, seq});
    return true;
}

std::vector<Connection::Held> Connection::release_held_locked() {
    if (held_.empty() || !drained_locked()) return {};
    return std::move(held_);
}

void Connection::resume_held(std::vector<Held> held) {
    for (Held& h : held)
        if (auto p = h.process.lock())
            asio::post(*node_.io, [p = std::move(p), seq = h.seq] { p->resume_busy(seq); });
}

std::size_t Connection::queue_size() const {
    std::lock_guard lock(mutex_);
    return queued_locked();
}

// Whether the caller is one of the threads running the node's io_context, which must never
// block (a coroutine process, a handler, this connection's own strand).
bool Connection::on_node_thread() const { return node_.io->get_executor().running_in_this_thread(); }

void Connection::send(dist::Signal signal, bool may_block, detail::Process* sender) {
    std::unique_lock lock(mutex_);
    if (auto next = successor_.lock()) {
        // A sender that found this attempt just before the peer's own took its queue over.
        lock.unlock();
        next->send(std::move(signal), may_block, sender);
        return;
    }
    if (state_ == State::closed) return;
    const std::size_t busy = node_.options.dist_buf_busy_limit;
    if (sender && sender->coroutine && queued_locked() > busy) {
        // A coroutine cannot be suspended inside a plain call: the message is queued and the
        // process waits at its next co_await (Process::busy_on, ReceiveAwaiter).
        sender->busy_on = shared_from_this();
    } else if (may_block && queued_locked() > busy && !on_node_thread()) {
        // The peer is slow (or stopped, or not connected yet): hold this thread back, as BEAM
        // suspends a process that sends on a busy distribution entry. What is queued drains.
        ++blocked_senders_;
        drain_cv_.wait(lock, [&] { return drained_locked(); });
        --blocked_senders_;
        if (state_ == State::closed) return;
    }
    if (queued_locked() > node_.options.dist_buf_max) {
        // Senders that may not block kept queuing: bounded memory wins over the connection.
        std::size_t queued = queued_locked();
        Atom peer = peer_;
        lock.unlock();
        fail(atom("system_limit"), "closing the connection to " + std::string(peer.name()) + ": " +
                                       std::to_string(queued) + " bytes wait to be written (dist_buf_max)");
        return;
    }
    if (state_ != State::up) {
        pending_bytes_ += dist::estimated_size(signal);
        pending_.push_back(std::move(signal));
        return;
    }
    sender_->encode(signal, out_);
    if (!write_pending_) {
        write_pending_ = true;
        if (in_consume_) { // what the received messages cause goes out in one write at its end
            flush_after_consume_ = true;
            return;
        }
        lock.unlock();
        asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
    }
}

void Connection::queue_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    std::unique_lock lock(mutex_);
    out_.bytes.insert(out_.bytes.end(), bytes.begin(), bytes.end());
    if (!write_pending_) {
        write_pending_ = true;
        lock.unlock();
        asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
    }
}

// Strand. Writes whatever accumulated while the previous write was in flight, in one go: at
// once when the socket takes it all (the usual case), else through an asynchronous write
// whose completion comes back here.
void Connection::do_write() {
    for (;;) {
        bool wake;
        std::vector<Held> held;
        writing_.clear(); // written (strand-only): let go of the binaries it referred to
        {
            std::lock_guard lock(mutex_);
            in_flight_ = 0;
            if (state_ == State::closed || out_.empty()) {
                write_pending_ = false;
            } else {
                std::swap(writing_, out_);
                in_flight_ = writing_.size();
                written_ = 0;
                wrote_since_tick_ = true;
            }
            wake = blocked_senders_ > 0 && drained_locked();
            held = release_held_locked();
        }
        if (wake) drain_cv_.notify_all();
        resume_held(std::move(held));
        if (in_flight_ == 0) return; // in_flight_ is written on this strand only
        if (!write_now()) return;
    }
}

// Strand. True when writing_ went out whole without waiting; otherwise an asynchronous write
// (or the failure) carries on from where the socket stopped taking bytes.
bool Connection::write_now() {
    std::error_code ec;
    written_ += stream_->try_write_some_gather(unwritten(), ec);
    if (written_ == writing_.size()) return true;
    if (ec && ec != std::errc::operation_would_block) {
        on_written(ec, 0);
        return false;
    }
    write_some();
    return false;
}

// Strand. One non-blocking attempt to write what is queued (a few bytes of handshake).
void Connection::write_final_bytes() {
    if (!writing_.empty()) return; // a write in flight would interleave
    {
        std::lock_guard lock(mutex_);
        std::swap(writing_, out_);
    }
    written_ = 0;
    std::error_code ec;
    if (!writing_.empty()) stream_->try_write_some_gather(unwritten(), ec);
}

void Connection::write_some() {
    stream_->async_write_some_gather(unwritten(),
                              [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_written(ec, n); });
}

// Strand. The pieces of writing_ from written_ on, as buffers for one gathering write (as
// many as one writev takes; the write goes on from wherever it stops).
std::span<const asio::const_buffer> Connection::unwritten() {
    constexpr std::size_t max_pieces = 64; // Asio passes at most 64 buffers to one writev
    write_buffers_.clear();
    writing_.for_each_piece(written_, [this](std::span<const std::uint8_t> p) {
        write_buffers_.emplace_back(p.data(), p.size());
        return write_buffers_.size() < max_pieces;
    });
    return write_buffers_;
}

void Connection::on_written(const std::error_code& ec, std::size_t n) {
    if (ec) {
        fail(atom("connection_closed"), "writing to " + std::string(peer_.name()) + " failed: " + ec.message());
        return;
    }
    written_ += n;
    if (written_ < writing_.size()) write_some(); // the socket was full a moment ago: wait
    else do_write();
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
    cfg.framing = stream_ && stream_->handshake_len32() ? handshake::Framing::len32 : handshake::Framing::len16;
    return cfg;
}

// The resolver says where the peer listens (epmd by default), then the transport dials.
void Connection::start_outgoing() {
    asio::post(strand_, [self = shared_from_this()] {
        auto [alive, host] = split_node(self->peer_.name());
        if (host.empty()) {
            self->fail(atom("badarg"), "node name " + std::string(self->peer_.name()) + " has no host part");
            return;
        }
        // As OTP's inet_tcp_dist: a host that does not fit this node's names is refused before
        // anything is asked of the network.
        const auto mode = self->node_.options.long_names ? handshake::NameMode::longnames : handshake::NameMode::shortnames;
        if (auto misfit = handshake::host_misfit(host, mode)) {
            self->fail(atom("badarg"), "cannot connect to " + std::string(self->peer_.name()) + ": " + *misfit);
            return;
        }
        self->node_.resolver->async_address_please(
            *self->node_.io, alive, host, self->node_.options.net_setuptime, [self](Result<NodeAddress> r) {
                asio::post(self->strand_, [self, r = std::move(r)]() mutable { self->resolved(std::move(r)); });
            });
    });
}

void Connection::resolved(Result<NodeAddress> address) {
    if (is_closed()) return;
    if (!address) {
        fail(address.error().reason(), address.error().what());
        return;
    }
    stream_ = node_.transport->make_stream(strand_);
    stream_->async_connect(*address, [self = shared_from_this()](std::error_code ec) { self->connected(ec); });
}

void Connection::connected(const std::error_code& ec) {
    if (ec) {
        fail(atom("nodedown"), "cannot connect to " + std::string(peer_.name()) + ": " + ec.message());
        return;
    }
    begin_handshake(true);
}

void Connection::start_incoming(std::unique_ptr<Stream> stream) {
    stream_ = std::move(stream); // made on strand_ by the acceptor
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
                        auto moved = existing->take_pending(shared_from_this());
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
            if (old) old->close_replaced();
            hs_->pending_released(handshake::Clock::now());
            queue_bytes(hs_->take_output());
        } else if (auto* done = std::get_if<handshake::Completed>(&*ev)) {
            went_up(std::move(*done));
            return;
        } else if (auto* failed = std::get_if<handshake::Failed>(&*ev)) {
            if (outgoing_ && failed->error.reason() == atom("nok")) {
                lose_simultaneous_connect();
                return;
            }
            fail(failed->error.reason(), std::string("handshake with ") +
                                             (peer_ == Atom() ? std::string("an incoming peer") : std::string(peer_.name())) +
                                             " failed: " + failed->error.what());
            return;
        }
    }
    arm_handshake_timer();
}

// Our attempt lost a simultaneous connect: the peer answered nok because its own attempt to
// us wins. As OTP's dist_util does ("wait to be killed"), this connection stays the node's
// pending one for the peer, keeping every signal queued for it, until that attempt arrives
// and takes them over (ok_simultaneous in handshake_progress, which then closes this one
// quietly). Only if it does not come within net_setuptime is the peer unreachable.
void Connection::lose_simultaneous_connect() {
    lost_simultaneous_ = true;
    node_.log(LogLevel::info, "simultaneous connect with " + std::string(peer_.name()) +
                                  ": its attempt wins (nok); waiting for it");
    if (stream_) stream_->close(); // the read that fails now is ignored (on_read)
    handshake_timer_.expires_after(node_.options.net_setuptime);
    handshake_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
        if (ec) return;
        self->fail(atom("nok"), "simultaneous connect with " + std::string(self->peer_.name()) +
                                    ": its attempt won (nok) but did not arrive within net_setuptime");
    });
}

void Connection::went_up(handshake::Completed done) {
    handshake_timer_.cancel();
    dist::ChannelConfig cfg;
    cfg.fragments = done.negotiated_flags & dflag::FRAGMENTS;
    cfg.atom_cache_refs = done.negotiated_flags & dflag::DIST_HDR_ATOM_CACHE;
    cfg.dist_header = cfg.fragments || cfg.atom_cache_refs;
    cfg.send.send_sender = done.negotiated_flags & dflag::SEND_SENDER;
    cfg.send.exit_payload = done.negotiated_flags & dflag::EXIT_PAYLOAD;
    cfg.parse_signals = true;
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
        pending_bytes_ = 0;
        for (auto& s : pending) {
            try {
                sender_->encode(s, out_);
            } catch (const Error& e) { // its sender had no way to hear of it: say so here
                node_.log(LogLevel::error, "dropped a signal to " + std::string(peer.name()) + ": " + e.what());
            }
        }
    }
    {
        std::lock_guard lock(node_.conns_mutex);
        node_.conns[peer.index()] = shared_from_this();
        node_.nok_nodes.erase(peer.index());
        node_.connect_failures_logged.erase(peer.index());
    }
    kick_write();
    node_.log(LogLevel::info, "connection to " + std::string(peer.name()) + " is up");
    // As net_kernel does, subscribers hear of the node before connect() returns (it waits for
    // is_announced()); and a close() meanwhile owes its nodedown until they have.
    node_.notify({NodeEvent::Kind::nodeup, peer, Term()});
    std::optional<Term> owed;
    {
        std::lock_guard lock(mutex_);
        announced_ = true;
        owed = std::exchange(owed_nodedown_, std::nullopt);
    }
    node_.conns_cv.notify_all();
    if (owed) node_.notify({NodeEvent::Kind::nodedown, peer, *owed});
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

// Inside a large packet the rest of its body is read straight to where the receiver keeps it;
// otherwise into read_buf_.
void Connection::read() {
    std::span<std::uint8_t> direct;
    std::size_t size = read_buf_.size();
    if (receiver_) {
        direct = receiver_->direct_buffer();
        size = receiver_->read_size(size);
    }
    reading_direct_ = !direct.empty();
    auto to = reading_direct_ ? asio::buffer(direct.data(), direct.size()) : asio::buffer(read_buf_.data(), size);
    stream_->async_read_some(to, [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(const std::error_code& ec, std::size_t n) {
    if (is_closed() || lost_simultaneous_) return;
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
    if (reading_direct_) {
        messages_.clear();
        deliver(receiver_->commit_direct(n, messages_));
    } else {
        consume(std::span(read_buf_.data(), n));
    }
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
    deliver(receiver_->feed(bytes, messages_));
}

// Delivers messages_, which the receiver just filled; `r` is what it said of the bytes.
void Connection::deliver(Result<std::size_t> r) {
    {
        std::lock_guard lock(mutex_);
        in_consume_ = true;
    }
    detail::ResumeWaitersNow resume_now(node_.single_threaded());
    for (auto& m : messages_) {
        if (m.signal) { // a common operation, parsed by the receiver
            node_.deliver_local(*m.signal, peer_);
            continue;
        }
        auto signal = dist::parse(m.control, m.payload, peer_);
        if (!signal) {
            r = signal.error();
            break;
        }
        node_.deliver_local(*signal, peer_);
    }
    bool flush;
    {
        std::lock_guard lock(mutex_);
        in_consume_ = false;
        flush = std::exchange(flush_after_consume_, false);
    }
    // Replies to what just arrived (a spawn reply and the DOWN of a process that ran to its end
    // meanwhile, say) leave in one write, without a round through the scheduler.
    if (flush) do_write();
    if (!r)
        fail(atom("invalid_message"),
             "closing the connection to " + std::string(peer_.name()) + ": " + r.error().what());
}

void Connection::retick() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->is_up()) self->arm_tick(); // re-arming cancels the wait under way
    });
}

void Connection::arm_tick() {
    ticker_.retime(node_.tick_schedule());
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
    bool never_up;
    Atom peer; // fail() also runs off the strand (send's dist_buf_max), where peer_ needs the lock
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::closed) return;
        never_up = state_ != State::up;
        peer = peer_;
    }
    // Every send to an unreachable node tries again (auto-connect): only the first failure a
    // minute is a warning, so a sender retrying all day does not flood the log.
    LogLevel level = LogLevel::warning;
    if (outgoing_ && never_up && peer != Atom()) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(node_.conns_mutex);
        auto [it, first] = node_.connect_failures_logged.try_emplace(peer.index(), now);
        if (!first && now - it->second < std::chrono::minutes(1)) level = LogLevel::info;
        else it->second = now;
    }
    // The human message, then the reason as Erlang code would see it (nodedown's reason).
    node_.log(level, why + " (reason: " + to_string(reason) + ")");
    close(std::move(reason));
}

void Connection::flush(std::chrono::steady_clock::time_point deadline) {
    if (on_node_thread()) return;
    std::unique_lock lock(mutex_);
    if (state_ != State::up) return;
    ++blocked_senders_; // do_write wakes drain_cv_'s waiters as it writes
    drain_cv_.wait_until(lock, deadline, [&] { return state_ == State::closed || queued_locked() == 0; });
    --blocked_senders_;
}

void Connection::close_replaced() {
    {
        std::lock_guard lock(mutex_);
        replaced_ = true;
    }
    close(atom("wait_pending"));
}

void Connection::close(Term reason) {
    bool was_up;
    bool tell_nodedown;
    bool replaced;
    Atom peer;
    std::vector<Held> held;
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::closed) return;
        was_up = state_ == State::up;
        replaced = replaced_;
        tell_nodedown = was_up && announced_;
        if (was_up && !announced_) owed_nodedown_ = reason; // went_up() tells it after the nodeup
        state_ = State::closed;
        pending_.clear();
        pending_bytes_ = 0;
        peer = peer_;
        held = std::move(held_);
    }
    drain_cv_.notify_all();
    resume_held(std::move(held));
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
    asio::post(strand_, [self = shared_from_this(), handshaking = !was_up] {
        // A handshake's last words (a status such as nok or not_allowed) are queued but not
        // yet written: send them before closing, or the peer sees only the close.
        if (self->stream_ && handshaking) self->write_final_bytes();
        if (self->stream_) self->stream_->close();
        self->handshake_timer_.cancel();
        self->tick_timer_.cancel();
    });
    // Links, monitors and spawn requests towards the peer end with noconnection whether the
    // connection was up or never came up (a monitor of an unreachable node fires at once).
    // A connection replaced by the peer's new incarnation is no longer the node's current one,
    // but what went through it is lost all the same.
    if ((was_current || replaced) && (outgoing_ || was_up)) node_.node_down(peer);
    if (tell_nodedown) node_.notify({NodeEvent::Kind::nodedown, peer, reason});
}

// --- Node::Impl: listening, accepting, epmd, connection table -------------------------------

std::shared_ptr<Connection> Node::Impl::connection_for(Atom node, bool create) {
    std::shared_ptr<Connection> c;
    {
        std::lock_guard lock(conns_mutex);
        auto it = conns.find(node.index());
        if (it != conns.end() && !it->second->is_closed()) return it->second;
        if (!create || stopped) return nullptr;
        c = std::make_shared<Connection>(*this, node, asio::make_strand(*io), true);
        conns[node.index()] = c;
    }
    c->start_outgoing();
    return c;
}

Result<bool> Node::Impl::start_listening() {
    std::uint16_t want = options.listen_port;
    if (want == 0) {
        auto [alive, h] = split_node(name.name());
        if (auto p = resolver->listen_port_please(alive, h)) want = *p;
    }
    auto a = transport->listen(*io, options.listen_address, want);
    if (!a) return a.error();
    acceptor = std::move(*a);
    accept_strand.emplace(asio::make_strand(*io));
    port = acceptor->port();
    return true;
}

void Node::Impl::start_accepting() {
    asio::dispatch(*accept_strand, [this, keep = weak_self] {
        auto node = keep.lock();
        if (!node || stopped) return; // stop's close comes (or came) after this on accept_strand
        auto strand = asio::make_strand(*io);
        acceptor->async_accept(strand, [this, keep, strand](std::error_code ec, std::unique_ptr<Stream> s) {
            auto node = keep.lock();
            if (!node || stopped) return;
            if (!ec) {
                auto c = std::make_shared<Connection>(*this, Atom(), strand, false);
                c->start_incoming(std::move(s));
            } else if (ec == asio::error::operation_aborted) {
                return;
            }
            start_accepting();
        });
    });
}

Result<bool> Node::Impl::register_node() {
    auto [alive, h] = split_node(name.name());
    auto r = resolver->register_node(*io, alive, h, port, options.net_setuptime);
    if (!r) return r.error();
    creation = r->creation;
    registration = std::move(*r);
    return true;
}

} // namespace edist
