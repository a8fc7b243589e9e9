// Exported functions: C++ code that other nodes call as Module:Function/Arity — through
// spawn/4, spawn_request, erpc, rpc and the rex server.
//
//   node->export_function("math", "add", 2, [](Self, Args args) -> Task<Term> {
//       co_return Term(args[0].as_bigint() + args[1].as_bigint());
//   });
//
// A function fails the Erlang way by throwing: raise_error(Reason) (class error, as
// erlang:error/1), raise_throw(Value), raise_exit(Reason) or ExitError. Any other C++ exception
// becomes error:{cpp_exception, <<"what()">>}; a typed-access failure on an argument (an
// edist::Error with reason badarg) becomes error:badarg, as a BIF given a bad argument.
//
// A function that fails often, or whose normal way to end is an exit (as erpc:execute_call's
// is), can instead return its outcome as a value and never throw: unwinding a C++ exception
// costs more than a whole erpc call without one.
//
//   node->export_function("kv", "fetch", 1, [](Self, Args args) -> Task<CallOutcome> {
//       if (auto v = lookup(args[0])) co_return CallOutcome::returned(*v);
//       co_return CallOutcome::raised(ErlangClass::error, atom("not_found"));
//   });
#pragma once

#include <edist/process.hpp>
#include <edist/task.hpp>
#include <edist/term.hpp>

#include <exception>
#include <functional>
#include <span>
#include <string>

namespace edist {

enum class ErlangClass { error, exit, throw_ };

class ErlangException : public std::exception {
public:
    ErlangException(ErlangClass cls, Term reason) : cls_(cls), reason_(std::move(reason)) {}
    ErlangClass cls() const noexcept { return cls_; }
    const Term& reason() const noexcept { return reason_; }
    const char* what() const noexcept override { return "Erlang exception"; }

private:
    ErlangClass cls_;
    Term reason_;
};

[[noreturn]] inline void raise_error(Term reason) { throw ErlangException(ErlangClass::error, std::move(reason)); }
[[noreturn]] inline void raise_throw(Term value) { throw ErlangException(ErlangClass::throw_, std::move(value)); }
[[noreturn]] inline void raise_exit(Term reason) { throw ErlangException(ErlangClass::exit, std::move(reason)); }

// How a call ended: a value, or an exception of a class, with the stack erpc and rpc report.
struct CallOutcome {
    bool ok = true;
    ErlangClass cls = ErlangClass::error;
    Term value;      // the result, or the exception's reason
    Term stacktrace; // for class error: [{Module, Function, Args, []}]

    static CallOutcome returned(Term value) { return {true, ErlangClass::error, std::move(value), Term()}; }
    // erlang:error/exit/throw without throwing. For error and throw, an empty stacktrace is
    // filled in with the call itself when the outcome leaves an exported function, as for a
    // thrown exception.
    static CallOutcome raised(ErlangClass cls, Term reason, Term stacktrace = Term()) {
        return {false, cls, std::move(reason), std::move(stacktrace)};
    }
};

using Args = std::span<const Term>;
// Runs in the process that calls it (a spawned process, an erpc worker, a rex worker).
using ExportedFunction = std::function<Task<Term>(Self, Args)>;
// The same, reporting failure as a value (see above).
using ExportedOutcomeFunction = std::function<Task<CallOutcome>(Self, Args)>;

} // namespace edist
