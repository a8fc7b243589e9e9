#!/usr/bin/env escript
%% Records real handshakes with erl, byte for byte, for tests/handshake/capture_test.cpp.
%%
%% Run (with a private epmd, so nothing else is disturbed):
%%   ERL_EPMD_PORT=43690 epmd -daemon
%%   ERL_EPMD_PORT=43690 escript tests/data/handshake/capture.escript tests/data/handshake
%%   ERL_EPMD_PORT=43690 epmd -kill
%%
%% 1. erl_acceptor.txt: this node (erlcap@localhost) accepts; a scripted client plays the
%%    initiator with fixed flags, creation and challenge, exactly as edist's initiator would.
%% 2. erl_initiator.txt: this node dials 'fakecpp@localhost' (net_adm:ping); a scripted
%%    acceptor registered in epmd answers with a fixed challenge. The first packet erl sends
%%    after the handshake (the ping's is_auth call) is recorded too.
%% Lines: "I " / "A " + hex of the bytes the initiator / acceptor wrote (length prefix
%% included); "# " comments. Cookie: capturecookie.
-mode(compile).

-define(COOKIE, "capturecookie").
-define(OFFER, 16#4075F5FBC).          % dflag::EDIST_MINIMAL
-define(OUR_CREATION, 16#0EDC0001).
-define(OUR_CHALLENGE, 16#01020304).
-define(FAKE_CREATION, 16#0EDC0002).
-define(FAKE_CHALLENGE, 16#0A0B0C0D).

main([Dir]) ->
    {ok, _} = net_kernel:start(['erlcap@localhost', shortnames]),
    erlang:set_cookie(node(), list_to_atom(?COOKIE)),
    capture_acceptor(filename:join(Dir, "erl_acceptor.txt")),
    capture_initiator(filename:join(Dir, "erl_initiator.txt")),
    io:format("captured OTP ~s, node ~p~n", [erlang:system_info(otp_release), node()]).

digest(Challenge) -> erlang:md5([?COOKIE | integer_to_list(Challenge)]).

frame(Bin) -> <<(byte_size(Bin)):16, Bin/binary>>.

line(Who, Bin) -> [Who, " ", binary:encode_hex(Bin), "\n"].

capture_acceptor(File) ->
    {port, Port, _} = erl_epmd:port_please("erlcap", "localhost"),
    {ok, S} = gen_tcp:connect("localhost", Port, [binary, {packet, 0}, {active, false}]),
    Name = <<"cpp@localhost">>,
    SendName = frame(<<$N, ?OFFER:64, ?OUR_CREATION:32, (byte_size(Name)):16, Name/binary>>),
    ok = gen_tcp:send(S, SendName),
    Status = recv_frame(S),
    <<_:16, $N, _Flags:64, Challenge:32, _/binary>> = ChallengeMsg = recv_frame(S),
    Reply = frame(<<$r, ?OUR_CHALLENGE:32, (digest(Challenge))/binary>>),
    ok = gen_tcp:send(S, Reply),
    Ack = recv_frame(S),
    <<_:16, $a, Sum/binary>> = Ack,
    Sum = digest(?OUR_CHALLENGE),
    gen_tcp:close(S),
    ok = file:write_file(File, [
        "# erl ", erlang:system_info(otp_release), " as acceptor (erlcap@localhost), initiator "
        "cpp@localhost, offer 16#4075F5FBC, creation 16#0EDC0001, challenge 16#01020304\n",
        line("I", SendName), line("A", Status), line("A", ChallengeMsg),
        line("I", Reply), line("A", Ack)]).

capture_initiator(File) ->
    {ok, L} = gen_tcp:listen(0, [binary, {packet, 0}, {active, false}, {reuseaddr, true}]),
    {ok, Port} = inet:port(L),
    EpmdPort = list_to_integer(os:getenv("ERL_EPMD_PORT", "4369")),
    {ok, E} = gen_tcp:connect("localhost", EpmdPort, [binary, {packet, 0}, {active, false}]),
    FakeName = <<"fakecpp">>,
    ok = gen_tcp:send(E, frame(<<120, Port:16, 72, 0, 6:16, 6:16, (byte_size(FakeName)):16,
                                 FakeName/binary, 0:16>>)),
    {ok, <<_, 0, _/binary>>} = gen_tcp:recv(E, 0, 5000),
    Self = self(),
    spawn(fun() -> Self ! {ping, net_adm:ping('fakecpp@localhost')} end),
    {ok, S} = gen_tcp:accept(L, 5000),
    <<_:16, $N, _/binary>> = SendName = recv_frame(S),
    Status = frame(<<"sok">>),
    Node = <<"fakecpp@localhost">>,
    ChallengeMsg = frame(<<$N, ?OFFER:64, ?FAKE_CHALLENGE:32, ?FAKE_CREATION:32,
                           (byte_size(Node)):16, Node/binary>>),
    ok = gen_tcp:send(S, [Status, ChallengeMsg]),
    <<_:16, $r, TheirChallenge:32, Sum/binary>> = Reply = recv_frame(S),
    Sum = digest(?FAKE_CHALLENGE),
    Ack = frame(<<$a, (digest(TheirChallenge))/binary>>),
    ok = gen_tcp:send(S, Ack),
    {ok, <<Len:32>>} = gen_tcp:recv(S, 4, 5000),
    {ok, First} = gen_tcp:recv(S, Len, 5000),
    gen_tcp:close(S),
    gen_tcp:close(E),
    receive {ping, _} -> ok after 10000 -> ok end,
    ok = file:write_file(File, [
        "# erl ", erlang:system_info(otp_release), " as initiator (erlcap@localhost) dialling "
        "fakecpp@localhost; acceptor offer 16#4075F5FBC, creation 16#0EDC0002, challenge "
        "16#0A0B0C0D. The last I line is erl's first packet after the handshake (4-byte framed).\n",
        line("I", SendName), line("A", Status), line("A", ChallengeMsg),
        line("I", Reply), line("A", Ack), line("I", <<Len:32, First/binary>>)]).

recv_frame(S) ->
    {ok, <<Len:16>>} = gen_tcp:recv(S, 2, 5000),
    {ok, Body} = gen_tcp:recv(S, Len, 5000),
    <<Len:16, Body/binary>>.
