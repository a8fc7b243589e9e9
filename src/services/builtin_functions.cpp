// The few erlang and net_kernel functions every C++ node answers, so that what Erlang code
// calls on any node to ask about it (rpc:call(N, erlang, node, []) as a health check,
// nodes/1, whereis, apply) or to change it cluster-wide (set_net_ticktime) works on a C++
// node too. Anything else in those modules is undef,
// as an unknown function is.
#include "services/system.hpp"

#include <edist/exports.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace edist::services {

namespace {

// erlang:nodes/1 for this node. It is hidden, so every connection it has is a hidden one (as on
// an erl started with -hidden): nodes() is []. As on BEAM, this node comes after its peers
// whatever the order of the types asked for.
std::vector<Atom> nodes_of(Node& node, const std::vector<Atom>& types) {
    static const Atom visible("visible"), hidden("hidden"), connected("connected"), this_("this"), known("known");
    bool peers = false, self = false;
    for (Atom t : types) {
        if (t == hidden || t == connected || t == known) peers = true;
        else if (t != visible && t != this_) raise_error(atoms::badarg);
        if (t == this_ || t == known) self = true;
    }
    std::vector<Atom> out;
    if (peers) out = node.nodes();
    if (self) out.push_back(node.name());
    return out;
}

// Seconds in a whole-second argument that chrono can hold as milliseconds (a billion seconds,
// 31 years, is far past any tick time; BEAM would take more, and nobody asks for it).
std::optional<std::chrono::milliseconds> whole_seconds(const Term& t, std::int64_t min) {
    if (!t.is_int64() || t.as_int64() < min || t.as_int64() > 1'000'000'000) return std::nullopt;
    return std::chrono::seconds(t.as_int64());
}

Term set_net_ticktime(Self self, const Term& t, const Term& transition) {
    const auto ticktime = whole_seconds(t, 1);
    const auto period = whole_seconds(transition, 0);
    if (!ticktime || !period) raise_error(atom("function_clause"));
    auto r = self.node().set_net_ticktime(*ticktime, *period);
    if (!r) raise_error(r.error().reason());
    switch (r->first) {
    case Node::TicktimeChange::unchanged: return atom("unchanged");
    case Node::TicktimeChange::change_initiated: return atom("change_initiated");
    case Node::TicktimeChange::ongoing_change_to: break;
    }
    return tuple(atom("ongoing_change_to"), std::chrono::duration_cast<std::chrono::seconds>(r->second).count());
}

} // namespace

void export_builtin_functions(Node& node) {
    node.export_function("erlang", "node", [](Self self) { return self.node().name(); });
    node.export_function("erlang", "nodes", [](Self self) { return nodes_of(self.node(), {atom("visible")}); });
    node.export_function("erlang", "nodes", [](Self self, Term types) {
        if (types.is_atom()) return nodes_of(self.node(), {types.as_atom()});
        return nodes_of(self.node(), from_term<std::vector<Atom>>(types));
    });
    node.export_function("erlang", "whereis", [](Self self, Atom name) -> Term {
        if (auto p = self.node().whereis(name)) return Term(*p);
        return atom("undefined");
    });
    node.export_function("erlang", "registered", [](Self self) { return self.node().registered(); });
    // As on BEAM, a pid of another node is badarg.
    node.export_function("erlang", "is_process_alive", [](Self self, Pid p) {
        if (!self.node().impl().is_local(p)) raise_error(atoms::badarg);
        return self.node().impl().find_local(p) != nullptr;
    });
    node.export_function("erlang", "apply", [](Self self, Term m, Term f, Term a) -> Task<CallOutcome> {
        co_return co_await apply_export(self, m, f, a);
    });
    // In whole seconds, as net_kernel reports it; {ongoing_change_to, T} during a change.
    node.export_function("net_kernel", "get_net_ticktime", [](Self self) -> Term {
        const auto t = self.node().net_ticktime();
        const Term seconds = std::chrono::duration_cast<std::chrono::seconds>(t.ticktime).count();
        return t.changing ? tuple(atom("ongoing_change_to"), seconds) : seconds;
    });
    // set_net_ticktime(T) and (T, TransitionPeriod), in seconds, 60 s of transition by default:
    // `rpc:multicall(net_kernel, set_net_ticktime, [T])`, OTP's way to change a cluster's tick
    // time, changes this node's too. Arguments outside net_kernel's guards (a positive integer,
    // a non-negative one) are function_clause, as there.
    node.export_function("net_kernel", "set_net_ticktime", [](Self self, Term t) {
        return set_net_ticktime(self, t, Term(60));
    });
    node.export_function("net_kernel", "set_net_ticktime", [](Self self, Term t, Term transition) {
        return set_net_ticktime(self, t, transition);
    });
}

} // namespace edist::services
