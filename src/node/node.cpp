// The node: names, the process table, local delivery and routing, node monitoring.
#include "node/connection.hpp"
#include "node/deadline.hpp"
#include "node/node_impl.hpp"
#include "handshake/node_name.hpp"

#include <edist/cookie.hpp>
#include <edist/text.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <unistd.h>
#include <netdb.h>

namespace edist {

namespace {

// erl -sname uses the host name up to its first dot; -name the fully qualified name.
Result<std::string> local_host(bool long_names) {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return Error(atoms::badarg, "cannot read this machine's host name");
    std::string host = buf;
    if (!long_names) return host.substr(0, host.find('.'));
    if (host.find('.') != std::string::npos) return host;
    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) == 0 && res) {
        std::string canon = res->ai_canonname ? res->ai_canonname : "";
        freeaddrinfo(res);
        if (canon.find('.') != std::string::npos) return canon;
    }
    return Error(atoms::badarg, "long node names need a fully qualified host; give the name as name@host");
}

} // namespace

namespace {

// A log line is one line of text whatever it quotes: control characters (a newline, an escape
// sequence, a NUL from a peer's bytes) are written as \n, \t or \xHH.
std::string one_line(std::string_view line) {
    std::string out;
    out.reserve(line.size());
    for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7F) out += c;
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else out += fmt::format("\\x{:02X}", u);
    }
    return out;
}

bool needs_escaping(std::string_view line) {
    return std::any_of(line.begin(), line.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

} // namespace

void Node::Impl::log(LogLevel level, std::string_view line) const {
    std::string escaped;
    if (needs_escaping(line)) line = escaped = one_line(line);
    if (options.log) {
        options.log(level, line);
        return;
    }
    if (level >= LogLevel::warning) {
        std::string out = "edist[" + std::string(name.name()) + "]: " + std::string(line) + "\n";
        std::fputs(out.c_str(), stderr);
    }
}

void Node::Impl::notify(const NodeEvent& event) {
    std::vector<std::function<void(const NodeEvent&)>> callbacks;
    std::vector<std::shared_ptr<detail::Process>> boxes;
    {
        std::lock_guard lock(monitors_mutex);
        for (auto& [id, cb] : node_monitors) callbacks.push_back(cb);
        for (auto& w : node_monitor_boxes)
            if (auto s = w.lock()) boxes.push_back(s);
    }
    Term kind = event.kind == NodeEvent::Kind::nodeup ? atom("nodeup") : atom("nodedown");
    for (auto& b : boxes) b->deliver(tuple(kind, event.node));
    for (auto& cb : callbacks) cb(event);
}


void Node::Impl::route(Atom node, dist::Signal signal, bool may_block, detail::Process* sender) {
    if (node == name) {
        deliver_local(signal, name);
        return;
    }
    if (stopped) return;
    auto c = connection_for(node, true);
    if (c) c->send(std::move(signal), may_block, sender);
}

void Node::Impl::send(const Pid& to, Term message, std::optional<Pid> from, detail::Process* sender) {
    if (to.node == name) { // what deliver_local does with a SendSignal, without building one
        if (auto p = find_local(to)) p->deliver(std::move(message));
        return;
    }
    route(to.node, dist::SendSignal{from, to, std::move(message)}, true, sender);
}

void Node::Impl::send(Atom n, Atom node, Term message, std::optional<Pid> from, detail::Process* sender) {
    if (node == name) {
        if (auto box = find_name(n)) box->deliver(std::move(message));
        return;
    }
    // REG_SEND needs a sender pid; OTP uses the sending process. Without one, a pid of this
    // node that is never alive stands in, as erl_interface's clients do.
    Pid from_pid = from ? *from : Pid{name, 0, 0, creation};
    route(node, dist::RegSendSignal{from_pid, n, std::move(message)}, true, sender);
}

// --- Node -----------------------------------------------------------------------------------

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->self = this; }
Node::~Node() { stop(); }

namespace {
// A tick is written every quarter of net_ticktime, so under 4 ms it would be a 0 ms timer. A
// billion seconds (31 years) is past any sensible tick time or transition, and keeps every
// deadline computed from them inside steady_clock's range.
constexpr std::chrono::milliseconds min_net_ticktime{4};
constexpr std::chrono::milliseconds max_tick_setting = std::chrono::seconds(1'000'000'000);

std::optional<Error> bad_ticktime(std::chrono::milliseconds t) {
    if (t < min_net_ticktime || t > max_tick_setting)
        return Error(atoms::badarg, "net_ticktime must be at least 4 ms (a tick is written every quarter of it) and "
                                    "at most a billion seconds");
    return std::nullopt;
}

struct NodeAccess : Node {
    explicit NodeAccess(std::unique_ptr<Node::Impl> i) : Node(std::move(i)) {}
};
} // namespace

Result<std::shared_ptr<Node>> start_node(std::unique_ptr<asio::io_context> own, asio::io_context* io,
                                         NodeOptions options) {
    auto impl = std::make_unique<Node::Impl>();
    impl->options = std::move(options);
    NodeOptions& o = impl->options;
    std::string alive = o.name, host;
    if (auto at = alive.find('@'); at != std::string::npos) {
        host = alive.substr(at + 1);
        alive = alive.substr(0, at);
    } else {
        auto h = local_host(o.long_names);
        if (!h) return h.error();
        host = *h;
    }
    if (alive.empty() || host.empty()) return Error(atoms::badarg, "node name must be name@host with both parts");
    // erl's rule for the part before '@' (net_kernel: "Invalid node name!").
    const bool alive_ok = std::all_of(alive.begin(), alive.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!alive_ok)
        return Error(atoms::badarg, "invalid node name '" + alive + "': the part before '@' may hold only letters, "
                                    "digits, '_' and '-', as erl requires");
    if (!handshake::is_node_name(alive + "@" + host))
        return Error(atoms::badarg, "invalid node name: '" + host + "' is not a host name");
    if (!o.hidden)
        return Error(atom("notsup"), "visible nodes must take part in global and pg, which edist does not implement "
                                     "yet; run hidden (the default)");
    if (auto e = bad_ticktime(o.net_ticktime)) return *e;
    impl->ticktime = dist::NetTicktime(o.net_ticktime);
    if (!o.long_names && host.find('.') != std::string::npos) o.long_names = true;
    try {
        impl->name = Atom(alive + "@" + host);
    } catch (const Error& e) {
        return e;
    }
    impl->host = host;
    impl->transport = o.transport ? o.transport : tcp_transport();
    if (o.resolver) {
        impl->resolver = o.resolver;
    } else {
        EpmdResolverOptions ro;
        ro.port = o.epmd_port;
        ro.embedded_epmd = o.embedded_epmd;
        ro.register_node = o.register_with_epmd;
        // The resolver lives in the Impl it logs through.
        ro.log = [im = impl.get()](std::string_view line) { im->log(LogLevel::info, line); };
        impl->resolver = epmd_resolver(std::move(ro));
    }
    impl->own_io = std::move(own);
    impl->io = impl->own_io ? impl->own_io.get() : io;
    auto c = o.cookie.empty() ? resolve_cookie() : resolve_cookie(o.cookie);
    if (!c) return c.error();
    impl->cookie = *c;

    std::shared_ptr<Node> node = std::make_shared<NodeAccess>(std::move(impl));
    Node::Impl& im = node->impl();
    im.weak_self = node;
    if (im.own_io) {
        im.work.emplace(asio::make_work_guard(*im.io));
        for (unsigned i = 0; i < std::max(1u, o.threads); ++i) im.threads.emplace_back([io = im.io] { io->run(); });
    }
    auto listening = im.start_listening();
    if (!listening) {
        node->stop();
        return listening.error();
    }
    auto registered = im.register_node();
    if (!registered) {
        node->stop();
        return registered.error();
    }
    return node;
}

Atom Node::name() const noexcept { return impl_->name; }
std::uint32_t Node::creation() const noexcept { return impl_->creation; }
std::uint16_t Node::port() const noexcept { return impl_->port; }
const NodeOptions& Node::options() const noexcept { return impl_->options; }
asio::io_context& Node::io_context() noexcept { return *impl_->io; }

Result<Mailbox> Node::make_mailbox(std::string_view registered_name) {
    Atom reg;
    if (!registered_name.empty()) {
        try {
            reg = Atom(registered_name);
        } catch (const Error& e) {
            return e;
        }
    }
    auto p = impl_->new_process(reg);
    if (!p) return p.error();
    auto state = std::make_shared<Mailbox::State>();
    state->process = std::move(*p);
    return Mailbox(std::move(state));
}

std::optional<Pid> Node::whereis(Atom n) const {
    if (auto s = impl_->find_name(n)) return s->pid;
    return std::nullopt;
}

std::vector<Atom> Node::registered() const {
    std::vector<Atom> out;
    std::lock_guard lock(impl_->procs_mutex);
    out.reserve(impl_->names.size());
    for (const auto& [name, id] : impl_->names) out.push_back(Atom::from_index(name));
    return out;
}

void Node::send(const Pid& to, Term message, std::optional<Pid> from) {
    impl_->send(to, std::move(message), from, nullptr);
}

void Node::send(Atom n, Atom node, Term message, std::optional<Pid> from) {
    impl_->send(n, node, std::move(message), from, nullptr);
}

bool Node::send(Atom n, Term message) {
    auto box = impl_->find_name(n);
    if (!box) return false;
    box->deliver(std::move(message));
    return true;
}

std::vector<Atom> Node::nodes() const {
    std::vector<Atom> out;
    std::lock_guard lock(impl_->conns_mutex);
    for (auto& [key, c] : impl_->conns)
        if (c->is_up()) out.push_back(c->peer());
    return out;
}

std::size_t Node::dist_queue_size(Atom node) const {
    std::shared_ptr<Connection> c;
    {
        std::lock_guard lock(impl_->conns_mutex);
        auto it = impl_->conns.find(node.index());
        if (it == impl_->conns.end()) return 0;
        c = it->second;
    }
    return c->queue_size();
}

Node::NetTicktime Node::net_ticktime() const {
    std::lock_guard lock(impl_->ticktime_mutex);
    auto r = impl_->ticktime.get(dist::NetTicktime::Clock::now());
    return {r.ticktime, r.changing};
}

Result<std::pair<Node::TicktimeChange, std::chrono::milliseconds>> Node::set_net_ticktime(
    std::chrono::milliseconds ticktime, std::chrono::milliseconds transition) {
    if (auto e = bad_ticktime(ticktime)) return *e;
    if (transition < std::chrono::milliseconds(0) || transition > max_tick_setting)
        return Error(atoms::badarg, "a transition period is 0 to a billion seconds");
    std::pair<dist::NetTicktime::Outcome, std::chrono::milliseconds> r;
    {
        std::lock_guard lock(impl_->ticktime_mutex);
        r = impl_->ticktime.set(ticktime, transition, dist::NetTicktime::Clock::now());
    }
    if (r.first == dist::NetTicktime::Outcome::change_initiated) {
        // Every connection takes the new schedule now rather than at its next tick, which with
        // the old tick time could come after a peer that shortened it has given up on us.
        std::vector<std::shared_ptr<Connection>> all;
        {
            std::lock_guard lock(impl_->conns_mutex);
            for (auto& [_, c] : impl_->conns) all.push_back(c);
        }
        for (auto& c : all) c->retick();
    }
    static_assert(int(TicktimeChange::unchanged) == int(dist::NetTicktime::Outcome::unchanged) &&
                  int(TicktimeChange::change_initiated) == int(dist::NetTicktime::Outcome::change_initiated) &&
                  int(TicktimeChange::ongoing_change_to) == int(dist::NetTicktime::Outcome::ongoing_change_to));
    return std::pair{static_cast<TicktimeChange>(r.first), r.second};
}

bool Node::connect(Atom node, std::chrono::milliseconds timeout) {
    // Like net_kernel:connect_node, wait for the node, not for one attempt: when both sides
    // dial at once, the attempt that survives may be the peer's.
    if (node == impl_->name) return true;
    if (!impl_->connection_for(node, true)) return false;
    const auto deadline = detail::deadline_after(timeout);
    // Up and announced: a nodeup subscriber has heard of the node when connect() returns, as
    // net_kernel sends nodeup before it answers connect_node. A nodeup callback itself (on the
    // node's thread) cannot wait for its own announcement: up is enough there.
    const bool on_node_thread = impl_->io->get_executor().running_in_this_thread();
    auto ready = [&](const Connection& c) { return on_node_thread ? c.is_up() : c.is_announced(); };
    std::unique_lock lock(impl_->conns_mutex);
    for (;;) {
        auto it = impl_->conns.find(node.index());
        bool live = it != impl_->conns.end() && !it->second->is_closed();
        if (live && ready(*it->second)) return true;
        if (!live && !impl_->nok_nodes.count(node.index())) return false;
        if (detail::wait_until(impl_->conns_cv, lock, deadline)) {
            it = impl_->conns.find(node.index());
            return it != impl_->conns.end() && ready(*it->second);
        }
    }
}

void Node::disconnect(Atom node) {
    if (auto c = impl_->connection_for(node, false)) c->close(atom("disconnect"));
}

bool Node::ping(Atom node, std::chrono::milliseconds timeout) {
    if (node == impl_->name) return true;
    const auto deadline = detail::deadline_after(timeout);
    if (!connect(node, timeout)) return false;
    auto box = make_mailbox();
    if (!box) return false;
    std::uint32_t words[3];
    RAND_bytes(reinterpret_cast<unsigned char*>(words), sizeof words);
    Ref r{impl_->name, impl_->creation, 3, {words[0] & 0x3FFFF, words[1], words[2], 0, 0}};
    Term tag(r);
    box->send(atom("net_kernel"), node,
              tuple(atom("$gen_call"), tuple(box->pid(), tag), tuple(atom("is_auth"), impl_->name)));
    auto reply = box->receive([&](const Term& m) { return m.is_tuple(2) && m[0] == tag; },
                              detail::time_left(deadline));
    bool pong = reply && (*reply)[1].is_atom(atom("yes"));
    box->close();
    if (!pong) disconnect(node); // as net_adm:ping does on pang
    return pong;
}

std::uint64_t Node::monitor_nodes(std::function<void(const NodeEvent&)> callback) {
    std::lock_guard lock(impl_->monitors_mutex);
    std::uint64_t id = ++impl_->next_monitor;
    impl_->node_monitors.emplace(id, std::move(callback));
    return id;
}

void Node::unmonitor_nodes(std::uint64_t id) {
    std::lock_guard lock(impl_->monitors_mutex);
    impl_->node_monitors.erase(id);
}

void Node::stop() {
    Impl& im = *impl_;
    if (im.stopped.exchange(true)) return;
    std::vector<std::shared_ptr<Connection>> conns;
    {
        std::lock_guard lock(im.conns_mutex);
        for (auto& [k, c] : im.conns) conns.push_back(c);
    }
    // What was sent before stop() leaves first, as with init:stop() (halt() may lose it); a
    // peer that does not read holds the node back two seconds at most.
    const auto flush_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (auto& c : conns) c->flush(flush_deadline);
    // What net_kernel's subscribers hear when the local distribution stops.
    for (auto& c : conns) c->close(atom("net_kernel_terminated"));
    // Processes are killed (coroutines at their next co_await) so none outlives its node.
    std::vector<std::shared_ptr<detail::Process>> procs;
    {
        std::lock_guard lock(im.procs_mutex);
        for (auto& [id, w] : im.procs)
            if (auto p = w.lock()) procs.push_back(std::move(p));
    }
    for (auto& p : procs) p->exit_signal(p->pid, atom("kill"), false);
    if (im.own_io) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        for (auto& p : procs)
            while (p->coroutine && std::chrono::steady_clock::now() < deadline) {
                std::unique_lock lock(p->mutex);
                if (p->finished) break;
                lock.unlock();
                std::this_thread::yield();
            }
    }
    procs.clear();
    // On a user's io_context this may run after the Node is gone (its acceptor with it).
    if (im.accept_strand)
        asio::post(*im.accept_strand, [keep = im.weak_self] {
            if (auto node = keep.lock()) node->impl().acceptor->close();
        });
    im.registration.handle.reset(); // unregisters (epmd: and stops an in-process epmd)
    if (im.own_io) {
        im.work.reset();
        // Give pending closes a moment to run on the node's threads, then stop them.
        asio::post(*im.io, [io = im.io] { io->stop(); });
        bool joined_all = true;
        for (auto& t : im.threads)
            if (t.joinable() && t.get_id() != std::this_thread::get_id()) {
                t.join();
            } else if (t.joinable()) {
                t.detach();
                joined_all = false;
            }
        // Handlers still queued when the threads stopped (a closed connection's completions, a
        // killed process's resumption) hold the node through their connection or process: run
        // them here, so they let go. Left queued, they kept the node, its io_context and asio's
        // resolver thread alive for ever (a thread and a node's memory leaked per stop).
        if (joined_all) {
            im.io->restart();
            for (int round = 0; round < 64 && im.io->poll() > 0; ++round) {
            }
        }
    }
}

} // namespace edist
