#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Golden ETF vectors, written by a real BEAM, for tests/interop/etf_golden_test.cpp.
%%
%% Run from anywhere (it writes next to itself), with the OTP release whose bytes you want:
%%
%%     escript tests/data/golden/generate.escript
%%
%% It deletes the old vector files first, so a vector removed here disappears. For each vector
%% NAME it writes:
%%
%%   NAME.etf             term_to_binary(T, [{minor_version, 2}]): UTF-8 atoms, NEW_FLOAT_EXT,
%%                        what edist's encoder must emit byte for byte.
%%   NAME.default.etf     term_to_binary(T) when it differs (Latin-1 atoms as ATOM_EXT).
%%   NAME.compressed.etf  term_to_binary(T, [compressed]) for a few vectors.
%%   NAME.legacy.etf      hand-made bytes in a deprecated encoding (ATOM_EXT, PID_EXT, FLOAT_EXT
%%                        ...) that term_to_binary no longer emits; checked here to decode to T.
%%   NAME.txt             io_lib:format("~w", [T]) as UTF-8, for terms without pids, ports,
%%                        refs and funs, when under 64 KiB.
%%
%% The vectors were generated with OTP 25.2. Regenerating with the same release reproduces the
%% files byte for byte; the C++ test builds every expected term in code, so a newer release
%% that encodes differently shows up as a failing test rather than silently new expectations.
-mode(compile).

main(_) ->
    Dir = filename:dirname(filename:absname(escript:script_name())),
    Old = filelib:wildcard(filename:join(Dir, "*.etf")) ++ filelib:wildcard(filename:join(Dir, "*.txt")),
    lists:foreach(fun(F) -> ok = file:delete(F) end, Old),
    Compressed = [list_1000_ints, binary_1000, string_65535, tuple_300, map_40_keys],
    Vs = vectors(),
    Names = [N || {N, _} <- Vs] ++ [N || {N, _, _} <- legacy_vectors()],
    length(Names) =:= length(lists:usort(Names)) orelse error(duplicate_vector_names),
    lists:foreach(fun({Name, T}) -> write_vector(Dir, Name, T, lists:member(Name, Compressed)) end, Vs),
    lists:foreach(fun({Name, Bytes, T}) -> write_legacy(Dir, Name, Bytes, T) end, legacy_vectors()),
    io:format("wrote ~b vectors to ~s~n", [length(Names), Dir]).

write_vector(Dir, Name, T, Compressed) ->
    V2 = term_to_binary(T, [{minor_version, 2}]),
    %% Every vector must round-trip in BEAM itself, or it is no golden vector.
    same(binary_to_term(V2), T) orelse error({no_round_trip, Name}),
    write(Dir, Name, ".etf", V2),
    case term_to_binary(T) of
        V2 -> ok;
        Default -> write(Dir, Name, ".default.etf", Default)
    end,
    Compressed andalso write(Dir, Name, ".compressed.etf", term_to_binary(T, [compressed])),
    write_text(Dir, Name, T).

write_legacy(Dir, Name, Bytes, T) ->
    same(binary_to_term(Bytes), T) orelse error({legacy_vector_means_something_else, Name}),
    write(Dir, Name, ".legacy.etf", Bytes),
    write(Dir, Name, ".etf", term_to_binary(T, [{minor_version, 2}])),
    write_text(Dir, Name, T).

write_text(Dir, Name, T) ->
    case printable_kinds_only(T) of
        true ->
            Text = unicode:characters_to_binary(io_lib:format("~w", [T])),
            byte_size(Text) < 65536 andalso write(Dir, Name, ".txt", Text);
        false ->
            ok
    end.

write(Dir, Name, Ext, Bytes) ->
    ok = file:write_file(filename:join(Dir, atom_to_list(Name) ++ Ext), Bytes).

%% =:= that also tells 0.0 from -0.0 (OTP 25's =:= does not).
same(A, B) -> A =:= B andalso term_to_binary(A) =:= term_to_binary(B).

printable_kinds_only(T) when is_pid(T); is_port(T); is_reference(T); is_function(T) -> false;
printable_kinds_only(T) when is_tuple(T) -> printable_kinds_only(tuple_to_list(T));
printable_kinds_only(T) when is_map(T) -> printable_kinds_only(maps:to_list(T));
printable_kinds_only([H | T]) -> printable_kinds_only(H) andalso printable_kinds_only(T);
printable_kinds_only(_) -> true.

%% --- The vectors ----------------------------------------------------------------------------

p2(N) -> 1 bsl N.

vectors() ->
    integers() ++ floats() ++ atoms() ++ bitstrings() ++ lists_() ++ tuples() ++ maps_() ++
        identifiers() ++ funs() ++ nested().

integers() ->
    [{int_0, 0}, {int_1, 1}, {int_255, 255}, {int_256, 256}, {int_neg_1, -1}, {int_neg_256, -256},
     {int_2_pow_27_minus_1, p2(27) - 1}, {int_2_pow_27_plus_1, p2(27) + 1},
     {int_neg_2_pow_27, -p2(27)}, {int_neg_2_pow_27_minus_1, -p2(27) - 1},
     {int_2_pow_31_minus_1, p2(31) - 1}, {int_2_pow_31, p2(31)}, {int_2_pow_31_plus_1, p2(31) + 1},
     {int_neg_2_pow_31, -p2(31)}, {int_neg_2_pow_31_minus_1, -p2(31) - 1},
     {int_neg_2_pow_31_plus_1, -p2(31) + 1},
     {int_2_pow_32, p2(32)},
     {int_2_pow_63_minus_1, p2(63) - 1}, {int_2_pow_63, p2(63)}, {int_2_pow_63_plus_1, p2(63) + 1},
     {int_neg_2_pow_63, -p2(63)}, {int_neg_2_pow_63_minus_1, -p2(63) - 1},
     {int_neg_2_pow_63_plus_1, -p2(63) + 1},
     {int_2_pow_64_minus_1, p2(64) - 1}, {int_2_pow_64, p2(64)}, {int_2_pow_64_plus_1, p2(64) + 1},
     {int_neg_2_pow_64, -p2(64)},
     %% 255 magnitude bytes is SMALL_BIG_EXT's limit; 2^2040 needs 256 (LARGE_BIG_EXT).
     {int_2_pow_2040_minus_1, p2(2040) - 1}, {int_2_pow_2040, p2(2040)}, {int_neg_2_pow_2040, -p2(2040)},
     {int_factorial_100, factorial(100)}, {int_neg_3_pow_1000, -pow(3, 1000)},
     {int_10_pow_30, pow(10, 30)}].

factorial(0) -> 1;
factorial(N) -> N * factorial(N - 1).
pow(_, 0) -> 1;
pow(B, E) -> B * pow(B, E - 1).

floats() ->
    <<Subnormal/float>> = <<1:64>>,
    <<MinNormal/float>> = <<0:1, 1:11, 0:52>>,
    <<MaxFloat/float>> = <<0:1, 2046:11, -1:52>>,
    <<NegZero/float>> = <<1:1, 0:63>>,
    [{float_0, 0.0}, {float_neg_0, NegZero}, {float_0_1, 0.1}, {float_1, 1.0}, {float_neg_1_5, -1.5},
     {float_pi, math:pi()}, {float_1e300, 1.0e300}, {float_neg_1e_300, -1.0e-300},
     {float_smallest_subnormal, Subnormal}, {float_smallest_normal, MinNormal},
     {float_largest, MaxFloat}, {float_1e15, 1.0e15}, {float_1e16, 1.0e16},
     {float_123456789, 123456789.0}, {float_2e_5, 2.0e-5}, {float_2_pow_63, float(p2(63))}].

atoms() ->
    [{atom_empty, ''}, {atom_ok, ok}, {atom_true, true}, {atom_undefined, undefined},
     {atom_hello_latin1, list_to_atom("h" ++ [16#E9] ++ "llo")},
     {atom_nihon, list_to_atom([16#65E5, 16#672C])},
     {atom_emoji, list_to_atom([16#1F600])},
     {atom_255_chars, list_to_atom(lists:duplicate(255, $a))},
     {atom_255_unicode_chars, list_to_atom(lists:duplicate(255, 16#65E5))},
     {atom_needs_quotes_space, 'hello world'}, {atom_needs_quotes_upper, 'Hello'},
     {atom_needs_quotes_underscore, '_x'}, {atom_reserved_word, 'if'},
     {atom_with_at_and_dot, 'node@host.example'}, {atom_with_quote, list_to_atom("it's")},
     {atom_with_backslash, list_to_atom("a\\b")}, {atom_with_newline, list_to_atom("a\nb")},
     {atom_with_control_char, list_to_atom([$a, 1, $b])}, {atom_latin1_upper_first, list_to_atom([16#C9, $a])},
     {atom_digits, '123'}].

bitstrings() ->
    [{binary_empty, <<>>}, {binary_1, <<42>>}, {binary_text, <<"hello">>},
     {binary_1000, list_to_binary([I rem 256 || I <- lists:seq(0, 999)])},
     {bitstring_1_bit, <<1:1>>}, {bitstring_7_bits, <<127:7>>}, {bitstring_11_bits, <<1, 2:3>>},
     {bitstring_1001_bits, <<(list_to_binary(lists:duplicate(125, 16#A5)))/binary, 1:1>>}].

lists_() ->
    [{nil, []}, {string_abc, "abc"}, {string_with_zero_and_255, [0, 255, 10]},
     {string_65535, [I rem 256 || I <- lists:seq(1, 65535)]},
     {list_unicode_code_points, [16#65E5, 16#672C]},
     {list_1000_ints, lists:seq(1, 1000)},
     %% Small ints only, but too long for STRING_EXT.
     {list_70000_small_ints, [I rem 256 || I <- lists:seq(1, 70000)]},
     {list_mixed, [1, a, <<"b">>, "c", 2.5, {}]}, {list_nested, [[[]], [[1]], []]},
     {list_of_neg_ints, [-1, -2]},
     {improper_list_1_2, [1 | 2]}, {improper_list_abc, [a, b | c]},
     {improper_list_binary_tail, [1 | <<"t">>]}, {improper_list_string_head, [$a, $b | $c]}].

tuples() ->
    [{tuple_empty, {}}, {tuple_1, {1}}, {tuple_ok_pair, {ok, <<"x">>}},
     {tuple_255, list_to_tuple(lists:seq(1, 255))}, {tuple_256, list_to_tuple(lists:seq(1, 256))},
     {tuple_300, list_to_tuple([I rem 7 || I <- lists:seq(1, 300)])}].

maps_() ->
    Keys = fun(N) -> [{K, K * K} || K <- lists:seq(1, N)] end,
    [{map_empty, #{}}, {map_1, #{a => 1}},
     {map_10_mixed_keys, #{1 => one, 1.0 => float_one, a => b, "s" => [], <<"bin">> => 2, {t} => 3,
                           [l] => 4, #{} => empty, -5 => neg, p2(70) => big}},
     {map_32_keys, maps:from_list(Keys(32))},
     {map_33_keys, maps:from_list(Keys(33))},
     {map_40_keys, maps:from_list([{list_to_atom("k" ++ integer_to_list(K)), K} || K <- lists:seq(1, 40)])},
     {map_nested, #{m => #{n => #{}}, l => [#{}]}}].

%% Identifiers of a node that does not exist, built from hand-made bytes.
node_atom(Node) ->
    B = atom_to_binary(Node, utf8),
    <<119, (byte_size(B)), B/binary>>.
pid(Node, Id, Serial, Creation) ->
    binary_to_term(<<131, 88, (node_atom(Node))/binary, Id:32, Serial:32, Creation:32>>).
port(Node, Id, Creation) ->
    binary_to_term(<<131, 120, (node_atom(Node))/binary, Id:64, Creation:32>>).
ref(Node, Creation, Words) ->
    binary_to_term(<<131, 90, (length(Words)):16, (node_atom(Node))/binary, Creation:32,
                     (<<<<W:32>> || W <- Words>>)/binary>>).

identifiers() ->
    Max = p2(32) - 1,
    [{pid_max_fields, pid('cpp@host', Max, Max, Max)}, {pid_small_fields, pid('cpp@host', 1, 0, 1)},
     {pid_unicode_node, pid(list_to_atom([16#65E5] ++ "@host"), 5, 6, 7)},
     {port_64_bit_id, port('cpp@host', p2(64) - 1, Max)},
     %% An id below 2^32 is written as NEW_PORT_EXT, not V4_PORT_EXT.
     {port_32_bit_id, port('cpp@host', 7, 3)},
     {ref_1_word, ref('cpp@host', 9, [1])}, {ref_3_words, ref('cpp@host', 1, [1, 2, 3])},
     {ref_5_words, ref('cpp@host', Max, [Max, 1, 2, 3, Max])},
     {ids_in_tuple, {pid('a@b', 1, 2, 3), port('a@b', 4, 5), ref('a@b', 6, [7, 8, 9])}}].

funs() ->
    [{fun_export_lists_map, fun lists:map/2}, {fun_export_unicode, fun 'héllo':'日本'/255},
     {fun_local_with_free_vars, local_fun()}].

%% A fun of a module compiled here (not an erl_eval fun), with two free variables.
local_fun() ->
    Forms = [{attribute, 1, module, edist_golden_funs}, {attribute, 2, export, [{make, 2}]},
             {function, 3, make, 2,
              [{clause, 3, [{var, 3, 'A'}, {var, 3, 'B'}], [],
                [{'fun', 4, {clauses, [{clause, 4, [{var, 4, 'X'}], [],
                                        [{tuple, 4, [{var, 4, 'A'}, {var, 4, 'B'}, {var, 4, 'X'}]}]}]}}]}]}],
    {ok, Mod, Bin} = compile:forms(Forms, [binary]),
    {module, Mod} = code:load_binary(Mod, "edist_golden_funs.erl", Bin),
    Mod:make(<<"free">>, [1, 2]).

nested() ->
    [{nested_mixed, {ok, [#{key => {1, 2.5, <<"x">>}}, "str", 'Quoted Atom', [1 | 2]], -12345678901234567890}},
     {nested_deep_lists, lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 100))}].

%% --- Deprecated encodings: made by hand, their meaning confirmed by binary_to_term ----------

legacy_vectors() ->
    Latin1Node = <<100, 8:16, "cpp@host">>, % ATOM_EXT
    [{legacy_atom_ext, <<131, 100, 5:16, "hello">>, hello},
     {legacy_atom_ext_latin1, <<131, 100, 5:16, $h, 16#E9, "llo">>, list_to_atom("h" ++ [16#E9] ++ "llo")},
     {legacy_small_atom_ext, <<131, 115, 3, "abc">>, abc},
     {legacy_small_atom_ext_latin1, <<131, 115, 2, 16#C9, $a>>, list_to_atom([16#C9, $a])},
     {legacy_pid_ext, <<131, 103, Latin1Node/binary, 1:32, 2:32, 3>>, pid('cpp@host', 1, 2, 3)},
     {legacy_port_ext, <<131, 102, Latin1Node/binary, 4:32, 2>>, port('cpp@host', 4, 2)},
     {legacy_reference_ext, <<131, 101, Latin1Node/binary, 5:32, 1>>, ref('cpp@host', 1, [5])},
     {legacy_new_reference_ext, <<131, 114, 3:16, Latin1Node/binary, 2, 1:32, 2:32, 3:32>>,
      ref('cpp@host', 2, [1, 2, 3])},
     {legacy_float_ext, <<131, 99, (float_ext(0.1))/binary>>, 0.1},
     {legacy_float_ext_neg, <<131, 99, (float_ext(-1.5e300))/binary>>, -1.5e300},
     {legacy_integer_ext_small_value, <<131, 98, 5:32/signed>>, 5},
     {legacy_small_big_ext_small_value, <<131, 110, 1, 1, 7>>, -7}].

%% FLOAT_EXT: the float printed with "%.20e" in 31 bytes, zero padded.
float_ext(F) ->
    S = list_to_binary(io_lib:format("~.20e", [F])),
    <<S/binary, 0:((31 - byte_size(S)) * 8)>>.
