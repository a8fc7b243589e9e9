// Fixtures for tests/interop/rpc_interop_test.cpp: one module, rpc_peer, written twice — in
// Erlang for real BEAM nodes and in C++ for the edist node — so the same call can be aimed at
// both and what erpc / rpc report compared. The Erlang file also holds the client side the erl
// test nodes run: every erpc / rpc entry point, and a comparison that reduces stacks to their
// shape (their contents differ by nature: BEAM has file/line, C++ has the call's arguments).
//
// Header-only, as every interop helper (each *_test.cpp is its own program).
#pragma once

#include "interop/node_support.hpp"

#include <edist/exports.hpp>
#include <edist/io.hpp>
#include <edist/node.hpp>
#include <edist/rpc.hpp>
#include <edist/text.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace edist::test {

constexpr const char* rpc_peer_erl = R"ERL(-module(rpc_peer).
%% The functions the C++ node exports under the same names.
-export([echo/1, add/2, fail/2, sleep/1, double/1, notify/2, announce_sleep/2, kill_self/0]).
%% The client side.
-export([run/3, compare/4, shape/2, flood/3, await_in_call/2, cases/0, timeout_cases/0, killed_cases/0,
         bad_arg_cases/0]).

echo(X) -> X.
add(A, B) -> A + B.
fail(error, R) -> erlang:error(R);
fail(exit, R) -> exit(R);
fail(throw, R) -> throw(R).
sleep(Ms) -> receive after Ms -> ok end.
%% A BIF given a bad argument: error:badarg, as a C++ function's failed typed access.
double(X) -> 2 * list_to_integer(integer_to_list(X)).
notify(To, Msg) -> To ! Msg, ok.
%% Prints Line through the caller's group leader, then sleeps: the line says the call is running.
announce_sleep(Line, Ms) -> io:format("~s~n", [Line]), sleep(Ms).
kill_self() -> exit(self(), kill).

%% {Module, Function, Args, Timeout} for every way a call can end except a timeout.
cases() ->
    [{rpc_peer, echo, [{a, "b", <<1, 2>>, [1 | 2], #{k => v}, -(1 bsl 70)}], 10000},
     {rpc_peer, add, [1 bsl 100, 1], 10000},
     {rpc_peer, fail, [error, boom], 10000},
     {rpc_peer, fail, [error, {some, reason}], 10000},
     {rpc_peer, fail, [exit, bye], 10000},
     {rpc_peer, fail, [exit, {shutdown, why}], 10000},
     {rpc_peer, fail, [throw, ball], 10000},
     {rpc_peer, fail, [throw, {'EXIT', thrown}], 10000},
     {rpc_peer, double, [21], 10000},
     {rpc_peer, double, [not_an_integer], 10000},
     {rpc_peer, add, [a, 1], 10000},
     {rpc_peer, no_such_function, [], 10000},
     {rpc_peer, echo, [too, many], 10000},
     {no_such_module, f, [1], 10000}].

%% Arguments that are not a proper list: erpc and rpc let an improper list through (is_list),
%% rex checks nothing; the callee's erlang:apply raises badarg.
bad_arg_cases() -> [{rpc_peer, echo, [1 | 2], 10000}, {rpc_peer, echo, 1, 10000}].

%% The callee sleeps well past the timeout.
timeout_cases() -> [{rpc_peer, sleep, [3000], 300}].

%% The process running the call is killed before it answers (not for block_call: on BEAM that
%% process is rex itself).
killed_cases() -> [{rpc_peer, kill_self, [], 10000}].

%% How one call through API Kind to node N ends.
run(erpc4, N, {M, F, A, _}) -> outcome(fun() -> erpc:call(N, M, F, A) end);
run(erpc5, N, {M, F, A, T}) -> outcome(fun() -> erpc:call(N, M, F, A, T) end);
run(send_request, N, {M, F, A, T}) ->
    outcome(fun() -> erpc:receive_response(erpc:send_request(N, M, F, A), T) end);
run(erpc_multicall, N, {M, F, A, T}) -> erpc:multicall([N], M, F, A, T);
run(rpc4, N, {M, F, A, _}) -> rpc:call(N, M, F, A);
run(rpc5, N, {M, F, A, T}) -> rpc:call(N, M, F, A, T);
run(yield, N, {M, F, A, _}) -> rpc:yield(rpc:async_call(N, M, F, A));
run(nb_yield, N, {M, F, A, T}) -> rpc:nb_yield(rpc:async_call(N, M, F, A), T);
run(rpc_multicall, N, {M, F, A, T}) -> rpc:multicall([N], M, F, A, T);
run(block4, N, {M, F, A, _}) -> rpc:block_call(N, M, F, A);
run(block5, N, {M, F, A, T}) -> rpc:block_call(N, M, F, A, T);
%% What rpc:call sends to the rex of a node without erpc.
run(rex_gen_call, N, {M, F, A, T}) ->
    outcome(fun() -> gen_server:call({rex, N}, {call, M, F, A, group_leader()}, T) end);
%% What erl_interface's ei_rpc sends, by hand: the answer is {rex, Reply}.
run(rex_plain, N, {M, F, A, T}) ->
    {rex, N} ! {self(), {call, M, F, A, user}},
    receive {rex, Reply} -> Reply after T -> no_reply end.

outcome(Fun) ->
    try {return, Fun()} catch Class:Reason -> {Class, Reason} end.

%% For every case, Kind against Cpp and against Beam, shaped; the cases where they differ.
compare(Kind, Cpp, Beam, Cases) ->
    [{Case, {cpp, X}, {beam, Y}}
     || Case <- Cases,
        X <- [shape(run(Kind, Cpp, Case), Cpp)],
        Y <- [shape(run(Kind, Beam, Case), Beam)],
        X =/= Y].

%% T with every stack replaced by 'stack' and the node name N by 'node'.
shape(N, N) -> node;
shape(T, N) when is_list(T) ->
    case is_stack(T) of
        true -> stack;
        false -> shape_list(T, N)
    end;
shape(T, N) when is_tuple(T) -> list_to_tuple([shape(E, N) || E <- tuple_to_list(T)]);
shape(T, N) when is_map(T) -> maps:from_list([{shape(K, N), shape(V, N)} || {K, V} <- maps:to_list(T)]);
shape(T, _) -> T.

shape_list([], _) -> [];
shape_list([H | T], N) -> [shape(H, N) | shape_list(T, N)];
shape_list(Tail, N) -> shape(Tail, N).

is_stack([_ | _] = S) ->
    try lists:all(fun is_frame/1, S) catch error:_ -> false end;
is_stack(_) -> false.

is_frame({M, F, A, Info}) when is_atom(M), is_atom(F), is_list(Info) -> is_integer(A) orelse is_list(A);
is_frame(_) -> false.

%% Count processes, each erpc:call(N, rpc_peer, echo, [I]) at once; {Right, FirstWrong}.
flood(N, Count, T) ->
    Self = self(),
    Tag = make_ref(),
    [spawn(fun() -> Self ! {Tag, I, outcome(fun() -> erpc:call(N, rpc_peer, echo, [I], T) end)} end)
     || I <- lists:seq(1, Count)],
    collect(Tag, Count, 0, [], erlang:monotonic_time(millisecond) + T).

collect(_Tag, 0, Right, Wrong, _Deadline) -> {Right, lists:sublist(Wrong, 5)};
collect(Tag, Left, Right, Wrong, Deadline) ->
    Wait = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {Tag, I, {return, I}} -> collect(Tag, Left - 1, Right + 1, Wrong, Deadline);
        {Tag, I, Other} -> collect(Tag, Left - 1, Right, [{I, Other} | Wrong], Deadline)
    after Wait -> {Right, [{missing, Left} | lists:sublist(Wrong, 5)]}
    end.

%% Waits (up to Ms) until every process in Ps is blocked in erpc:call's receive: its
%% spawn_request has gone out on the connection.
await_in_call(Ps, Ms) -> await_in_call(Ps, erlang:monotonic_time(millisecond) + Ms, Ps).
await_in_call([], _Deadline, _All) -> ok;
await_in_call([P | Ps] = Left, Deadline, All) ->
    case erlang:process_info(P, current_function) of
        {current_function, {erpc, call, 5}} -> await_in_call(Ps, Deadline, All);
        _ ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> {not_in_call, [{Q, erlang:process_info(Q, current_function)} || Q <- Left]};
                false -> erlang:yield(), await_in_call(Left, Deadline, All)
            end
    end.
)ERL";

// rpc_peer in C++: what the Erlang functions above do, failing in the same classes.
inline void export_rpc_peer(Node& node) {
    node.export_function("rpc_peer", "echo", 1, [](Self, Args a) -> Task<Term> { co_return a[0]; });
    node.export_function("rpc_peer", "add", 2, [](Self, Args a) -> Task<Term> {
        if (!a[0].is_integer() || !a[1].is_integer()) raise_error(atom("badarith"));
        co_return Term(a[0].as_bigint() + a[1].as_bigint());
    });
    node.export_function("rpc_peer", "fail", 2, [](Self, Args a) -> Task<Term> {
        if (a[0].is_atom(atom("error"))) raise_error(a[1]);
        if (a[0].is_atom(atom("exit"))) raise_exit(a[1]);
        if (a[0].is_atom(atom("throw"))) raise_throw(a[1]);
        raise_error(atom("function_clause"));
    });
    // Typed exports (arity from the parameters): a coroutine returning Task<> answers ok, as
    // timer:sleep/1 does ...
    node.export_function("rpc_peer", "sleep", [](Self self, std::int64_t ms) -> Task<> {
        co_await self.sleep(std::chrono::milliseconds(ms));
    });
    // ... an argument that is not an integer is error:badarg, as integer_to_list/1 gives ...
    node.export_function("rpc_peer", "double", [](BigInt x) { return x + x; });
    // ... and a plain function returning void answers ok.
    node.export_function("rpc_peer", "notify", [](Self self, Pid to, Term msg) { self.send(to, std::move(msg)); });
    node.export_function("rpc_peer", "announce_sleep", 2, [](Self self, Args a) -> Task<Term> {
        const Term line = a[0];
        const auto ms = std::chrono::milliseconds(a[1].as_int64());
        auto printed = co_await io::format(self, "~s~n", list(line));
        if (!printed) raise_error(Term(printed.error().reason()));
        co_await self.sleep(ms);
        co_return Term(atoms::ok);
    });
    // exit(self(), kill): the process dies at its next co_await, without answering.
    node.export_function("rpc_peer", "kill_self", 0, [](Self self, Args) -> Task<Term> {
        self.exit(self.pid(), atom("kill"));
        co_await self.receive(std::chrono::milliseconds(0));
        co_return Term(atoms::ok);
    });
}

// Compiles rpc_peer.erl (written into `dir`) on `erl` and loads it; "ok" on success.
inline std::string load_rpc_peer(ErlNode& erl, const std::filesystem::path& dir) {
    const auto src = dir / "rpc_peer.erl";
    if (!std::filesystem::exists(src)) std::ofstream(src) << rpc_peer_erl;
    const std::string path = src.string();
    return erl.eval("{ok, M, B} = compile:file(\"" + path + "\", [binary, return_errors]), "
                    "{module, M} = code:load_binary(M, \"" + path + "\", B), ok");
}

// A C++ erpc outcome as rpc_peer:run(erpc5, ...) reports one on erl: {return, Value} or
// {Class, Reason} with erpc's wrapping (error:{exception, R, Stack}, exit:{exception, R},
// exit:{signal, R} for a process killed before it answered, error:{erpc, R} for the transport).
inline Term erpc_outcome(const CallOutcome& out) {
    if (out.ok) return tuple(atom("return"), out.value);
    switch (out.cls) {
    case ErlangClass::throw_: return tuple(atom("throw"), out.value);
    case ErlangClass::exit:
        if (out.value.is_tuple(2) && out.value[0].is_atom(atom("signal"))) return tuple(atom("exit"), out.value);
        return tuple(atom("exit"), tuple(atom("exception"), out.value));
    case ErlangClass::error:
        if (out.value.is_tuple(2) && out.value[0].is_atom(atom("erpc")) && out.stacktrace.is_nil())
            return tuple(atom("error"), out.value);
        return tuple(atom("error"), tuple(atom("exception"), out.value, out.stacktrace));
    }
    return out.value;
}

} // namespace edist::test
