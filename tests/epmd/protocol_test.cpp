// EPMD wire format. Byte strings marked "captured" were recorded from OTP 25 here:
//  - requests: tests/data/epmd/capture_requests.py (a listener that OTP's `epmd -names/-kill/
//    -stop`, `erl -sname` and erl_epmd:port_please/names were pointed at);
//  - replies: a Python socket script sending requests to `epmd -port P [-relaxed_command_check]`
//    and printing what came back (epmd's port 36425 = 0x8e49 in those runs).
#include "epmd/protocol.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace edist;
using namespace edist::epmd;
using namespace edist::epmd::protocol;
using namespace std::string_literals;

namespace {

Bytes hex(std::string_view h) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}
Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes framed(std::string_view body) {
    std::string packet;
    packet += static_cast<char>(body.size() >> 8);
    packet += static_cast<char>(body.size() & 0xff);
    packet += body;
    return bytes(packet);
}

// A node with the defaults OTP 25's erl registers with.
NodeInfo ni(std::string name, std::uint16_t port) { return {std::move(name), port, 'M', 0, 6, 5, ""}; }

Request parse_one(const Bytes& packet) {
    RequestParser p;
    auto ev = p.feed(packet);
    if (auto* e = std::get_if<Error>(&ev)) ADD_FAILURE() << e->what();
    EXPECT_TRUE(std::holds_alternative<Request>(ev));
    return std::holds_alternative<Request>(ev) ? std::get<Request>(ev) : Request{};
}

std::string parse_error(const Bytes& packet) {
    RequestParser p;
    auto ev = p.feed(packet);
    if (auto* e = std::get_if<Error>(&ev)) return e->what();
    return "<no error>";
}

}  // namespace

// --- requests as OTP's clients send them -----------------------------------------------------------

TEST(EpmdRequest, ErlAlive2RequestParsesAsCaptured) {
    // captured: erl -sname cap (OTP 25): port 36019, 'M', TCP, highest 6, lowest 5, no extra.
    auto req = parse_one(hex("0010788cb34d000006000500036361700000"));
    NodeInfo n{"cap", 0x8cb3, 'M', 0, 6, 5, ""};
    EXPECT_EQ(req, Request{Alive2Req{n}});
    EXPECT_EQ(encode_request(Alive2Req{n}).value(), hex("0010788cb34d000006000500036361700000"));
}

TEST(EpmdRequest, OtpClientRequestsRoundTrip) {
    // captured: epmd -names / -kill / -stop foo, erl_epmd:port_please("foo", ...).
    EXPECT_EQ(encode_request(NamesReq{}).value(), hex("00016e"));
    EXPECT_EQ(encode_request(KillReq{}).value(), hex("00016b"));
    EXPECT_EQ(encode_request(StopReq{"foo"}).value(), hex("000473666f6f"));
    EXPECT_EQ(encode_request(PortPlease2Req{"foo"}).value(), hex("00047a666f6f"));
    EXPECT_EQ(encode_request(DumpReq{}).value(), hex("000164"));
    EXPECT_EQ(parse_one(hex("00016e")), Request{NamesReq{}});
    EXPECT_EQ(parse_one(hex("00016b")), Request{KillReq{}});
    EXPECT_EQ(parse_one(hex("000164")), Request{DumpReq{}});
    EXPECT_EQ(parse_one(hex("000473666f6f")), Request{StopReq{"foo"}});
    EXPECT_EQ(parse_one(hex("00047a666f6f")), Request{PortPlease2Req{"foo"}});
}

TEST(EpmdRequest, ReferenceExampleEncodes) {
    NodeInfo n{"cpp", 5000, 'M', 0, 6, 6, ""};
    EXPECT_EQ(encode_request(Alive2Req{n}).value(), hex("0010781388" "4d00000600060003637070" "0000"));
}

TEST(EpmdRequest, ParserAsksForMoreUntilThePacketIsComplete) {
    Bytes pkt = hex("00047a666f6f");
    RequestParser p;
    for (std::size_t i = 0; i + 1 < pkt.size(); ++i)
        EXPECT_TRUE(std::holds_alternative<RequestParser::NeedMore>(p.feed(std::span(&pkt[i], 1))));
    auto ev = p.feed(std::span(&pkt.back(), 1));
    ASSERT_TRUE(std::holds_alternative<Request>(ev));
    EXPECT_EQ(std::get<Request>(ev), Request{PortPlease2Req{"foo"}});
    EXPECT_TRUE(std::holds_alternative<Error>(p.feed(pkt)));  // one request per connection
}

TEST(EpmdRequest, PacketLengthZeroOrAtInbufSizeIsRejected) {
    // verified: OTP 25 closes on Len 0 and on Len 3058 (want ≥ INBUF_SIZE), answers Len 3057.
    EXPECT_NE(parse_error(hex("0000")), "<no error>");
    Bytes big = {0x0b, 0xf2};  // 3058
    EXPECT_NE(parse_error(big), "<no error>");
    Bytes max(2 + 3057, 'n');
    max[0] = 0x0b;
    max[1] = 0xf1;
    EXPECT_EQ(parse_one(max), Request{NamesReq{}});
}

TEST(EpmdRequest, BytesBeyondThePacketInTheSameReadAreAnError) {
    // verified: OTP 25 hangs up without answering "\0\1nX" sent in one segment.
    EXPECT_NE(parse_error(bytes(std::string("\0\1nX", 4))), "<no error>");
}

TEST(EpmdRequest, ParserMemoryIsBoundedByInbufSize) {
    RequestParser p;
    Bytes flood(100000, 0x0b);  // Len 0x0b0b = 2827, then far too many bytes
    auto ev = p.feed(flood);
    EXPECT_TRUE(std::holds_alternative<Error>(ev));
    EXPECT_LE(p.buffered(), INBUF_SIZE);
}

TEST(EpmdRequest, UnknownOpcodeIsDropped) {
    // verified: OTP 25 closes without a reply ("got garbage").
    EXPECT_NE(parse_error(framed("Q")), "<no error>");
}

TEST(EpmdRequest, Alive2StructuralErrorsAreDropped) {
    // verified: no reply from OTP 25 for each of these.
    EXPECT_NE(parse_error(framed(std::string("x") + std::string(12, '\0'))), "<no error>");
    Bytes ok = encode_request(Alive2Req{ni("sh", 5000)}).value();
    std::string body(ok.begin() + 2, ok.end());
    EXPECT_NE(parse_error(framed(body.substr(0, body.size() - 1))), "<no error>");  // short Elen
    Bytes with_nul = encode_request(Alive2Req{ni("a_b", 5000)}).value();
    with_nul[2 + 12] = 0;  // "a\0b"
    EXPECT_NE(parse_error(with_nul), "<no error>");
    // Extra length pointing past the end.
    Bytes long_extra = encode_request(Alive2Req{NodeInfo{"e", 5000, 'M', 0, 6, 6, "E"}}).value();
    long_extra[2 + 12] = 9;
    EXPECT_NE(parse_error(long_extra), "<no error>");
}

TEST(EpmdRequest, Alive2AcceptsTrailingBytesAndEmptyNameLikeOtp) {
    // verified: OTP 25 registers "tr" when junk follows the extra field, and registers an
    // empty name when an extra byte makes the body long enough.
    Bytes pkt = encode_request(Alive2Req{ni("tr", 5000)}).value();
    std::string body(pkt.begin() + 2, pkt.end());
    auto req = parse_one(framed(body + "junk"));
    EXPECT_EQ(std::get<Alive2Req>(req).node.name, "tr");
    auto empty = parse_one(hex("000e78138800000006000500000001" "45"));
    EXPECT_EQ(std::get<Alive2Req>(empty).node.name, "");
    EXPECT_EQ(std::get<Alive2Req>(empty).node.extra, "E");
}

TEST(EpmdRequest, Alive2NameAndExtraLimitsAreRegistryChecks) {
    // verified: OTP 25 answers these with result 1 (creation 99), not by hanging up.
    EXPECT_FALSE(check_alive2(ni(std::string(255, 'n'), 1)).has_value());
    EXPECT_TRUE(check_alive2(ni(std::string(256, 'n'), 1)).has_value());
    std::string e_acute = "\xc3\xa9";
    std::string name255;
    for (int i = 0; i < 255; ++i) name255 += e_acute;
    EXPECT_FALSE(check_alive2(ni(name255, 1)).has_value());
    EXPECT_TRUE(check_alive2(ni("\xff\xfe", 1)).has_value());
    EXPECT_FALSE(check_alive2(NodeInfo{"e1", 1, 'M', 0, 6, 5, std::string(1020, 'E')}).has_value());
    EXPECT_TRUE(check_alive2(NodeInfo{"e2", 1, 'M', 0, 6, 5, std::string(1021, 'E')}).has_value());
    EXPECT_FALSE(encode_request(Alive2Req{ni(std::string(256, 'n'), 1)}).ok());
}

TEST(EpmdRequest, PortPlease2NameRules) {
    // verified: OTP 25 tolerates one trailing NUL, drops empty names, NUL inside, bad UTF-8,
    // and overlong names, all without a reply.
    EXPECT_EQ(parse_one(framed(std::string("zfoo\0", 5))), Request{PortPlease2Req{"foo"}});
    EXPECT_NE(parse_error(framed("z")), "<no error>");
    EXPECT_NE(parse_error(framed(std::string("z\0", 2))), "<no error>");
    EXPECT_NE(parse_error(framed(std::string("zf\0o", 4))), "<no error>");
    EXPECT_NE(parse_error(framed(std::string("zfoo\0\0", 6))), "<no error>");
    EXPECT_NE(parse_error(framed("z\xff")), "<no error>");
    EXPECT_NE(parse_error(framed("z" + std::string(256, 'n'))), "<no error>");
    // OTP 25 also drops a 255-character name (it counts the terminating NUL); we accept it.
    EXPECT_EQ(parse_one(framed("z" + std::string(255, 'n'))),
              Request{PortPlease2Req{std::string(255, 'n')}});
}

TEST(EpmdRequest, StopNameEndsAtNulAndMustNotBeEmpty) {
    // verified: "sfoo\0bar" stops "foo"; a bare "s" gets no reply.
    EXPECT_EQ(parse_one(framed(std::string("sfoo\0bar", 8))), Request{StopReq{"foo"}});
    EXPECT_NE(parse_error(framed("s")), "<no error>");
}

TEST(EpmdRequest, OtherRequestsIgnoreTrailingBody) {
    // verified: "nxyz" is answered like "n".
    EXPECT_EQ(parse_one(framed("nxyz")), Request{NamesReq{}});
}

TEST(EpmdRequest, EncoderRefusesWhatEpmdWouldDrop) {
    EXPECT_FALSE(encode_request(PortPlease2Req{""}).ok());
    EXPECT_FALSE(encode_request(PortPlease2Req{std::string("a\0b", 3)}).ok());
    EXPECT_FALSE(encode_request(Alive2Req{ni("", 1)}).ok());
    EXPECT_EQ(encode_request(StopReq{""}).error().reason(), Atom("badarg"));
}

// --- responses -------------------------------------------------------------------------------------

TEST(EpmdResponse, Alive2RepliesMatchOtp) {
    // captured: v6 register -> 76 00 6b01c59b; v5 -> 79 00 0002; duplicate -> 76 01 00000063.
    EXPECT_EQ(encode_alive2_resp(true, 0x6b01c59b, true), hex("76006b01c59b"));
    EXPECT_EQ(encode_alive2_resp(true, 2, false), hex("79000002"));
    EXPECT_EQ(encode_alive2_resp(false, ERROR_CREATION, true), hex("760100000063"));
    auto r = parse_alive2_resp(hex("76006b01c59b"), false);
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE((*r)->ok);
    EXPECT_EQ((*r)->creation, 0x6b01c59bu);
    auto v5 = parse_alive2_resp(hex("79000002"), false);
    ASSERT_TRUE(v5 && v5->ok());
    EXPECT_EQ((*v5)->creation, 2u);
    EXPECT_FALSE(parse_alive2_resp(hex("7600"), false).has_value());
    EXPECT_EQ(parse_alive2_resp(hex("7600"), true)->error().reason(), Atom("closed"));
    EXPECT_EQ(parse_alive2_resp(hex("41"), false)->error().reason(), Atom("garbage_from_epmd"));
}

TEST(EpmdResponse, Port2RepliesMatchOtp) {
    // captured: PORT_PLEASE2 "foo" registered by a v6/v5 node on 5000; unknown name -> 77 01.
    Bytes found = hex("770013884d00000600050003666f6f0000");
    NodeInfo n{"foo", 5000, 'M', 0, 6, 5, ""};
    EXPECT_EQ(encode_port2_resp(n), found);
    EXPECT_EQ(encode_port2_resp(std::nullopt), hex("7701"));
    for (std::size_t cut = 0; cut < found.size(); ++cut)
        EXPECT_FALSE(parse_port2_resp(std::span(found.data(), cut), false).has_value()) << cut;
    EXPECT_EQ(parse_port2_resp(found, false)->value(), std::optional<NodeInfo>(n));
    EXPECT_EQ(parse_port2_resp(hex("7701"), false)->value(), std::nullopt);
    EXPECT_EQ(parse_port2_resp(hex("7700"), true)->error().reason(), Atom("closed"));
}

TEST(EpmdResponse, NamesTextMatchesOtpAndParses) {
    // captured: NAMES with "bar" registered after "foo" (newest first).
    std::string wire = "\0\0\x8eIname bar at port 5000\nname foo at port 5000\n"s;
    Bytes reply = encode_port_header(36425);
    for (auto& l : {names_line("bar", 5000), names_line("foo", 5000)})
        reply.insert(reply.end(), l.begin(), l.end());
    EXPECT_EQ(reply, bytes(wire));
    std::uint32_t port = 0;
    auto names = parse_names(reply, port).value();
    EXPECT_EQ(port, 36425u);
    EXPECT_EQ(names, (std::vector<NameEntry>{{"bar", 5000}, {"foo", 5000}}));
    // A name with a space survives (erl_epmd would cut it); junk lines are skipped.
    std::string odd = "\0\0\x8eIname a b at port 7\ngarbage\nname x at port 99999\n"s;
    EXPECT_EQ(parse_names(bytes(odd), port).value(), (std::vector<NameEntry>{{"a b", 7}}));
}

TEST(EpmdResponse, DumpTextMatchesOtpIncludingTrailingNuls) {
    // captured: DUMP with two live names, and after "foo" unregistered (note the space
    // before "\n" and the NUL after every entry).
    std::string live = "\0\0\x8eI"
                       "active name     <bar> at port 5000, fd = 6\n\0"
                       "active name     <foo> at port 5000, fd = 5\n\0"s;
    Bytes reply = encode_port_header(36425);
    for (auto& l : {dump_line({true, "bar", 5000, 6}), dump_line({true, "foo", 5000, 5})})
        reply.insert(reply.end(), l.begin(), l.end());
    EXPECT_EQ(reply, bytes(live));
    std::string old_line = "old/unused name <foo>, port = 5000, fd = 6 \n\0"s;
    EXPECT_EQ(dump_line({false, "foo", 5000, 6}), old_line);
    Bytes both = reply;
    both.insert(both.end(), old_line.begin(), old_line.end());
    auto d = parse_dump(both).value();
    EXPECT_EQ(d.epmd_port, 36425u);
    EXPECT_EQ(d.entries, (std::vector<DumpEntry>{{true, "bar", 5000, 6},
                                                 {true, "foo", 5000, 5},
                                                 {false, "foo", 5000, 6}}));
}

TEST(EpmdResponse, KillAndStopReplies) {
    // captured: KILL -> "NO" with live names, "OK" otherwise; STOP -> "STOPPED", or
    // "NOEXISTSTOPPED" for an unknown name; nothing at all without relaxed_command_check.
    EXPECT_EQ(parse_kill_resp(bytes("OK"), false)->value(), true);
    EXPECT_EQ(parse_kill_resp(bytes("NO"), false)->value(), false);
    EXPECT_FALSE(parse_kill_resp(bytes("O"), false).has_value());
    EXPECT_FALSE(parse_kill_resp({}, true)->ok());
    EXPECT_EQ(parse_stop_resp(bytes("STOPPED"), false)->value(), StopResult::stopped);
    EXPECT_FALSE(parse_stop_resp(bytes("NOEXIST"), false).has_value());
    EXPECT_EQ(parse_stop_resp(bytes("NOEXISTSTOPPED"), false)->value(), StopResult::noexist);
    EXPECT_EQ(parse_stop_resp(bytes("NOEXIST"), true)->value(), StopResult::noexist);
    EXPECT_EQ(parse_stop_resp({}, true)->value(), StopResult::disallowed);
    EXPECT_FALSE(parse_stop_resp(bytes("HUH?"), false)->ok());
}

TEST(EpmdUtf8, CountsCharactersAndRejectsWhatOtpRejects) {
    EXPECT_EQ(utf8_length("abc"), 3);
    EXPECT_EQ(utf8_length("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 3);
    EXPECT_EQ(utf8_length("\xc0\x80"), -1);          // overlong NUL
    EXPECT_EQ(utf8_length("\xed\xa0\x80"), -1);      // surrogate
    EXPECT_EQ(utf8_length("\xf4\x90\x80\x80"), -1);  // > U+10FFFF
    EXPECT_EQ(utf8_length("\xe2\x82"), -1);          // truncated
}
