// The process table, and every signal between processes: local ones directly, remote ones as
// distribution signals. Also Self, the API a process body uses.
#include "node/node_impl.hpp"

#include <edist/text.hpp>

#include <algorithm>

#include <openssl/rand.h>

namespace edist {

using detail::Process;

// --- Table ------------------------------------------------------------------------------------

Pid Node::Impl::make_pid() {
    // Pid numbers stay within the 15+13 bits OTP 25 peers without V4_NC keep of a pid; the
    // whole number is in `id` (serial 0), which every OTP release accepts.
    for (;;) {
        std::uint32_t key = next_pid++ & 0x0FFFFFFF;
        if (key != 0 && !procs.count(key)) return Pid{name, key, 0, creation};
    }
}

Ref Node::Impl::make_ref() {
    // Unique within this node's life (a counter), unguessable across restarts (random word).
    static thread_local std::uint32_t salt = [] {
        std::uint32_t s = 0;
        RAND_bytes(reinterpret_cast<unsigned char*>(&s), sizeof s);
        return s;
    }();
    std::uint64_t n = ++ref_counter;
    return Ref{name, creation, 3, {static_cast<std::uint32_t>(n & 0x3FFFF), static_cast<std::uint32_t>(n >> 18), salt, 0, 0}};
}

Result<std::shared_ptr<Process>> Node::Impl::new_process(Atom reg, bool coroutine,
                                                          const std::function<void(Process&)>& init) {
    auto node = weak_self.lock();
    auto p = std::make_shared<Process>(*node);
    p->keep_node = node;
    std::lock_guard lock(procs_mutex);
    // Node::stop sets `stopped`, then ends what it finds in the table (under procs_mutex): a
    // process added after that would outlive its node.
    if (stopped) return Error(atom("notalive"), "the node is stopped");
    if (reg != Atom()) {
        auto it = names.find(reg.index());
        if (it != names.end()) {
            auto holder = procs.find(it->second);
            if (holder != procs.end() && !holder->second.expired())
                return Error(atoms::badarg, "name " + std::string(reg.name()) + " is already registered");
        }
    }
    p->pid = make_pid();
    p->group_leader = default_group_leader ? *default_group_leader : p->pid;
    if (coroutine) {
        p->coroutine = true;
        p->running_ref = p; // a coroutine process lives until its body ends
    }
    if (init) init(*p);
    if (reg != Atom()) {
        names[reg.index()] = p->pid.id;
        p->registered = reg;
    }
    procs[p->pid.id] = p;
    return p;
}

void Node::Impl::remove_process(std::uint32_t id, Atom registered) {
    std::lock_guard lock(procs_mutex);
    procs.erase(id);
    if (registered != Atom()) {
        auto it = names.find(registered.index());
        if (it != names.end() && it->second == id) names.erase(it);
    }
    std::erase_if(aliases, [&](const auto& kv) { return kv.second == id; });
}

std::shared_ptr<Process> Node::Impl::find_process(std::uint32_t id) const {
    std::lock_guard lock(procs_mutex);
    auto it = procs.find(id);
    return it == procs.end() ? nullptr : it->second.lock();
}

std::shared_ptr<Process> Node::Impl::find_name(Atom n) const {
    std::lock_guard lock(procs_mutex);
    auto it = names.find(n.index());
    if (it == names.end()) return nullptr;
    auto p = procs.find(it->second);
    return p == procs.end() ? nullptr : p->second.lock();
}

namespace {
std::array<std::uint32_t, 3> alias_key(const Ref& r) { return {r.words[0], r.words[1], r.words[2]}; }
} // namespace

std::shared_ptr<Process> Node::Impl::find_alias(const Ref& alias) const {
    if (alias.node != name || alias.len != 3) return nullptr;
    std::uint32_t id;
    {
        std::lock_guard lock(procs_mutex);
        auto it = aliases.find(alias_key(alias));
        if (it == aliases.end()) return nullptr;
        id = it->second;
    }
    return find_process(id);
}
void Node::Impl::add_alias(const Ref& alias, std::uint32_t pid_id) {
    std::lock_guard lock(procs_mutex);
    aliases[alias_key(alias)] = pid_id;
}
bool Node::Impl::remove_alias(const Ref& alias) {
    std::lock_guard lock(procs_mutex);
    return aliases.erase(alias_key(alias)) > 0;
}

void Node::Impl::set_node_monitor(const std::shared_ptr<Process>& box, bool on) {
    std::lock_guard lock(monitors_mutex);
    std::erase_if(node_monitor_boxes, [&](const auto& w) {
        auto s = w.lock();
        return !s || s == box;
    });
    if (on) node_monitor_boxes.push_back(box);
}

namespace {
// Removes one of `self`'s monitor_node entries for `node`; false if it had none.
bool drop_node_monitor(Process& self, Atom node) {
    std::lock_guard lock(self.mutex);
    auto it = std::find(self.node_monitors.begin(), self.node_monitors.end(), node);
    if (it == self.node_monitors.end()) return false;
    self.node_monitors.erase(it);
    return true;
}
} // namespace

void Node::Impl::monitor_node(const std::shared_ptr<Process>& self, Atom node, bool on) {
    if (!on) { // removes one, as erlang:monitor_node(Node, false)
        drop_node_monitor(*self, node);
        return;
    }
    if (node == name) return; // this node does not go down under its own processes
    {
        std::lock_guard lock(self->mutex);
        self->node_monitors.push_back(node);
    }
    // As the BIF does, the node is connected if it is not: a failed attempt, or the end of the
    // connection, is node_down(), which sends the message. A stopped node cannot try at all.
    if (connection_for(node, true)) return;
    if (!drop_node_monitor(*self, node)) return; // node_down() meanwhile sent it
    self->deliver(tuple(atom("nodedown"), node));
}

// --- Signals from local processes ------------------------------------------------------------

void Node::Impl::send_exit(const Pid& from, const Pid& to, const Term& reason, bool via_link) {
    if (to.node != name) {
        route(to.node, dist::ExitSignal{from, to, reason, via_link});
        return;
    }
    if (auto p = find_local(to)) p->exit_signal(from, reason, via_link);
}

void Node::Impl::send_down(const Pid& watcher, const Ref& ref, const Term& as, const Term& reason) {
    if (watcher.node != name) {
        route(watcher.node, dist::MonitorExitSignal{as, watcher, ref, reason});
        return;
    }
    if (auto w = find_local(watcher)) {
        Term item = as.is_atom() ? tuple(as, name) : as;
        w->down(ref, item, reason);
    }
}

void Node::Impl::cancel_monitor(const Pid& watcher, const detail::MonitorOut& m) {
    if (m.node != name) {
        Term to = m.target.is_tuple(2) ? m.target[0] : m.target;
        route(m.node, dist::DemonitorSignal{watcher, to, m.ref});
        return;
    }
    std::shared_ptr<Process> target = m.target.is_pid() ? find_local(m.target.as_pid()) : find_name(m.target[0].as_atom());
    if (target) target->demonitored(m.ref);
}

void Node::Impl::link(const std::shared_ptr<Process>& self, const Pid& other) {
    if (other == self->pid) return;
    {
        std::lock_guard lock(self->mutex);
        if (self->exited) return;
        auto it = std::find_if(self->links.begin(), self->links.end(), [&](const auto& l) { return l.peer == other; });
        if (it != self->links.end()) {
            if (it->unlink_id == 0) return;
            it->unlink_id = 0; // re-linking while an unlink is in flight
        } else {
            self->links.push_back({other, 0});
        }
    }
    if (other.node != name) {
        route(other.node, dist::LinkSignal{self->pid, other});
        return;
    }
    auto target = find_local(other);
    if (target)
        target->add_link(self->pid);
    else
        self->exit_signal(other, atoms::noproc, true);
}

void Node::Impl::unlink(const std::shared_ptr<Process>& self, const Pid& other) {
    std::uint64_t id = 0;
    {
        std::lock_guard lock(self->mutex);
        auto it = std::find_if(self->links.begin(), self->links.end(), [&](const auto& l) { return l.peer == other; });
        if (it == self->links.end() || it->unlink_id != 0) return;
        if (other.node == name) {
            self->links.erase(it);
        } else {
            while (id == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id);
            it->unlink_id = id;
        }
    }
    if (other.node != name) {
        route(other.node, dist::UnlinkIdSignal{id, self->pid, other});
        return;
    }
    if (auto target = find_local(other)) {
        std::lock_guard lock(target->mutex);
        std::erase_if(target->links, [&](const auto& l) { return l.peer == self->pid; });
    }
}

Ref Node::Impl::monitor(const std::shared_ptr<Process>& self, const Term& target, Atom node) {
    Ref ref = make_ref();
    // `target` is a pid, or a registered name; the DOWN names it as a pid or as {Name, Node}.
    Term item = target.is_pid() ? target : tuple(target, node);
    {
        std::lock_guard lock(self->mutex);
        self->monitors_out.push_back({ref, item, node});
    }
    if (node != name) {
        route(node, dist::MonitorSignal{self->pid, target, ref});
        return ref;
    }
    std::shared_ptr<Process> p = target.is_pid() ? find_local(target.as_pid()) : find_name(target.as_atom());
    if (p)
        p->monitored_by(self->pid, ref, target);
    else
        self->down(ref, item, atoms::noproc);
    return ref;
}

bool Node::Impl::demonitor(const std::shared_ptr<Process>& self, const Ref& ref, bool flush) {
    std::optional<detail::MonitorOut> m;
    {
        std::lock_guard lock(self->mutex);
        auto it = std::find_if(self->monitors_out.begin(), self->monitors_out.end(), [&](const auto& x) { return x.ref == ref; });
        if (it != self->monitors_out.end()) {
            m = *it;
            self->monitors_out.erase(it);
        }
        if (flush) {
            Term r(ref);
            while (self->take([&](const Term& t) { return t.is_tuple(5) && t[0].is_atom(detail::am::DOWN) && t[1] == r; }))
                ;
        }
    }
    if (!m) return false;
    cancel_monitor(self->pid, *m);
    return true;
}

void Node::Impl::node_down(Atom node) {
    std::vector<std::shared_ptr<Process>> all;
    {
        std::lock_guard lock(procs_mutex);
        all.reserve(procs.size());
        for (auto& [id, w] : procs)
            if (auto p = w.lock()) all.push_back(std::move(p));
    }
    {
        std::lock_guard lock(orphans_mutex);
        std::erase_if(orphans, [&](const auto& o) { return o.second.node == node; });
    }
    Term noconnection = atoms::noconnection;
    for (auto& p : all) {
        std::vector<Pid> linked;
        std::vector<detail::MonitorOut> fired;
        std::vector<Ref> lost_spawns;
        std::size_t node_monitors = 0;
        {
            std::lock_guard lock(p->mutex);
            for (auto& l : p->links)
                if (l.peer.node == node && l.unlink_id == 0) linked.push_back(l.peer);
            std::erase_if(p->links, [&](const auto& l) { return l.peer.node == node && l.unlink_id != 0; });
            for (auto& m : p->monitors_out)
                if (m.node == node) fired.push_back(m);
            for (auto& s : p->pending_spawns)
                if (s.node == node) lost_spawns.push_back(s.req);
            std::erase_if(p->monitors_in, [&](const auto& m) { return m.watcher.node == node; });
            node_monitors = static_cast<std::size_t>(std::erase(p->node_monitors, node));
        }
        // Links first, then monitors: BEAM's order (erl <-> erl gives every EXIT before any DOWN).
        for (auto& peer : linked) p->exit_signal(peer, noconnection, true);
        for (auto& req : lost_spawns) p->spawn_replied(req, 0, noconnection);
        for (auto& m : fired) p->down(m.ref, m.target, noconnection);
        for (std::size_t i = 0; i < node_monitors; ++i) p->deliver(tuple(atom("nodedown"), node));
    }
}

// --- Signals that arrived from a peer --------------------------------------------------------

void Node::Impl::deliver_local(const dist::Signal& signal, Atom peer) {
    using namespace dist;
    std::visit(
        [&](const auto& s) {
            using S = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<S, SendSignal>) {
                if (auto p = find_local(s.to)) p->deliver(s.message);
            } else if constexpr (std::is_same_v<S, RegSendSignal>) {
                if (auto p = find_name(s.to)) p->deliver(s.message);
            } else if constexpr (std::is_same_v<S, AliasSendSignal>) {
                if (auto p = find_alias(s.alias)) p->deliver(s.message);
            } else if constexpr (std::is_same_v<S, LinkSignal>) {
                if (auto p = find_local(s.to))
                    p->add_link(s.from);
                else
                    route(peer, ExitSignal{s.to, s.from, atoms::noproc, true});
            } else if constexpr (std::is_same_v<S, UnlinkIdSignal>) {
                if (auto p = find_local(s.to))
                    p->unlink_received(s.from, s.id);
                else
                    route(peer, UnlinkIdAckSignal{s.id, s.to, s.from});
            } else if constexpr (std::is_same_v<S, UnlinkIdAckSignal>) {
                if (auto p = find_local(s.to)) p->unlink_acked(s.from, s.id);
            } else if constexpr (std::is_same_v<S, ExitSignal>) {
                if (auto p = find_local(s.to)) p->exit_signal(s.from, s.reason, s.via_link);
            } else if constexpr (std::is_same_v<S, MonitorSignal>) {
                std::shared_ptr<Process> p = s.to.is_pid() ? find_local(s.to.as_pid()) : find_name(s.to.as_atom());
                if (p)
                    p->monitored_by(s.from, s.ref, s.to);
                else
                    route(peer, MonitorExitSignal{s.to, s.from, s.ref, atoms::noproc});
            } else if constexpr (std::is_same_v<S, DemonitorSignal>) {
                std::shared_ptr<Process> p = s.to.is_pid() ? find_local(s.to.as_pid()) : find_name(s.to.as_atom());
                if (p) p->demonitored(s.ref);
            } else if constexpr (std::is_same_v<S, MonitorExitSignal>) {
                if (auto w = find_local(s.to)) w->down(s.ref, s.from.is_atom() ? tuple(s.from, peer) : s.from, s.reason);
            } else if constexpr (std::is_same_v<S, GroupLeaderSignal>) {
                if (auto p = find_local(s.to)) {
                    std::lock_guard lock(p->mutex);
                    p->group_leader = s.leader;
                }
            } else if constexpr (std::is_same_v<S, SpawnRequestSignal>) {
                spawn_request(s, peer);
            } else if constexpr (std::is_same_v<S, SpawnReplySignal>) {
                auto p = find_local(s.to);
                if (!p || !p->spawn_replied(s.req_id, s.flags, s.result)) orphan_spawn_replied(s, peer);
            }
        },
        signal);
}

// --- Node::spawn and Self ---------------------------------------------------------------------

Result<Pid> Node::spawn(ProcessBody body, SpawnOptions opts) {
    Atom reg;
    if (!opts.register_name.empty()) {
        try {
            reg = Atom(opts.register_name);
        } catch (const Error& e) {
            return e;
        }
    }
    auto p = impl_->new_process(reg, true, [&](Process& c) {
        c.trapping = opts.trap_exit;
        if (opts.group_leader) c.group_leader = *opts.group_leader;
    });
    if (!p) return p.error();
    Pid pid = (*p)->pid;
    detail::start_body(*p, std::move(body));
    return pid;
}

std::size_t Node::process_count() const {
    std::lock_guard lock(impl_->procs_mutex);
    return impl_->procs.size();
}

namespace {
std::shared_ptr<Process> shared(Process* p) { return p->shared_from_this(); }
} // namespace

Pid Self::pid() const noexcept { return p_->pid; }
Node& Self::node() const noexcept { return p_->node; }
void Self::send(const Pid& to, Term message) const {
    Process& me = *p_;
    Node::Impl& im = me.node.impl();
    if (to.node != im.name || !me.coroutine) { // a Mailbox's Self may be used from several threads
        im.send(to, std::move(message), me.pid, p_);
        return;
    }
    if (!me.last_to || !(me.last_to->pid == to)) { // a process's pid never changes
        me.last_to = im.find_local(to);
        if (!me.last_to) return;
    }
    if (!me.last_to->deliver(std::move(message))) me.last_to.reset(); // exited: let it go
}
void Self::send(Atom name, Atom node, Term message) const {
    p_->node.impl().send(name, node, std::move(message), p_->pid, p_);
}
void Self::send(Atom name, Term message) const {
    // Name ! Msg in Erlang: badarg when nothing is registered under the name.
    if (!p_->node.send(name, std::move(message)))
        throw Error(atoms::badarg, "send to '" + std::string(name.name()) + "': no process is registered under that name");
}
void Self::send(const Ref& alias, Term message) const {
    Node::Impl& im = p_->node.impl();
    if (alias.node == im.name) {
        if (auto p = im.find_alias(alias)) p->deliver(std::move(message));
        return;
    }
    im.route(alias.node, dist::AliasSendSignal{p_->pid, alias, std::move(message)}, false, p_);
}
void Self::link(const Pid& other) const { p_->node.impl().link(shared(p_), other); }
void Self::unlink(const Pid& other) const { p_->node.impl().unlink(shared(p_), other); }
Ref Self::monitor(const Pid& target) const { return p_->node.impl().monitor(shared(p_), target, target.node); }
Ref Self::monitor(Atom name, Atom node) const { return p_->node.impl().monitor(shared(p_), name, node); }
bool Self::demonitor(const Ref& ref, bool flush) const { return p_->node.impl().demonitor(shared(p_), ref, flush); }
void Self::monitor_node(Atom node, bool on) const { p_->node.impl().monitor_node(shared(p_), node, on); }
void Self::monitor_nodes(bool on) const { p_->node.impl().set_node_monitor(shared(p_), on); }
void Self::trap_exit(bool on) const {
    std::lock_guard lock(p_->mutex);
    p_->trapping = on;
}
bool Self::trap_exit() const {
    std::lock_guard lock(p_->mutex);
    return p_->trapping;
}
void Self::set_exit_reason(Term reason) const { p_->return_reason = std::move(reason); }
void Self::exit(const Pid& target, Term reason) const {
    if (target == p_->pid) {
        p_->exit_signal(p_->pid, reason, false);
        return;
    }
    p_->node.impl().send_exit(p_->pid, target, reason, false);
}
Pid Self::group_leader() const {
    std::lock_guard lock(p_->mutex);
    return p_->group_leader;
}
void Self::group_leader(const Pid& leader) const {
    std::lock_guard lock(p_->mutex);
    p_->group_leader = leader;
}
bool Self::register_name(Atom name) const {
    Node::Impl& im = p_->node.impl();
    std::lock_guard lock(im.procs_mutex);
    std::lock_guard me(p_->mutex);
    if (p_->registered != Atom() || p_->exited) return false;
    auto it = im.names.find(name.index());
    if (it != im.names.end()) {
        auto holder = im.procs.find(it->second);
        if (holder != im.procs.end() && !holder->second.expired()) return false;
    }
    im.names[name.index()] = p_->pid.id;
    p_->registered = name;
    return true;
}

bool Self::unregister() const {
    Node::Impl& im = p_->node.impl();
    std::lock_guard lock(im.procs_mutex);
    std::lock_guard me(p_->mutex);
    if (p_->registered == Atom()) return false;
    auto it = im.names.find(p_->registered.index());
    if (it != im.names.end() && it->second == p_->pid.id) im.names.erase(it);
    p_->registered = Atom();
    return true;
}

Ref Self::make_alias() const {
    Ref r = p_->node.impl().make_ref();
    p_->node.impl().add_alias(r, p_->pid.id);
    return r;
}
bool Self::unalias(const Ref& alias) const { return p_->node.impl().remove_alias(alias); }
Ref Self::make_ref() const { return p_->node.impl().make_ref(); }

Task<Result<Spawned>> Self::spawn_request(Atom node, Atom module, Atom function, Term args, SpawnOptions opts) const {
    Node::Impl& im = p_->node.impl();
    if (node == im.name) {
        // A local spawn_request of an exported function: same semantics, no wire.
        co_return spawn([module, function, args](Self self) -> Task<> {
            CallOutcome out = co_await apply_export(self, module, function, args);
            if (!out.ok) self.set_exit_reason(exit_reason_of(out));
        }, opts);
    }
    if (!args.is_proper_list()) co_return Error(atoms::badarg, "spawn_request: arguments must be a proper list");
    Ref req = im.send_spawn_request(shared(p_), node, module, function, args, opts, false);
    Term r(req);
    auto reply = co_await receive([&](const Term& t) { return t.is_tuple(4) && t[0].is_atom(detail::am::spawn_reply) && t[1] == r; });
    const Term& result = (*reply)[3];
    if (!result.is_pid()) co_return Error(result.is_atom() ? result.as_atom() : atoms::badarg,
                                          "spawn_request on " + std::string(node.name()) + " failed: " + to_string(result));
    Spawned out{result.as_pid(), std::nullopt};
    if (opts.monitor) out.monitor = req;
    co_return out;
}

Ref Node::Impl::send_spawn_request(const std::shared_ptr<Process>& self, Atom node, Atom module, Atom function,
                                   const Term& args, const SpawnOptions& opts, bool error_only) {
    Ref req = make_ref();
    Term o = opts.link && opts.monitor ? list(detail::am::link, detail::am::monitor)
             : opts.link              ? list(detail::am::link)
             : opts.monitor           ? list(detail::am::monitor)
                                      : Term();
    Pid gl;
    {
        std::lock_guard lock(self->mutex);
        self->pending_spawns.push_back({req, node, error_only, opts.link});
        if (opts.monitor) self->monitors_out.push_back({req, Term(), node}); // the pid comes with the reply
        gl = opts.group_leader ? *opts.group_leader : self->group_leader;
    }
    route(node, dist::SpawnRequestSignal{req, self->pid, gl, module, function,
                                         static_cast<std::uint32_t>(args.as_list().size()), std::move(o), args});
    return req;
}

void Node::Impl::abandon_spawn_request(const std::shared_ptr<Process>& self, const Ref& req) {
    std::vector<detail::PendingSpawn> abandoned;
    {
        std::lock_guard lock(self->mutex);
        std::erase_if(self->pending_spawns, [&](const detail::PendingSpawn& s) {
            if (s.req == req && s.link) abandoned.push_back(s);
            return s.req == req;
        });
    }
    for (const auto& s : abandoned) orphan_spawn(s, atom("abandoned"));
}

void Node::Impl::orphan_spawn(const detail::PendingSpawn& s, const Term& reason) {
    std::lock_guard lock(orphans_mutex);
    orphans.insert_or_assign(Term(s.req), Orphan{s.node, reason});
}

void Node::Impl::orphan_spawn_replied(const dist::SpawnReplySignal& s, Atom peer) {
    Term reason;
    {
        std::lock_guard lock(orphans_mutex);
        auto it = orphans.find(Term(s.req_id));
        if (it == orphans.end()) return;
        reason = std::move(it->second.reason);
        orphans.erase(it);
    }
    if (s.result.is_pid() && (s.flags & 1)) route(peer, dist::ExitSignal{s.to, s.result.as_pid(), reason, true});
}

Spawned Self::spawn(ProcessBody body, SpawnOptions opts) const {
    Node::Impl& im = p_->node.impl();
    Atom reg;
    if (!opts.register_name.empty()) reg = Atom(opts.register_name);
    const Pid leader = opts.group_leader ? *opts.group_leader : group_leader();
    std::optional<Ref> monitor;
    if (opts.monitor) monitor = im.make_ref();
    // The parent's half of the link and monitor is set up with the child's, before anything
    // can signal the child (procs_mutex, then a process's mutex, as register_name takes them).
    auto child = im.new_process(reg, true, [&](Process& c) {
        c.trapping = opts.trap_exit;
        c.group_leader = leader;
        std::lock_guard a(p_->mutex);
        if (opts.link) {
            p_->links.push_back({c.pid, 0});
            c.links.push_back({p_->pid, 0});
        }
        if (monitor) {
            p_->monitors_out.push_back({*monitor, Term(c.pid), im.name});
            c.monitors_in.push_back({p_->pid, *monitor, Term(c.pid)});
        }
    });
    if (!child) throw child.error();
    Spawned out{(*child)->pid, monitor};
    detail::start_body(*child, std::move(body));
    return out;
}

} // namespace edist
