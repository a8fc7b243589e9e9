// erpc's server half. erpc:call(N, M, F, A) spawns erpc:execute_call(Ref, M, F, A) on node N
// and reads the result from the spawned process's exit reason, so a node that serves erpc
// exports these two functions with OTP's exit-reason shapes.
#include "services/system.hpp"

namespace edist::services {

namespace {

const Atom a_return("return"), a_throw("throw"), a_exit("exit");

Term call_exit_reason(const Term& ref, const CallOutcome& out) {
    if (out.ok) return tuple(ref, a_return, out.value);
    switch (out.cls) {
    case ErlangClass::throw_: return tuple(ref, a_throw, out.value);
    case ErlangClass::exit: return tuple(ref, a_exit, out.value);
    case ErlangClass::error: return tuple(ref, atoms::error, out.value, out.stacktrace);
    }
    return out.value;
}

// These fail as OTP's do (execute_call always ends with an exit), but return the failure as an
// outcome instead of throwing it: an erpc call that succeeds unwinds no exception on this node.
// Bad arguments (an improper list passes erpc's client-side is_list check) fail in apply, as
// on BEAM: error:badarg with erlang:apply's stack, not {erpc, badarg}.
Task<CallOutcome> execute_call(Self self, Args a) {
    CallOutcome out = co_await apply_export(self, a[1], a[2], a[3]);
    co_return CallOutcome::raised(ErlangClass::exit, call_exit_reason(a[0], out));
}

Task<CallOutcome> execute_cast(Self self, Args a) {
    CallOutcome out = co_await apply_export(self, a[0], a[1], a[2]);
    if (!out.ok && out.cls == ErlangClass::error)
        co_return CallOutcome::raised(ErlangClass::error, tuple(atom("exception"), tuple(out.value, out.stacktrace)));
    if (!out.ok && out.cls == ErlangClass::exit) co_return CallOutcome::raised(ErlangClass::exit, out.value);
    co_return CallOutcome::returned(atoms::ok);
}

} // namespace

void export_erpc(Node& node) {
    node.export_function("erpc", "execute_call", 4, execute_call);
    node.export_function("erpc", "execute_cast", 3, execute_cast);
}

} // namespace edist::services
