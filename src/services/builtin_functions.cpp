// The few erlang and net_kernel functions every C++ node answers, so that what Erlang code
// calls on any node to ask about it (rpc:call(N, erlang, node, []) as a health check,
// nodes/1, whereis, apply) works on a C++ node too. Anything else in those modules is undef,
// as an unknown function is.
#include "services/system.hpp"

#include <edist/exports.hpp>

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
    // In whole seconds, as net_kernel reports it. The tick time is fixed when the node starts, so
    // set_net_ticktime stays undef rather than claim a change it would not make.
    node.export_function("net_kernel", "get_net_ticktime", [](Self self) {
        return std::chrono::duration_cast<std::chrono::seconds>(self.node().options().net_ticktime).count();
    });
}

} // namespace edist::services
