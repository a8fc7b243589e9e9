// Exported functions and remote spawn: what SPAWN_REQUEST (spawn/4, spawn_request/5, erpc)
// starts on this node.
#include "node/node_impl.hpp"

#include <edist/text.hpp>

namespace edist {

using detail::Process;

void Node::export_function(std::string_view module, std::string_view function, unsigned arity, ExportedFunction fn) {
    std::lock_guard lock(impl_->exports_mutex);
    impl_->exports[{Atom(module).index(), Atom(function).index(), arity}] = std::move(fn);
}

void Node::export_function(std::string_view module, std::string_view function, unsigned arity,
                           ExportedOutcomeFunction fn) {
    std::lock_guard lock(impl_->exports_mutex);
    impl_->exports[{Atom(module).index(), Atom(function).index(), arity}] = std::move(fn);
}

bool Node::unexport_function(std::string_view module, std::string_view function, unsigned arity) {
    std::lock_guard lock(impl_->exports_mutex);
    return impl_->exports.erase({Atom(module).index(), Atom(function).index(), arity}) > 0;
}

std::optional<Node::Impl::Export> Node::Impl::find_export(Atom module, Atom function, unsigned arity) const {
    std::lock_guard lock(exports_mutex);
    auto it = exports.find({module.index(), function.index(), arity});
    if (it == exports.end()) return std::nullopt;
    return it->second;
}

Task<CallOutcome> apply_export(Self self, Atom module, Atom function, Term args) {
    std::vector<Term> argv(args.as_list().begin(), args.as_list().end());
    auto fn = self.node().impl().find_export(module, function, static_cast<unsigned>(argv.size()));
    // The stack OTP reports for a failing call of an exported function: the call itself.
    auto stack = [&] { return list(tuple(module, function, args, Term())); };
    if (!fn) co_return CallOutcome::raised(ErlangClass::error, atom("undef"), stack());
    CallOutcome out;
    try {
        if (auto* f = std::get_if<ExportedOutcomeFunction>(&*fn))
            out = co_await (*f)(self, Args(argv));
        else
            out = CallOutcome::returned(co_await std::get<ExportedFunction>(*fn)(self, Args(argv)));
    } catch (const ErlangException& e) {
        out = CallOutcome::raised(e.cls(), e.reason());
    } catch (const ExitError& e) {
        out = CallOutcome::raised(ErlangClass::exit, e.reason());
    } catch (const Error& e) {
        // A typed-access failure on an argument is the BIF-style badarg an Erlang caller expects.
        out = CallOutcome::raised(ErlangClass::error, e.reason());
    } catch (const std::exception& e) {
        out = CallOutcome::raised(ErlangClass::error, tuple(atom("cpp_exception"), binary(std::string_view(e.what()))));
    }
    // Exit reasons carry no stack (exit_reason_of, erpc): only errors and throws get one.
    if (!out.ok && out.cls != ErlangClass::exit && out.stacktrace == Term()) out.stacktrace = stack();
    co_return out;
}

Task<CallOutcome> apply_export(Self self, const Term& module, const Term& function, const Term& args) {
    if (module.is_atom() && function.is_atom() && args.is_proper_list())
        co_return co_await apply_export(self, module.as_atom(), function.as_atom(), args);
    // BEAM: error:badarg, the stack [{erlang,apply,[M,F,A],[{error_info,#{module=>erl_erts_errors}}]}].
    const Term info = list(tuple(atom("error_info"), map({{atom("module"), atom("erl_erts_errors")}})));
    co_return CallOutcome::raised(ErlangClass::error, atom("badarg"),
                                  list(tuple(atom("erlang"), atom("apply"), list(module, function, args), info)));
}

Term exit_reason_of(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const ExitError& x) {
        return x.reason();
    } catch (const ErlangException& x) {
        switch (x.cls()) {
        case ErlangClass::exit: return x.reason();
        case ErlangClass::error: return tuple(x.reason(), Term());
        case ErlangClass::throw_: return tuple(tuple(atom("nocatch"), x.reason()), Term());
        }
    } catch (const Error& x) {
        return tuple(Term(x.reason()), Term());
    } catch (const std::exception& x) {
        return tuple(atom("cpp_exception"), binary(std::string_view(x.what())));
    } catch (...) {
    }
    return tuple(atom("cpp_exception"), binary("unknown exception"));
}

Term exit_reason_of(const CallOutcome& out) {
    if (out.ok) return atoms::normal;
    switch (out.cls) {
    case ErlangClass::exit: return out.value;
    case ErlangClass::error: return tuple(out.value, out.stacktrace);
    case ErlangClass::throw_: return tuple(tuple(atom("nocatch"), out.value), out.stacktrace);
    }
    return out.value;
}

namespace {

// spawn_opt options a remote spawn may carry. Those that tune BEAM's memory management mean
// nothing here and are accepted and ignored, as the wire allows; anything else is badopt.
bool ignorable_spawn_option(const Term& o) {
    static const Atom tuned[] = {Atom("priority"),      Atom("fullsweep_after"),    Atom("min_heap_size"),
                                 Atom("min_bin_vheap_size"), Atom("max_heap_size"), Atom("message_queue_data"),
                                 Atom("async_dist"),    Atom("sensitive")};
    if (!o.is_tuple(2) || !o[0].is_atom()) return false;
    for (Atom t : tuned)
        if (o[0].is_atom(t)) return true;
    return false;
}

} // namespace

void Node::Impl::spawn_request(const dist::SpawnRequestSignal& s, Atom peer) {
    bool want_link = false, want_monitor = false;
    for (const Term& o : s.options.as_list()) {
        if (o.is_atom(detail::am::link)) {
            want_link = true;
        } else if (o.is_atom(detail::am::monitor) || (o.is_tuple(2) && o[0].is_atom(detail::am::monitor))) {
            want_monitor = true;
        } else if (!ignorable_spawn_option(o)) {
            route(peer, dist::SpawnReplySignal{s.req_id, s.from, 0, atom("badopt")});
            return;
        }
    }
    auto created = new_process(Atom(), true, [&](Process& p) {
        p.group_leader = s.group_leader;
        if (want_link) p.links.push_back({s.from, 0});
        // The requester's monitor ref is the request id.
        if (want_monitor) p.monitors_in.push_back({s.from, s.req_id, Term(p.pid)});
    });
    if (!created) {
        route(peer, dist::SpawnReplySignal{s.req_id, s.from, 0, atoms::system_limit});
        return;
    }
    auto p = *created;
    const std::uint32_t flags = (want_link ? 1u : 0u) | (want_monitor ? 2u : 0u);
    // The reply goes out before anything the new process can send.
    route(peer, dist::SpawnReplySignal{s.req_id, s.from, flags, Term(p->pid)});
    Atom m = s.module, f = s.function;
    Term args = s.args;
    // On a single-threaded node the body runs now, inside the read handler that got the request:
    // nothing else could run meanwhile anyway, and an erpc call that ends at once (most do) then
    // costs no trip through the scheduler; its DOWN leaves in the same write as the reply.
    detail::start_body(p, [m, f, args](Self self) -> Task<> {
        CallOutcome out = co_await apply_export(self, m, f, args);
        if (!out.ok) {
            if (out.cls == ErlangClass::error || out.cls == ErlangClass::throw_)
                self.node().impl().log(LogLevel::info, "process " + to_string(Term(self.pid())) + " running " +
                                                           std::string(m.name()) + ":" + std::string(f.name()) +
                                                           " exited: " + to_string(exit_reason_of(out)));
            self.set_exit_reason(exit_reason_of(out)); // ends the process without a throw
        }
    }, single_threaded());
}

} // namespace edist
