#!/usr/bin/env escript
%% -*- erlang -*-
%%! +S 1 +sbwt none +sbwtdcpu none +sbwtdio none
%%
%% BEAM's term_to_binary/1 and binary_to_term/1 on the five terms of bench/etf_bench.cpp, which
%% must stay identical to the ones built here (scripts/bench.sh compares sizes and CRC-32s).
%%
%% Each operation runs in a tight loop for at least MinTime seconds (the iteration count is
%% calibrated first), Reps times; the median is reported, by wall clock and by CPU time (the
%% VM's runtime, in milliseconds, so only meaningful over long batches; one scheduler and no
%% busy-waiting keep other threads out of it). Output, one line each:
%%   beam otp <release> erts <version> <emu_flavor>
%%   term <name> beam size <bytes> crc32 <crc>
%%   beam <name> encode_ns <ns/op> decode_ns <ns/op> encode_cpu_ns <ns/op> decode_cpu_ns <ns/op>
%%
%% Usage: beam_etf_bench.escript [--print-terms] [--min-time Seconds] [--reps N]
-mode(compile).

%% Atoms as SMALL_ATOM_UTF8_EXT, as OTP 26 and later, ei and edist write them. OTP 25's default
%% (minor_version 1) writes ATOM_EXT, one byte longer, and would make the terms differ.
-define(ENCODE_OPTS, [{minor_version, 2}]).

main(Args) ->
    Opts = parse(Args, #{print_only => false, min_time => 0.5, reps => 5}),
    io:format("beam otp ~s erts ~s ~p~n",
              [erlang:system_info(otp_release), erlang:system_info(version),
               erlang:system_info(emu_flavor)]),
    lists:foreach(fun({Name, T}) -> run(Name, T, Opts) end, terms()).

parse([], Opts) -> Opts;
parse(["--print-terms" | Rest], Opts) -> parse(Rest, Opts#{print_only := true});
parse(["--min-time", S | Rest], Opts) -> parse(Rest, Opts#{min_time := to_number(S)});
parse(["--reps", N | Rest], Opts) -> parse(Rest, Opts#{reps := list_to_integer(N)});
parse([Other | _], _) ->
    io:format(standard_error, "unknown argument ~s~n", [Other]),
    halt(2).

to_number(S) ->
    try list_to_float(S) catch error:badarg -> float(list_to_integer(S)) end.

%% --- The terms -------------------------------------------------------------------------------

terms() ->
    [{small_tuple, {ok, 42, <<"abc">>}},
     {atom_map10, maps:from_list([{list_to_atom("field_" ++ integer_to_list(I)), I * 100}
                                  || I <- lists:seq(0, 9)])},
     %% Negative elements keep term_to_binary from writing the list as a STRING_EXT.
     {int_list200, [37 * I * I - 1000 * I || I <- lists:seq(0, 199)]},
     {document4k, document()},
     {binary1m, << <<(I band 255)>> || I <- lists:seq(0, 1048575) >>}].

%% A JSON-like document: 20 records of binaries, atoms, integers, floats and nested tuples.
document() ->
    #{kind => <<"user_list">>,
      version => 3,
      generated => 20240101,
      items => [document_item(I) || I <- lists:seq(1, 20)]}.

document_item(I) ->
    N = integer_to_binary(I),
    #{id => I * 1000 + 7,
      name => <<"user-", N/binary>>,
      email => <<"user", N/binary, "@example.com">>,
      active => I rem 3 =/= 0,
      score => I * 1.25 + 0.5,
      tags => [alpha, beta, gamma],
      location => {point, I * 0.5, -(I * 0.25)},
      meta => {created, {2024, I rem 12 + 1, I rem 28 + 1}}}.

%% --- Timing ----------------------------------------------------------------------------------

run(Name, T, #{print_only := PrintOnly, min_time := MinTime, reps := Reps}) ->
    B = term_to_binary(T, ?ENCODE_OPTS),
    T = binary_to_term(B),
    io:format("term ~s beam size ~b crc32 ~b~n", [Name, byte_size(B), erlang:crc32(B)]),
    case PrintOnly of
        true ->
            ok;
        false ->
            {Enc, EncCpu} = median_ns(fun(N) -> encode_loop(N, T, undefined) end, MinTime, Reps),
            {Dec, DecCpu} = median_ns(fun(N) -> decode_loop(N, B, undefined) end, MinTime, Reps),
            {Iov, IovCpu} = median_ns(fun(N) -> iovec_loop(N, T, undefined) end, MinTime, Reps),
            io:format("beam ~s encode_ns ~.3f decode_ns ~.3f encode_cpu_ns ~.3f decode_cpu_ns ~.3f "
                      "iovec_ns ~.3f iovec_cpu_ns ~.3f~n",
                      [Name, Enc, Dec, EncCpu, DecCpu, Iov, IovCpu])
    end.

%% The last result is carried along and returned so that no call can be dropped as unused.
encode_loop(0, _T, Last) -> Last;
encode_loop(N, T, _) -> encode_loop(N - 1, T, term_to_binary(T, ?ENCODE_OPTS)).

%% term_to_iovec: the same bytes, with binaries of more than 64 bytes referred to, not copied.
iovec_loop(0, _T, Last) -> Last;
iovec_loop(N, T, _) -> iovec_loop(N - 1, T, term_to_iovec(T, ?ENCODE_OPTS)).

decode_loop(0, _B, Last) -> Last;
decode_loop(N, B, _) -> decode_loop(N - 1, B, binary_to_term(B)).

median_ns(Loop, MinTime, Reps) ->
    MinNs = MinTime * 1.0e9,
    N = calibrate(Loop, 1, MinNs),
    Samples = [elapsed_ns(Loop, N) || _ <- lists:seq(1, Reps)],
    Median = fun(L) -> lists:nth((Reps + 1) div 2, lists:sort(L)) / N end,
    {Median([Wall || {Wall, _} <- Samples]), Median([Cpu || {_, Cpu} <- Samples])}.

%% Doubles the count until a batch takes a tenth of MinNs, then scales it to MinNs.
calibrate(Loop, N, MinNs) ->
    {Ns, _} = elapsed_ns(Loop, N),
    if
        Ns >= MinNs / 10 -> max(1, ceil(N * MinNs / Ns));
        true -> calibrate(Loop, N * 2, MinNs)
    end.

elapsed_ns(Loop, N) ->
    erlang:garbage_collect(),
    {R0, _} = erlang:statistics(runtime),
    T0 = erlang:monotonic_time(nanosecond),
    _ = Loop(N),
    T1 = erlang:monotonic_time(nanosecond),
    {R1, _} = erlang:statistics(runtime),
    {T1 - T0, (R1 - R0) * 1000000}.
