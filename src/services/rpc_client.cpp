// erpc and rpc from C++: the client halves of what erpc.erl and rpc.erl do.
#include "services/blocking.hpp"
#include "services/system.hpp"

#include <edist/rpc.hpp>
#include <edist/text.hpp>

#include <functional>
#include <unordered_map>

namespace edist {

namespace {

namespace am = detail::am;
const Atom a_erpc("erpc"), a_execute_call("execute_call"), a_return("return"), a_throw("throw"), a_exit("exit"),
    a_notsup("notsup");

CallOutcome transport_error(Atom reason) {
    return CallOutcome{false, ErlangClass::error, tuple(a_erpc, reason), Term()};
}

bool is_down_for(const Term& t, const Term& ref) {
    return t.is_tuple(5) && t[0].is_atom(am::DOWN) && t[1] == ref;
}

// The DOWN reason of an erpc:execute_call process, read as erpc:call reads it.
CallOutcome outcome_of(const Term& res, const Term& reason) {
    if (reason.is_tuple() && reason.tuple_size() >= 3 && reason[0] == res) {
        const Term& kind = reason[1];
        if (kind.is_atom(a_return)) return CallOutcome::returned(reason[2]);
        if (kind.is_atom(a_throw)) return {false, ErlangClass::throw_, reason[2], Term()};
        if (kind.is_atom(a_exit)) return {false, ErlangClass::exit, reason[2], Term()};
        if (kind.is_atom(atoms::error))
            return {false, ErlangClass::error, reason[2], reason.tuple_size() == 4 ? reason[3] : Term()};
    }
    if (reason.is_atom(atoms::noconnection)) return transport_error(atoms::noconnection);
    // Anything else killed the process before it could answer: exit({signal, Reason}).
    return {false, ErlangClass::exit, tuple(atom("signal"), reason), Term()};
}

// rpc's fallback for peers without erpc: a gen_server call to their rex.
Task<Term> rex_call(Self self, Atom node, Atom module, Atom function, Term args, CallOptions opts) {
    Ref mref = self.monitor(atom("rex"), node);
    Term tag(mref);
    Pid gl = opts.group_leader ? *opts.group_leader : self.group_leader();
    self.send(atom("rex"), node,
              tuple(atom("$gen_call"), tuple(self.pid(), tag), tuple(atom("call"), module, function, args, gl)));
    auto reply = co_await self.receive(
        [&](const Term& t) { return (t.is_tuple(2) && t[0] == tag) || is_down_for(t, tag); }, opts.timeout);
    self.demonitor(mref, true);
    if (!reply) co_return tuple(atoms::badrpc, atoms::timeout);
    if (reply->tuple_size() == 2) co_return (*reply)[1];
    const Term& why = (*reply)[4];
    co_return tuple(atoms::badrpc, why.is_atom(atoms::noconnection) ? Term(atom("nodedown")) : tuple(atom("EXIT"), why));
}

// The spawn failed: how erpc names the reason.
CallOutcome spawn_failure(const Term& why) {
    if (why.is_atom(atoms::noconnection)) return transport_error(atoms::noconnection);
    if (why.is_atom(a_notsup)) return transport_error(a_notsup);
    return transport_error(atoms::badarg);
}

using PerNode = std::function<Task<CallOutcome>(Self, Atom)>;
Task<std::vector<CallOutcome>> call_each(Self self, std::vector<Atom> nodes, PerNode one);

} // namespace

namespace erpc {

// As erpc:call does: spawn_request erpc:execute_call with a monitor and {reply, error_only}, so
// a call that works wakes the caller once, for the DOWN that carries the result.
Task<CallOutcome> call(Self self, Atom node, Atom module, Atom function, Term args, CallOptions opts) {
    if (!args.is_proper_list()) co_return transport_error(atoms::badarg);
    Term res(self.make_ref());
    SpawnOptions so;
    so.monitor = true;
    so.group_leader = opts.group_leader;
    Term call_args = list(res, module, function, args);
    Node::Impl& im = self.node().impl();
    if (node == im.name) { // this node: no wire, and no error_only reply to ask for
        auto spawned = co_await self.spawn_request(node, a_erpc, a_execute_call, call_args, so);
        if (!spawned) co_return spawn_failure(spawned.error().reason());
        Term mref(*spawned->monitor);
        auto down = co_await self.receive([&](const Term& t) { return is_down_for(t, mref); }, opts.timeout);
        if (!down) {
            self.demonitor(*spawned->monitor, true);
            co_return transport_error(atoms::timeout);
        }
        co_return outcome_of(res, (*down)[4]);
    }
    auto me = self.core()->shared_from_this();
    Ref req = im.send_spawn_request(me, node, a_erpc, a_execute_call, call_args, so, true);
    Term r(req);
    auto got = co_await self.receive(
        [&](const Term& t) {
            return (t.is_tuple(5) && t[0].is_atom(am::DOWN) && t[1] == r) ||
                   (t.is_tuple(4) && t[0].is_atom(am::spawn_reply) && t[1] == r);
        },
        opts.timeout);
    if (!got) {
        im.abandon_spawn_request(me, req);
        self.demonitor(req, true);
        co_return transport_error(atoms::timeout);
    }
    if (got->tuple_size() == 4) co_return spawn_failure((*got)[3]);
    co_return outcome_of(res, (*got)[4]);
}

CallOutcome call(Node& local, Atom node, Atom module, Atom function, Term args, CallOptions opts) {
    return services::run_blocking<CallOutcome>(local, [=](Self self) { return call(self, node, module, function, args, opts); });
}

void cast(Node& local, Atom node, Atom module, Atom function, Term args) {
    (void)local.spawn([=](Self self) -> Task<> {
        (void)co_await self.spawn_request(node, atom("erpc"), atom("execute_cast"), list(module, function, args));
    });
}

std::vector<CallOutcome> multicall(Node& local, const std::vector<Atom>& nodes, Atom module, Atom function, Term args,
                                   CallOptions opts) {
    return services::run_blocking<std::vector<CallOutcome>>(
        local, [=](Self self) { return multicall(self, nodes, module, function, args, opts); });
}

Task<std::vector<CallOutcome>> multicall(Self self, std::vector<Atom> nodes, Atom module, Atom function, Term args,
                                         CallOptions opts) {
    // Not a temporary in the co_await expression: GCC 12 destroys those twice.
    PerNode one = [=](Self c, Atom node) { return call(c, node, module, function, args, opts); };
    Task<std::vector<CallOutcome>> all = call_each(self, std::move(nodes), std::move(one));
    co_return co_await all;
}

} // namespace erpc

namespace {

// One process per node, each making its call, so the calls run at once on the node's threads
// (no thread of their own); each reports to the caller, which monitors them all.
Task<std::vector<CallOutcome>> call_each(Self self, std::vector<Atom> nodes, PerNode one) {
    const Term tag(self.make_ref());
    const Pid caller = self.pid();
    std::vector<std::optional<CallOutcome>> got(nodes.size());
    std::vector<Ref> monitors;                       // by index
    std::unordered_map<Term, std::size_t> children; // monitor ref -> index, while unanswered
    SpawnOptions so;
    so.monitor = true;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        Spawned child = self.spawn(
            [one, tag, caller, i, node = nodes[i]](Self c) -> Task<> {
                CallOutcome o = co_await one(c, node);
                c.send(caller, tuple(tag, i, Term(o.ok), static_cast<int>(o.cls), std::move(o.value),
                                     std::move(o.stacktrace)));
            },
            so);
        monitors.push_back(*child.monitor);
        children.emplace(Term(*child.monitor), i);
    }
    for (std::size_t left = nodes.size(); left > 0; --left) {
        auto m = co_await self.receive([&](const Term& t) {
            return (t.is_tuple(6) && t[0] == tag) || (t.is_tuple(5) && t[0].is_atom(am::DOWN) && children.contains(t[1]));
        });
        if (!m) break; // the caller is ending
        if (m->tuple_size() == 6) {
            const std::size_t i = (*m)[1].as<std::size_t>();
            got[i] = CallOutcome{(*m)[2].as_bool(), static_cast<ErlangClass>((*m)[3].as<int>()), (*m)[4], (*m)[5]};
            self.demonitor(monitors[i], true); // its DOWN is of no interest now
            children.erase(Term(monitors[i]));
        } else { // a child that died before reporting (killed): what erpc says of such a call
            auto it = children.find((*m)[1]);
            got[it->second] = CallOutcome{false, ErlangClass::exit, tuple(atom("signal"), (*m)[4]), Term()};
            children.erase(it);
        }
    }
    std::vector<CallOutcome> out;
    out.reserve(got.size());
    for (auto& g : got) out.push_back(g ? std::move(*g) : transport_error(atoms::timeout));
    co_return out;
}

} // namespace

namespace rpc {

Term rpcify(const CallOutcome& out) {
    if (out.ok) return out.value;
    switch (out.cls) {
    case ErlangClass::throw_:
        if (out.value.is_tuple(2) && out.value[0].is_atom(atom("EXIT"))) return tuple(atoms::badrpc, out.value);
        return out.value;
    case ErlangClass::exit:
        // The process died before answering: erpc says exit:{signal, R}, rpc says {'EXIT', R}.
        if (out.value.is_tuple(2) && out.value[0].is_atom(atom("signal")))
            return tuple(atoms::badrpc, tuple(atom("EXIT"), out.value[1]));
        return tuple(atoms::badrpc, tuple(atom("EXIT"), out.value));
    case ErlangClass::error:
        if (out.value.is_tuple(2) && out.value[0].is_atom(atom("erpc"))) {
            const Term& why = out.value[1];
            if (why.is_atom(atoms::noconnection)) return tuple(atoms::badrpc, atom("nodedown"));
            if (why.is_atom(atoms::timeout) || why.is_atom(atom("notsup"))) return tuple(atoms::badrpc, why);
            return tuple(atoms::badrpc, tuple(atom("EXIT"), why));
        }
        return tuple(atoms::badrpc, tuple(atom("EXIT"), tuple(out.value, out.stacktrace)));
    }
    return out.value;
}

Task<Term> call(Self self, Atom node, Atom module, Atom function, Term args, CallOptions opts) {
    CallOutcome out = co_await erpc::call(self, node, module, function, args, opts);
    if (!out.ok && out.value == tuple(atom("erpc"), atom("notsup")))
        co_return co_await rex_call(self, node, module, function, args, opts);
    co_return rpcify(out);
}

Term call(Node& local, Atom node, Atom module, Atom function, Term args, CallOptions opts) {
    return services::run_blocking<Term>(local, [=](Self self) { return call(self, node, module, function, args, opts); });
}

void cast(Node& local, Atom node, Atom module, Atom function, Term args) { erpc::cast(local, node, module, function, args); }

Task<Term> multicall(Self self, std::vector<Atom> nodes, Atom module, Atom function, Term args, CallOptions opts) {
    // As rpc:call per node: erpc, and rex for a peer without it.
    PerNode one = [=](Self c, Atom node) -> Task<CallOutcome> {
        CallOutcome out = co_await erpc::call(c, node, module, function, args, opts);
        if (out.ok || out.value != tuple(a_erpc, a_notsup)) co_return out;
        Term t = co_await rex_call(c, node, module, function, args, opts);
        if (t == tuple(atoms::badrpc, atom("nodedown"))) co_return transport_error(atoms::noconnection);
        if (t == tuple(atoms::badrpc, atoms::timeout)) co_return transport_error(atoms::timeout);
        co_return CallOutcome::returned(t);
    };
    Task<std::vector<CallOutcome>> all = call_each(self, nodes, std::move(one));
    std::vector<CallOutcome> outs = co_await all;
    std::vector<Term> results, bad;
    // As OTP's rpc:multicall: a node that could not be reached or did not answer in time is a
    // bad node, not a result.
    const Term timed_out = tuple(a_erpc, atoms::timeout), unreachable = tuple(a_erpc, atoms::noconnection);
    for (std::size_t i = 0; i < outs.size(); ++i) {
        const CallOutcome& o = outs[i];
        if (!o.ok && o.cls == ErlangClass::error && (o.value == timed_out || o.value == unreachable))
            bad.push_back(nodes[i]);
        else
            results.push_back(rpcify(o));
    }
    co_return tuple(list_from(std::move(results)), list_from(std::move(bad)));
}

Term multicall(Node& local, const std::vector<Atom>& nodes, Atom module, Atom function, Term args, CallOptions opts) {
    return services::run_blocking<Term>(local,
                                        [=](Self self) { return multicall(self, nodes, module, function, args, opts); });
}

} // namespace rpc
} // namespace edist
