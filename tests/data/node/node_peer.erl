%% The BEAM side of tests/interop/node_*_test.cpp: a few processes the C++ node talks to, a
%% printer of node events, and a command loop on stdin.
%%
%% Each stdin line holds Erlang expressions ending in '.'; the loop evaluates them and prints
%% "RESULT <n> <value>" (n counts commands from 1), which is the event the test waits for.
%% Node events are printed as "NODEUP <node>" / "NODEDOWN <node> <reason>".
-module(node_peer).
-export([main/0, echo/0, count/3, blast/3, connect_at/2, big/1]).

main() ->
    register(echo, spawn(fun echo/0)),
    Self = self(),
    spawn(fun() ->
        ok = net_kernel:monitor_nodes(true, [{node_type, all}, nodedown_reason]),
        Self ! monitoring,
        node_events()
    end),
    receive monitoring -> ok end,
    io:format("READY ~s~n", [node()]),
    loop(1).

loop(N) ->
    case io:parse_erl_exprs('') of
        {ok, Exprs, _} ->
            Value = try
                        {value, V, _} = erl_eval:exprs(Exprs, []),
                        V
                    catch
                        C:R -> {C, R}
                    end,
            io:format("RESULT ~w ~w~n", [N, Value]),
            loop(N + 1);
        {error, Info, _} ->
            io:format("RESULT ~w ~w~n", [N, {parse_error, Info}]),
            loop(N + 1);
        {eof, _} ->
            halt();
        eof -> % stdin closed between reads
            halt()
    end.

node_events() ->
    receive
        {nodeup, Node, _} -> io:format("NODEUP ~s~n", [Node]);
        {nodedown, Node, Info} ->
            io:format("NODEDOWN ~s ~w~n", [Node, proplists:get_value(nodedown_reason, Info)])
    end,
    node_events().

%% Registered as 'echo'. Every request carries where to answer: a pid, or {Name, Node}.
echo() ->
    receive
        {ReplyTo, whoami} ->
            ReplyTo ! {echo_pid, self()};
        {ReplyTo, {md5, Bin}} when is_binary(Bin) ->
            ReplyTo ! {md5, byte_size(Bin), erlang:md5(Bin)};
        {ReplyTo, {big, Size}} ->
            Bin = big(Size),
            ReplyTo ! {big, Bin, erlang:md5(Bin)};
        {ReplyTo, {count, N}} ->
            %% A counter for N {seq, I} messages; its pid goes back to the asker.
            Counter = spawn(fun() -> count(1, N, ReplyTo) end),
            ReplyTo ! {counter, Counter};
        {ReplyTo, {blast, N}} ->
            spawn(fun() -> blast(1, N, ReplyTo) end);
        {ReplyTo, Msg} ->
            ReplyTo ! {echo, Msg};
        _ ->
            ok
    end,
    echo().

%% Receives {seq, 1} .. {seq, N} and reports {counted, N} or the first message out of order.
count(I, N, ReplyTo) when I > N ->
    ReplyTo ! {counted, N};
count(I, N, ReplyTo) ->
    receive
        {seq, I} -> count(I + 1, N, ReplyTo);
        Other -> ReplyTo ! {out_of_order, I, Other}
    after 30000 ->
        ReplyTo ! {stalled, I}
    end.

%% Sends {seq, 1} .. {seq, N} to To, then {done, N}.
blast(I, N, To) when I > N ->
    To ! {done, N};
blast(I, N, To) ->
    To ! {seq, I},
    blast(I + 1, N, To).

%% Random bytes, so a fragment delivered twice or out of place changes the hash.
big(Size) -> crypto:strong_rand_bytes(Size).

%% Spins until os:system_time(microsecond) reaches At, then connects: the test fires its own
%% connect at the same instant (a timer would add milliseconds of jitter).
connect_at(Node, At) ->
    spin(At),
    net_kernel:connect_node(Node).

spin(At) ->
    case os:system_time(microsecond) >= At of
        true -> ok;
        false -> spin(At)
    end.
