%% The BEAM side of bench/node_bench.cpp: an erl node that the C++ driver starts and then
%% commands over distribution. It plays every BEAM role of the node, process and RPC
%% benchmarks (sink, echo, sender, pinger, connector, erpc callers, local spawn and messaging)
%% and answers each command with its measurement, so that C++ and BEAM are timed the same way
%% in the same run.
%%
%%   erl -sname N -hidden -noinput -pa DIR -s beam_node_bench main CtlNode
%%
%% The node pings CtlNode (the driver's control node), reports {bench_ready, node()} to its
%% registered 'bench_ctl' and halts when the control node goes down, so a crashed driver
%% leaves no erl behind. Every result is also printed as one "beam ..." line on stdout.
-module(beam_node_bench).
-export([main/1, echo/1]).

%% The function every RPC benchmark calls: the identity, so the call's cost is the transport.
echo(X) -> X.

main([Ctl]) ->
    pong = net_adm:ping(Ctl),
    erlang:monitor_node(Ctl, true),
    register(bench, self()),
    {bench_ctl, Ctl} ! {bench_ready, node(), self()},
    loop(Ctl).

loop(Ctl) ->
    receive
        {nodedown, Ctl} ->
            erlang:halt(0);
        {bench_cmd, From, Ref, Cmd} ->
            %% Each command runs in its own process so that the server stays responsive and a
            %% measurement never shares a mailbox with the control traffic.
            spawn(fun() ->
                          Result = try run(Cmd) catch C:R:S -> {failed, C, R, S} end,
                          io:format("beam ~p ~p~n", [strip(Cmd), Result]),
                          From ! {bench_result, Ref, Result}
                  end),
            loop(Ctl);
        halt ->
            erlang:halt(0);
        _ ->
            loop(Ctl)
    end.

%% What a result line shows of a command: no payload binaries.
strip(Cmd) when is_tuple(Cmd) ->
    list_to_tuple([case E of
                       B when is_binary(B), byte_size(B) > 16 -> {binary, byte_size(B)};
                       _ -> E
                   end || E <- tuple_to_list(Cmd)]);
strip(Cmd) -> Cmd.

now_us() -> erlang:monotonic_time(microsecond).

%% --- roles that stay up: the pid is the answer --------------------------------------------
run(sink) -> spawn(fun() -> sink(0) end);
run(echo) -> spawn(fun echo_loop/0);
%% --- measurements: the answer is {Micros, ...} --------------------------------------------
%% N messages {bench_msg, Payload} to To, then {bench_last, self()}; done when the sink acks.
run({send, To, N, Payload}) ->
    T0 = now_us(),
    send_n(To, N, {bench_msg, Payload}),
    To ! {bench_last, self()},
    receive {bench_ack, N} -> ok end,
    now_us() - T0;
%% K round trips to an echo process.
run({ping_pong, Echo, K}) ->
    T0 = now_us(),
    ping_pong(Echo, K),
    now_us() - T0;
%% R connection setups to Node, each from no connection; the answer is the total of the
%% connect_node/1 calls alone.
run({connect, Node, R}) ->
    connect_loop(Node, R, 0);
%% C concurrent callers, each making M erpc:call(Node, Mod, Fun, Args) calls.
run({erpc, Node, Mod, Fun, Args, C, M}) ->
    Self = self(),
    T0 = now_us(),
    Pids = [spawn_link(fun() -> call_n(Node, Mod, Fun, Args, M), Self ! {caller_done, self()} end)
            || _ <- lists:seq(1, C)],
    [receive {caller_done, P} -> ok end || P <- Pids],
    now_us() - T0;
%% N idle processes: each reports once it runs and then waits for 'stop'. Answers the time
%% to spawn them all until each has run, and the memory they hold (processes and total).
run({spawn_idle, N}) ->
    %% N 'started' messages can queue up here: off the heap, or every collection copies them.
    process_flag(message_queue_data, off_heap),
    garbage_collect(),
    P0 = erlang:memory(processes),
    M0 = erlang:memory(total),
    Self = self(),
    T0 = now_us(),
    spawn_idle(N, Self),
    wait_started(N),
    T1 = now_us(),
    garbage_collect(),
    P1 = erlang:memory(processes),
    M1 = erlang:memory(total),
    %% No list of the pids is kept (it would count as process memory): they are found again
    %% by the function they wait in.
    [P ! stop || P <- erlang:processes(),
                 erlang:process_info(P, current_function) =:= {current_function, {?MODULE, idle, 1}}],
    {T1 - T0, P1 - P0, M1 - M0};
%% Local one-way messages and round trips inside this node.
run({local_send, N}) ->
    Sink = spawn(fun() -> sink(0) end),
    T = run({send, Sink, N, 12345}),
    exit(Sink, kill),
    T;
run({local_ping_pong, K}) ->
    Echo = spawn(fun echo_loop/0),
    T = run({ping_pong, Echo, K}),
    exit(Echo, kill),
    T;
run(info) ->
    {erlang:system_info(otp_release), erlang:system_info(version),
     erlang:system_info(schedulers_online), erlang:system_info(emu_flavor)}.

sink(Count) ->
    receive
        {bench_msg, _} -> sink(Count + 1);
        {bench_last, From} -> From ! {bench_ack, Count}, sink(0);
        stop -> ok
    end.

echo_loop() ->
    receive
        {bench_ping, From} -> From ! bench_pong, echo_loop();
        stop -> ok
    end.

send_n(_, 0, _) -> ok;
send_n(To, N, Msg) -> To ! Msg, send_n(To, N - 1, Msg).

ping_pong(_, 0) -> ok;
ping_pong(Echo, K) ->
    Echo ! {bench_ping, self()},
    receive bench_pong -> ok end,
    ping_pong(Echo, K - 1).

connect_loop(Node, 0, Total) -> erlang:disconnect_node(Node), Total;
connect_loop(Node, R, Total) ->
    %% The peer learns of a disconnect asynchronously; give it time, outside the measurement,
    %% so that each setup starts from no connection on either side (node_bench.cpp does the same).
    erlang:disconnect_node(Node),
    wait_disconnected(Node),
    timer:sleep(50),
    T0 = now_us(),
    true = net_kernel:connect_node(Node),
    T = now_us() - T0,
    connect_loop(Node, R - 1, Total + T).

wait_disconnected(Node) ->
    case lists:member(Node, nodes([visible, hidden])) of
        true -> timer:sleep(1), wait_disconnected(Node);
        false -> ok
    end.

call_n(_, _, _, _, 0) -> ok;
call_n(Node, Mod, Fun, Args, M) ->
    _ = erpc:call(Node, Mod, Fun, Args),
    call_n(Node, Mod, Fun, Args, M - 1).

spawn_idle(0, _) -> ok;
spawn_idle(N, Parent) ->
    spawn(fun() -> Parent ! started, idle(Parent) end),
    spawn_idle(N - 1, Parent).

idle(Parent) ->
    receive stop -> Parent end.

wait_started(0) -> ok;
wait_started(N) -> receive started -> wait_started(N - 1) end.
