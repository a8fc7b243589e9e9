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
//
// Or typed: the arity is the number of parameters (after an optional leading Self), each
// argument is converted with from_term and the result with to_term (edist/convert.hpp); an
// argument that does not convert is error:badarg. void returns `ok`; a coroutine returns
// Task<T>; a CallOutcome result is passed on as is.
//
//   node->export_function("math", "add", [](BigInt a, BigInt b) { return a + b; });
//   node->export_function("kv", "put", [&](Self self, std::string key, Term value) -> Task<> {
//       co_await store.put(self, std::move(key), std::move(value)); // returns ok
//   });
#pragma once

#include <edist/convert.hpp>
#include <edist/process.hpp>
#include <edist/task.hpp>
#include <edist/term.hpp>

#include <exception>
#include <functional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

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

namespace detail {

template <class T>
struct IsTask : std::false_type {};
template <class T>
struct IsTask<Task<T>> : std::true_type {};
// What a call gives once awaited: T for Task<T>, else the result itself.
template <class R>
struct Awaited {
    using type = R;
};
template <class T>
struct Awaited<Task<T>> {
    using type = T;
};

// The parameter and result types of a function, function pointer or lambda with typed
// (non-auto) parameters.
template <class F, class = void>
struct Signature {}; // a generic lambda or an overloaded call operator: no single signature
template <class F>
struct Signature<F, std::void_t<decltype(&F::operator())>> : Signature<decltype(&F::operator())> {};
template <class R, class... A>
struct Signature<R (*)(A...)> {
    using result = R;
    using params = std::tuple<A...>;
};
template <class R, class... A>
struct Signature<R (*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...)> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) const> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) const noexcept> : Signature<R (*)(A...)> {};

template <class F>
concept HasSignature = requires { typename Signature<std::decay_t<F>>::params; };

template <class Params>
struct TakesSelf : std::false_type {};
template <class First, class... Rest>
struct TakesSelf<std::tuple<First, Rest...>> : std::is_same<std::remove_cvref_t<First>, Self> {};

// The parameters after an optional leading Self, as the values the call is made with.
template <class Params, bool Self>
struct ArgValues;
template <class... A>
struct ArgValues<std::tuple<A...>, false> {
    using type = std::tuple<std::remove_cvref_t<A>...>;
};
template <class First, class... A>
struct ArgValues<std::tuple<First, A...>, true> {
    using type = std::tuple<std::remove_cvref_t<A>...>;
};

template <class F>
struct TypedExport {
    using Sig = Signature<std::decay_t<F>>;
    static constexpr bool takes_self = TakesSelf<typename Sig::params>::value;
    using Values = typename ArgValues<typename Sig::params, takes_self>::type;
    static constexpr unsigned arity = std::tuple_size_v<Values>;
    using Result = typename Sig::result;
    using Value = typename Awaited<Result>::type;
    static constexpr bool outcome = std::is_same_v<std::remove_cvref_t<Value>, CallOutcome>;
};

// Each argument converted, left to right (the braces make the order), so the first that does
// not fit is the one reported.
template <class Values, std::size_t... I>
Values convert_args([[maybe_unused]] Args args, std::index_sequence<I...>) {
    return Values{from_term<std::tuple_element_t<I, Values>>(args[I])...};
}

template <class F>
decltype(auto) call_typed(F& fn, Self self, typename TypedExport<F>::Values& values) {
    return std::apply(
        [&](auto&... v) -> decltype(auto) {
            if constexpr (TypedExport<F>::takes_self) return fn(self, std::move(v)...);
            else return fn(std::move(v)...);
        },
        values);
}

// Runs a typed function: `fn` belongs to the caller's copy of the exported function, which
// lives until this task ends.
template <class F, class Out>
Task<Out> run_typed(F& fn, Self self, Args args) {
    using X = TypedExport<F>;
    typename X::Values values = convert_args<typename X::Values>(args, std::make_index_sequence<X::arity>{});
    if constexpr (IsTask<typename X::Result>::value) {
        typename X::Result task = call_typed(fn, self, values);
        if constexpr (std::is_void_v<typename X::Value>) {
            co_await task;
            co_return Term(atom("ok"));
        } else if constexpr (X::outcome) {
            co_return co_await task;
        } else {
            typename X::Value value = co_await task;
            co_return to_term(value);
        }
    } else if constexpr (std::is_void_v<typename X::Result>) {
        call_typed(fn, self, values);
        co_return Term(atom("ok"));
    } else if constexpr (X::outcome) {
        co_return call_typed(fn, self, values);
    } else {
        co_return to_term(call_typed(fn, self, values));
    }
}

} // namespace detail

// A typed function as the untyped form export_function takes: ExportedFunction, or
// ExportedOutcomeFunction when it returns a CallOutcome.
template <class F>
    requires detail::HasSignature<F>
auto typed_export(F fn) {
    using X = detail::TypedExport<F>;
    static_assert(!std::is_same_v<typename X::Values, std::tuple<Args>>,
                  "a function taking (Self, Args) is untyped: give its arity, export_function(m, f, arity, fn)");
    static_assert([]<class... V>(std::type_identity<std::tuple<V...>>) { return (FromTerm<V> && ...); }(
                      std::type_identity<typename X::Values>{}),
                  "each parameter of a typed export (after an optional leading Self) needs "
                  "TermConvert<T>::from (edist/convert.hpp)");
    static_assert(std::is_void_v<typename X::Value> || X::outcome || ToTerm<typename X::Value>,
                  "the result of a typed export needs TermConvert<T>::to (edist/convert.hpp)");
    using Out = std::conditional_t<X::outcome, CallOutcome, Term>;
    using Fn = std::conditional_t<X::outcome, ExportedOutcomeFunction, ExportedFunction>;
    return Fn([fn = std::move(fn)](Self self, Args args) mutable -> Task<Out> {
        return detail::run_typed<F, Out>(fn, self, args);
    });
}

} // namespace edist
