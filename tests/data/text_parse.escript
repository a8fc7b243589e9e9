#!/usr/bin/env escript
%% -*- coding: utf-8 -*-
%% For tests/interop/text_parse_interop_test.cpp: reads blobs of UTF-8 text (the format of
%% erl_runner.hpp) and writes, for each, term_to_binary({ok, Term}) when erl_scan:string and
%% erl_parse:parse_term read it as a term, else term_to_binary(error).
-mode(compile).

main([In, Out]) ->
    {ok, Bin} = file:read_file(In),
    Results = [term_to_binary(parse(unicode:characters_to_list(T))) || T <- blobs(Bin)],
    ok = file:write_file(Out, [[<<(byte_size(R)):32>>, R] || R <- Results]).

blobs(<<Len:32, Blob:Len/binary, Rest/binary>>) -> [Blob | blobs(Rest)];
blobs(<<>>) -> [].

parse(Text) when is_list(Text) ->
    try erl_scan:string(Text) of
        {ok, Tokens, _} ->
            WithDot = case lists:reverse(Tokens) of
                          [{dot, _} | _] -> Tokens;
                          _ -> Tokens ++ [{dot, 1}]
                      end,
            case erl_parse:parse_term(WithDot) of
                {ok, Term} -> {ok, Term};
                _ -> error
            end;
        _ -> error
    catch _:_ -> error
    end;
parse(_) -> error. % not UTF-8
