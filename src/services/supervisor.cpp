// The supervisor: a gen_server that traps exits, starts its children in order, restarts them by
// strategy and restart type within the restart intensity, and stops them in reverse order.
#include "node/deadline.hpp"
#include "node/node_impl.hpp"
#include "services/gen_internal.hpp"

#include <algorithm>
#include <edist/supervisor.hpp>
#include <edist/text.hpp>

#include <deque>

namespace edist::supervisor {

using gen_server::detail::is_down_for;
using gen_server::detail::is_tagged;
using Clock = std::chrono::steady_clock;

namespace {

Term not_found() { return tuple(atoms::error, atom("not_found")); }
// What OTP answers calls that name a simple_one_for_one child other than by its pid.
Term simple_one_for_one() { return tuple(atoms::error, atom("simple_one_for_one")); }

bool normal_exit(const Term& r) {
    return r.is_atom(atoms::normal) || r.is_atom(atom("shutdown")) || is_tagged(r, "shutdown", 2);
}

std::chrono::milliseconds shutdown_of(const ChildSpec& spec) {
    if (spec.shutdown) return *spec.shutdown;
    return spec.type == ChildType::supervisor ? infinity : std::chrono::milliseconds(5000);
}

Task<StartResult> start_remote(Self sup, Atom node, Atom module, Atom function, Term args, Term extra) {
    std::vector<Term> all(args.as_list().begin(), args.as_list().end());
    if (extra.is_list())
        for (const Term& t : extra.as_list()) all.push_back(t);
    SpawnOptions o;
    o.link = true;
    auto r = co_await sup.spawn_request(node, module, function, list_from(std::move(all)), o);
    if (!r) co_return StartResult::error(r.error().reason());
    co_return StartResult::started(r->pid);
}

// remote()'s start function: a type of its own, so the supervisor can tell its MFA and module.
struct RemoteStart {
    Atom node, module, function;
    Term args;
    Task<StartResult> operator()(Self sup, Term extra) const {
        return start_remote(sup, node, module, function, args, std::move(extra));
    }
};

// ChildSpec::modules, or its default: the start module of a remote child, none for C++ code.
Term modules_of(const ChildSpec& spec) {
    if (spec.modules) return *spec.modules;
    if (const auto* r = spec.start.target<RemoteStart>()) return list(r->module);
    return list();
}

// The spec as supervisor:get_childspec/2 gives it.
Term spec_map(const ChildSpec& spec) {
    static constexpr const char* restarts[] = {"permanent", "transient", "temporary"};
    Term start = atoms::undefined;
    if (const auto* r = spec.start.target<RemoteStart>()) start = tuple(r->module, r->function, r->args);
    const auto ms = shutdown_of(spec);
    Term shutdown = ms == brutal_kill ? Term(atom("brutal_kill"))
                    : ms == infinity  ? Term(atom("infinity"))
                                      : Term(static_cast<std::int64_t>(ms.count()));
    return map({{atom("id"), spec.id},
                {atom("start"), start},
                {atom("restart"), atom(restarts[static_cast<int>(spec.restart)])},
                {atom("significant"), false},
                {atom("shutdown"), shutdown},
                {atom("type"), atom(spec.type == ChildType::worker ? "worker" : "supervisor")},
                {atom("modules"), modules_of(spec)}});
}

struct Child {
    std::uint64_t key = 0; // names the child in try_again_restart casts, whatever its id
    ChildSpec spec;
    Term args;              // simple_one_for_one: the extra arguments it was started with
    std::optional<Pid> pid; // running
    bool restarting = false; // a restart failed; another attempt is queued

    std::chrono::milliseconds shutdown() const { return shutdown_of(spec); }
};

class Supervisor : public gen_server::Server {
public:
    Supervisor(Flags flags, std::vector<ChildSpec> specs) : flags_(flags) {
        if (simple()) {
            if (!specs.empty()) template_ = std::move(specs.front());
            return;
        }
        for (auto& s : specs) children_.push_back(Child{++next_key_, std::move(s), Term(), std::nullopt, false});
    }

    Task<Init> init() override {
        self().trap_exit(true);
        if (simple() && !template_) co_return Init::stop(tuple(atom("bad_start_spec"), atom("simple_one_for_one")));
        for (auto& c : children_) {
            StartResult r = co_await start_one(c);
            if (!r.ok() && !r.ignored()) {
                co_await stop_all();
                co_return Init::stop(tuple(atom("shutdown"), tuple(atom("failed_to_start_child"), c.spec.id, r.reason())));
            }
        }
        co_return Init::ok();
    }

    Task<Next> handle_info(Term msg) override {
        if (!is_tagged(msg, "EXIT", 3) || !msg[1].is_pid()) co_return noreply();
        const Pid from = msg[1].as_pid();
        auto it = std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.pid == from; });
        if (it == children_.end()) co_return noreply(); // not (or no longer) one of ours
        co_return co_await child_exited(*it, msg[2]);
    }

    Task<Next> handle_cast(Term msg) override {
        if (is_tagged(msg, "try_again_restart", 2) && msg[1].is_integer()) {
            auto key = msg[1].as<std::uint64_t>();
            auto it = std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.key == key; });
            if (it != children_.end() && it->restarting) co_return co_await restart(*it);
        }
        co_return noreply();
    }

    Task<Next> handle_call(Term req, From) override {
        if (req.is_atom(atom("which_children"))) co_return reply(which_children());
        if (req.is_atom(atom("count_children"))) co_return reply(count_children());
        if (is_tagged(req, "start_child", 2)) co_return reply(co_await start_child(req[1]));
        if (is_tagged(req, "terminate_child", 2)) co_return reply(co_await terminate_child(req[1]));
        if (is_tagged(req, "restart_child", 2)) co_return reply(co_await restart_child(req[1]));
        if (is_tagged(req, "delete_child", 2)) co_return reply(delete_child(req[1]));
        if (is_tagged(req, "get_childspec", 2)) co_return reply(get_childspec(req[1]));
        co_return reply(tuple(atoms::error, tuple(atom("unknown_call"), req)));
    }

    Task<> terminate(Term) override { co_await stop_all(); }

    Term state() const override {
        static constexpr const char* names[] = {"one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"};
        return map({{atom("strategy"), atom(names[static_cast<int>(flags_.strategy)])},
                    {atom("intensity"), flags_.intensity},
                    {atom("period"), static_cast<std::int64_t>(flags_.period.count() / 1000)},
                    {atom("children"), which_children()}});
    }

private:
    bool simple() const { return flags_.strategy == Strategy::simple_one_for_one; }

    Task<StartResult> start_one(Child& c) {
        StartResult r = StartResult::error(atom("no_start_function"));
        if (c.spec.start) {
            std::optional<Term> crashed;
            try {
                r = co_await c.spec.start(self(), c.args);
            } catch (const std::exception&) {
                crashed = gen_server::detail::exception_reason(std::current_exception());
            }
            if (crashed) r = StartResult::error(*crashed);
        }
        c.restarting = false;
        c.pid = r.ok() ? std::optional<Pid>(r.pid()) : std::nullopt;
        co_return r;
    }

    // Stops one child as its shutdown says and waits until it is gone.
    Task<> stop_one(Child& c) {
        if (!c.pid) co_return;
        const Pid pid = *c.pid;
        c.pid.reset();
        Ref mref = self().monitor(pid);
        // The monitor now reports the exit; the link must not also deliver an 'EXIT'.
        self().unlink(pid);
        const Term pid_t(pid);
        auto early = co_await self().receive([&](const Term& t) { return is_tagged(t, "EXIT", 3) && t[1] == pid_t; },
                                             std::chrono::milliseconds(0));
        const Term mref_t(mref);
        auto down = [&](const Term& t) { return is_down_for(t, mref_t); };
        if (early) {
            (void)co_await self().receive(down); // already dead: its DOWN is on its way
            co_return;
        }
        const auto timeout = c.shutdown();
        if (timeout == brutal_kill) {
            self().exit(pid, atoms::kill);
            (void)co_await self().receive(down);
            co_return;
        }
        self().exit(pid, atom("shutdown"));
        if (co_await self().receive(down, timeout)) co_return;
        self().exit(pid, atoms::kill);
        (void)co_await self().receive(down);
    }

    Task<> stop_all() {
        if (simple()) {
            co_await stop_together();
            co_return;
        }
        for (auto it = children_.rbegin(); it != children_.rend(); ++it) co_await stop_one(*it);
    }

    // simple_one_for_one, as OTP: every child gets its exit signal at once, then they share one
    // shutdown time (the template's) before the ones still alive are killed; N children take at
    // most one shutdown time, not N.
    Task<> stop_together() {
        const auto timeout = template_ ? shutdown_of(*template_) : std::chrono::milliseconds(5000);
        std::vector<std::pair<Term, Pid>> pending; // monitor ref, child
        for (auto& c : children_) {
            if (!c.pid) continue;
            const Pid pid = *c.pid;
            c.pid.reset();
            pending.emplace_back(Term(self().monitor(pid)), pid);
            self().unlink(pid); // the monitors report the exits (a child already dead: noproc)
        }
        for (const auto& [mref, pid] : pending) self().exit(pid, timeout == brutal_kill ? atoms::kill : atom("shutdown"));
        auto down = [&](const Term& t) {
            return is_tagged(t, "DOWN", 5) &&
                   std::any_of(pending.begin(), pending.end(), [&](const auto& p) { return p.first == t[1]; });
        };
        bool killed = timeout == brutal_kill;
        const auto deadline = detail::deadline_after(killed ? infinity : timeout);
        while (!pending.empty()) {
            auto m = co_await self().receive(down, killed ? infinity : detail::time_left(deadline));
            if (!m) { // the shutdown time is over
                for (const auto& [mref, pid] : pending) self().exit(pid, atoms::kill);
                killed = true;
                continue;
            }
            std::erase_if(pending, [&](const auto& p) { return p.first == (*m)[1]; });
        }
    }

    // Records a restart; false when that makes more than `intensity` within `period`.
    bool add_restart() {
        auto now = Clock::now();
        restarts_.push_back(now);
        while (!restarts_.empty() && now - restarts_.front() > flags_.period) restarts_.pop_front();
        return static_cast<int>(restarts_.size()) <= flags_.intensity;
    }

    Task<Next> child_exited(Child& c, Term reason) {
        c.pid.reset();
        bool restart_it = c.spec.restart == Restart::permanent ||
                          (c.spec.restart == Restart::transient && !normal_exit(reason));
        if (!normal_exit(reason))
            self().node().impl().log(LogLevel::error, "supervisor " + to_string(Term(self().pid())) + ": child " +
                                                          to_string(c.spec.id) + " exited with " + to_string(reason));
        if (!restart_it) {
            if (simple() || c.spec.restart == Restart::temporary) erase(c.key);
            co_return noreply();
        }
        co_return co_await restart(c);
    }

    Task<Next> restart(Child& failed) {
        if (!add_restart()) {
            self().node().impl().log(LogLevel::error, "supervisor " + to_string(Term(self().pid())) +
                                                          ": reached maximum restart intensity, shutting down");
            co_return stop(atom("shutdown"));
        }
        const std::uint64_t key = failed.key;
        // Which children go down and come back with it, in start order.
        std::size_t at = index_of(key);
        std::size_t first = at, last = at + 1;
        if (flags_.strategy == Strategy::one_for_all) first = 0, last = children_.size();
        if (flags_.strategy == Strategy::rest_for_one) last = children_.size();
        for (std::size_t i = last; i-- > first;)
            if (i != at) co_await stop_one(children_[i]);
        for (std::size_t i = first; i < last; ++i) {
            Child& c = children_[i];
            if (c.pid) continue;
            if (i != at && c.spec.restart == Restart::temporary) continue; // stopped, never restarted
            StartResult r = co_await start_one(c);
            if (r.ok() || r.ignored()) continue;
            // Another attempt, counted as a restart, after whatever is already queued.
            c.restarting = true;
            gen_server::cast(self(), self().pid(), tuple(atom("try_again_restart"), c.key));
            break;
        }
        // Temporary children stopped along the way are gone for good.
        std::erase_if(children_, [&](const Child& c) { return !c.pid && !c.restarting && c.key != key &&
                                                              c.spec.restart == Restart::temporary; });
        co_return noreply();
    }

    std::size_t index_of(std::uint64_t key) const {
        for (std::size_t i = 0; i < children_.size(); ++i)
            if (children_[i].key == key) return i;
        return children_.size();
    }
    void erase(std::uint64_t key) {
        std::erase_if(children_, [&](const Child& c) { return c.key == key; });
    }
    Child* find(const Term& id) {
        for (auto& c : children_)
            if (simple() ? (c.pid && Term(*c.pid) == id) : c.spec.id == id) return &c;
        return nullptr;
    }

    Task<Term> start_child(Term arg) {
        if (!simple()) // an Erlang child spec names Erlang code this node cannot run
            co_return tuple(atoms::error, atom("notsup"));
        Child c{++next_key_, *template_, arg.is_list() ? arg : Term(), std::nullopt, false};
        StartResult r = co_await start_one(c);
        if (r.ok()) children_.push_back(std::move(c));
        co_return r.ignored() ? tuple(atoms::ok, atoms::undefined) : r.term();
    }

    Task<Term> terminate_child(Term id) {
        if (simple() && !id.is_pid()) co_return simple_one_for_one();
        Child* c = find(id);
        if (!c) co_return not_found();
        const std::uint64_t key = c->key;
        co_await stop_one(*c);
        // A child waiting for another restart attempt stays down: the queued try_again_restart
        // finds it no longer restarting and does nothing, as OTP's finds its pid undefined.
        c->restarting = false;
        if (simple() || c->spec.restart == Restart::temporary) erase(key);
        co_return Term(atoms::ok);
    }

    Task<Term> restart_child(Term id) {
        if (simple()) co_return simple_one_for_one();
        Child* c = find(id);
        if (!c) co_return not_found();
        if (c->pid) co_return tuple(atoms::error, atom("running"));
        if (c->restarting) co_return tuple(atoms::error, atom("restarting"));
        StartResult r = co_await start_one(*c);
        co_return r.ignored() ? tuple(atoms::ok, atoms::undefined) : r.term();
    }

    Term delete_child(const Term& id) {
        if (simple()) return simple_one_for_one();
        Child* c = find(id);
        if (!c) return not_found();
        if (c->pid) return tuple(atoms::error, atom("running"));
        if (c->restarting) return tuple(atoms::error, atom("restarting"));
        erase(c->key);
        return atoms::ok;
    }

    // For simple_one_for_one, `id` is a child's pid and the spec is the template's.
    Term get_childspec(const Term& id) {
        Child* c = find(id);
        return c ? tuple(atoms::ok, spec_map(c->spec)) : not_found();
    }

    // OTP's order: the newest child first (a restarted one keeps its place); the children of a
    // simple_one_for_one supervisor come from a map keyed by pid, so oldest first.
    Term which_children() const {
        std::vector<Term> out;
        for (const auto& c : children_) {
            Term pid = c.pid ? Term(*c.pid) : Term(c.restarting ? atom("restarting") : atoms::undefined);
            Term type = atom(c.spec.type == ChildType::worker ? "worker" : "supervisor");
            out.push_back(tuple(simple() ? Term(atoms::undefined) : c.spec.id, pid, type, modules_of(c.spec)));
        }
        if (!simple()) std::reverse(out.begin(), out.end());
        return list_from(std::move(out));
    }

    Term count_children() const {
        std::int64_t active = 0, sups = 0, workers = 0;
        for (const auto& c : children_) {
            if (c.pid) ++active;
            (c.spec.type == ChildType::supervisor ? sups : workers)++;
        }
        std::int64_t specs = simple() ? 1 : static_cast<std::int64_t>(children_.size());
        return list(tuple(atom("specs"), specs), tuple(atom("active"), active), tuple(atom("supervisors"), sups),
                    tuple(atom("workers"), workers));
    }

    Flags flags_;
    std::optional<ChildSpec> template_; // simple_one_for_one
    std::vector<Child> children_;       // in start order
    std::deque<Clock::time_point> restarts_;
    std::uint64_t next_key_ = 0;
};

} // namespace

StartFunction worker(ProcessBody body) {
    return [body](Self sup, Term) -> Task<StartResult> {
        SpawnOptions o;
        o.link = true;
        co_return StartResult::started(sup.spawn(body, o).pid);
    };
}

StartFunction server(std::function<std::unique_ptr<gen_server::Server>()> make, std::string name) {
    return [make, name](Self sup, Term) -> Task<StartResult> {
        co_return co_await gen_server::start_link(sup, make(), {.name = name});
    };
}

StartFunction child_supervisor(Flags flags, std::vector<ChildSpec> children, std::string name) {
    return [flags, children, name](Self sup, Term) -> Task<StartResult> {
        co_return co_await start_link(sup, flags, children, {.name = name});
    };
}

StartFunction remote(Atom node, Atom module, Atom function, Term args) {
    return RemoteStart{node, module, function, std::move(args)};
}

Task<StartResult> start_link(Self self, Flags flags, std::vector<ChildSpec> children, StartOptions opts) {
    return gen_server::start_link(self, std::make_unique<Supervisor>(flags, std::move(children)), opts);
}

StartResult start(Node& node, Flags flags, std::vector<ChildSpec> children, StartOptions opts) {
    return gen_server::start(node, std::make_unique<Supervisor>(flags, std::move(children)), opts);
}

Task<CallResult> start_child(Self self, ServerRef sup, Term extra_args) {
    return gen_server::call(self, sup, tuple(atom("start_child"), extra_args), infinity);
}
Task<CallResult> terminate_child(Self self, ServerRef sup, Term id) {
    return gen_server::call(self, sup, tuple(atom("terminate_child"), id), infinity);
}
Task<CallResult> restart_child(Self self, ServerRef sup, Term id) {
    return gen_server::call(self, sup, tuple(atom("restart_child"), id), infinity);
}
Task<CallResult> delete_child(Self self, ServerRef sup, Term id) {
    return gen_server::call(self, sup, tuple(atom("delete_child"), id), infinity);
}
Task<CallResult> get_childspec(Self self, ServerRef sup, Term id) {
    return gen_server::call(self, sup, tuple(atom("get_childspec"), id), infinity);
}
Task<CallResult> which_children(Self self, ServerRef sup) {
    return gen_server::call(self, sup, atom("which_children"), infinity);
}
Task<CallResult> count_children(Self self, ServerRef sup) {
    return gen_server::call(self, sup, atom("count_children"), infinity);
}

} // namespace edist::supervisor
