// The epmd server core, driven with plain bytes. Expected replies are what OTP 25's epmd
// answered to the same requests (a Python socket script against `epmd -port P`, with and
// without -relaxed_command_check; see tests/epmd/protocol_test.cpp for the raw captures).
#include "epmd/registry.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace edist;
using namespace edist::epmd;
using protocol::Bytes;
using namespace std::string_literals;
using namespace std::chrono_literals;
using Kind = ServerCore::Action::Kind;

namespace {

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes packet(const protocol::Request& r) { return protocol::encode_request(r).value(); }
Bytes alive2(std::string name, std::uint16_t high = 6, std::uint16_t port = 5000) {
    return packet(protocol::Alive2Req{NodeInfo{std::move(name), port, 'M', 0, high, 5, ""}});
}

// An ALIVE2_REQ built by hand, for names and extras our encoder refuses to send.
Bytes raw_alive2(const std::string& name, const std::string& extra = "") {
    std::string body = "x\x13\x88M\0\0\x06\0\x05"s;
    body += static_cast<char>(name.size() >> 8);
    body += static_cast<char>(name.size() & 0xff);
    body += name;
    body += static_cast<char>(extra.size() >> 8);
    body += static_cast<char>(extra.size() & 0xff);
    body += extra;
    std::string pkt;
    pkt += static_cast<char>(body.size() >> 8);
    pkt += static_cast<char>(body.size() & 0xff);
    return bytes(pkt + body);
}

struct Harness {
    explicit Harness(ServerCore::Options o = {}) : core(std::move(o)) {}
    ServerCore core;
    ServerCore::Clock::time_point t0 = ServerCore::Clock::now();
    std::int64_t unix_seconds = 1795278234;  // the wall clock OTP's epmd saw in our captures
    int next_id = 5;

    ServerCore::Now now() const { return {t0, unix_seconds}; }
    int connect(bool local = true) {
        int id = next_id++;
        auto a = core.open(id, local, t0);
        EXPECT_TRUE(a.empty());
        return id;
    }
    // Sends `data` on a new connection; returns the bytes written back to it.
    std::string request(const Bytes& data, bool local = true, bool* closed = nullptr) {
        int id = connect(local);
        return send(id, data, closed);
    }
    std::string send(int id, const Bytes& data, bool* closed = nullptr) {
        std::string out;
        bool was_closed = false;
        for (auto& a : core.receive(id, data, now())) {
            if (a.conn != id) continue;
            if (a.kind == Kind::write) out.append(a.bytes.begin(), a.bytes.end());
            if (a.kind == Kind::close) was_closed = true;
        }
        if (closed) *closed = was_closed;
        return out;
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (auto& n : core.registered()) out.push_back(n.name);
        return out;
    }
};

std::string hex(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += "0123456789abcdef"[c >> 4], out += "0123456789abcdef"[c & 15];
    return out;
}

}  // namespace

TEST(EpmdServerCore, FirstRegistrationGetsWallClockPlusOne) {
    // captured: at time() = 1795278234 OTP 25 answered 76 00 6b01c59b (1795278235).
    Harness h;
    bool closed = true;
    EXPECT_EQ(hex(h.request(alive2("foo"), true, &closed)), "76006b01c59b");
    EXPECT_FALSE(closed);  // the registration connection stays open
    EXPECT_EQ(h.names(), std::vector<std::string>{"foo"});
}

TEST(EpmdServerCore, Version5ClientsGetCreationModuloThreePlusOne) {
    // captured: "bar" with highest version 5 at the same second -> 79 00 0002.
    Harness h;
    EXPECT_EQ(hex(h.request(alive2("bar", 5))), "79000002");
}

TEST(EpmdServerCore, DuplicateNameIsRefusedWithCreation99AndConnectionKept) {
    // captured: 76 01 00000063, and OTP keeps that connection open.
    Harness h;
    h.request(alive2("foo"));
    bool closed = true;
    EXPECT_EQ(hex(h.request(alive2("foo"), true, &closed)), "760100000063");
    EXPECT_FALSE(closed);
}

TEST(EpmdServerCore, ReRegistrationBumpsTheCreation) {
    // captured: foo 1795278235; closed; registered again -> 1795278236; again as v5 -> 1.
    Harness h;
    int c1 = h.connect();
    h.send(c1, alive2("foo"));
    h.core.closed(c1);
    h.unix_seconds += 2;  // the counter, not the clock, decides
    EXPECT_EQ(hex(h.request(alive2("foo"))), "76006b01c59c");
    h.core.closed(h.next_id - 1);
    EXPECT_EQ(hex(h.request(alive2("foo", 5))), "79000001");
}

TEST(EpmdServerCore, CreationSkipsReservedValuesWhenTheCounterWraps) {
    Harness h;
    h.unix_seconds = 0xffffffff;  // +1 wraps to 0, which OTP forces up to 4
    EXPECT_EQ(hex(h.request(alive2("w"))), "760000000004");
}

TEST(EpmdServerCore, NamesListsNewestFirstWithTheListenPort) {
    // captured: "\0\0\x8eIname bar at port 5000\nname foo at port 5000\n".
    ServerCore::Options o;
    o.epmd_port = 36425;
    Harness h(o);
    h.request(alive2("foo"));
    h.request(alive2("bar", 5));
    bool closed = false;
    EXPECT_EQ(h.request(bytes("\0\1n"s), false, &closed),
              "\0\0\x8eIname bar at port 5000\nname foo at port 5000\n"s);
    EXPECT_TRUE(closed);
}

TEST(EpmdServerCore, DumpShowsActiveThenOldNamesWithTrailingNuls) {
    // captured: after foo (fd 6) unregistered and bar (fd 5) live:
    ServerCore::Options o;
    o.epmd_port = 56199;
    Harness h(o);
    int bar = h.connect();
    int foo = h.connect();
    h.send(bar, alive2("bar"));
    h.send(foo, alive2("foo"));
    h.core.closed(foo);
    EXPECT_EQ(h.request(bytes("\0\1d"s)),
              "\0\0\xdb\x87"
              "active name     <bar> at port 5000, fd = 5\n\0"
              "old/unused name <foo>, port = 5000, fd = 6 \n\0"s);
}

TEST(EpmdServerCore, AnyByteOnARegistrationEndsIt) {
    // verified: a registered node that writes one byte is unregistered and disconnected.
    Harness h;
    int c = h.connect();
    h.send(c, alive2("xb"));
    bool closed = false;
    EXPECT_EQ(h.send(c, bytes("!"), &closed), "");
    EXPECT_TRUE(closed);
    EXPECT_TRUE(h.names().empty());
    EXPECT_EQ(h.core.connection_count(), 0u);
}

TEST(EpmdServerCore, RegistrationEndsWhenItsConnectionCloses) {
    Harness h;
    int c = h.connect();
    h.send(c, alive2("gone"));
    EXPECT_TRUE(h.core.closed(c).empty());
    EXPECT_TRUE(h.names().empty());
    EXPECT_EQ(h.core.unregistered_count(), 1u);
}

TEST(EpmdServerCore, PortPleaseAnswersFoundAndNotFound) {
    Harness h;
    h.request(alive2("foo"));
    EXPECT_EQ(hex(h.request(packet(protocol::PortPlease2Req{"foo"}), false)),
              "770013884d00000600050003666f6f0000");
    EXPECT_EQ(hex(h.request(packet(protocol::PortPlease2Req{"zz"}), false)), "7701");
}

TEST(EpmdServerCore, OnlyLocalPeersMayRegisterDumpKillOrStop) {
    ServerCore::Options o;
    o.relaxed_command_check = true;
    Harness h(o);
    for (auto& req : {alive2("far"), bytes("\0\1d"s), bytes("\0\1k"s), bytes("\0\4sfoo"s)}) {
        bool closed = false;
        EXPECT_EQ(h.request(req, false, &closed), "");
        EXPECT_TRUE(closed);
    }
    EXPECT_TRUE(h.names().empty());
}

TEST(EpmdServerCore, KillIsRefusedWhileNamesAreRegisteredUnlessRelaxed) {
    // captured: "NO" with a live name, "OK" (and exit) with none.
    Harness h;
    int c = h.connect();
    h.send(c, alive2("foo"));
    EXPECT_EQ(h.request(bytes("\0\1k"s)), "NO");
    h.core.closed(c);
    int k = h.connect();
    auto actions = h.core.receive(k, bytes("\0\1k"s), h.now());
    ASSERT_GE(actions.size(), 2u);
    EXPECT_EQ(actions[0].kind, Kind::write);
    EXPECT_EQ(std::string(actions[0].bytes.begin(), actions[0].bytes.end()), "OK");
    EXPECT_EQ(actions[1].kind, Kind::exit);

    ServerCore::Options o;
    o.relaxed_command_check = true;
    Harness r(o);
    r.request(alive2("foo"));
    EXPECT_EQ(r.request(bytes("\0\1k"s)), "OK");
}

TEST(EpmdServerCore, StopNeedsRelaxedAndClosesTheNodesConnection) {
    // captured: without relaxed no answer; with it "STOPPED", or "NOEXISTSTOPPED".
    Harness strict;
    strict.request(alive2("foo"));
    EXPECT_EQ(strict.request(bytes("\0\4sfoo"s)), "");
    EXPECT_EQ(strict.names(), std::vector<std::string>{"foo"});

    ServerCore::Options o;
    o.relaxed_command_check = true;
    Harness h(o);
    int node = h.connect();
    h.send(node, alive2("foo"));
    int s = h.connect();
    auto actions = h.core.receive(s, bytes("\0\4sfoo"s), h.now());
    bool node_closed = false;
    std::string reply;
    for (auto& a : actions) {
        if (a.conn == node && a.kind == Kind::close) node_closed = true;
        if (a.conn == s && a.kind == Kind::write) reply.append(a.bytes.begin(), a.bytes.end());
    }
    EXPECT_TRUE(node_closed);
    EXPECT_EQ(reply, "STOPPED");
    EXPECT_TRUE(h.names().empty());
    EXPECT_EQ(h.request(bytes("\0\4sfoo"s)), "NOEXISTSTOPPED");
}

TEST(EpmdServerCore, BadRequestsAreClosedWithoutAnswer) {
    Harness h;
    for (auto& req : {bytes("\0\0"s), bytes("\0\1Q"s), bytes("\0\1nX"s), bytes("\x0b\xf2"s)}) {
        bool closed = false;
        EXPECT_EQ(h.request(req, true, &closed), "");
        EXPECT_TRUE(closed);
    }
    EXPECT_EQ(h.core.connection_count(), 0u);
}

TEST(EpmdServerCore, IdleRequestConnectionsTimeOutButRegistrationsDoNot) {
    ServerCore::Options o;
    o.packet_timeout = 60s;
    Harness h(o);
    int reg = h.connect();
    h.send(reg, alive2("stay"));
    int idle = h.connect();
    h.send(idle, bytes("\0"s));  // half a length field
    EXPECT_EQ(h.core.next_deadline(), h.t0 + 60s);
    EXPECT_TRUE(h.core.tick(h.t0 + 59s).empty());
    auto a = h.core.tick(h.t0 + 60s);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].conn, idle);
    EXPECT_EQ(a[0].kind, Kind::close);
    EXPECT_EQ(h.names(), std::vector<std::string>{"stay"});
    EXPECT_FALSE(h.core.next_deadline().has_value());
}

TEST(EpmdServerCore, ConnectionLimitDropsTheOldestIdleRequestFirst) {
    ServerCore::Options o;
    o.max_connections = 3;
    Harness h(o);
    int reg = h.connect();
    h.send(reg, alive2("keep"));
    int old_idle = h.connect();
    h.t0 += 1s;
    h.connect();
    auto a = h.core.open(100, true, h.t0);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].conn, old_idle);
    EXPECT_EQ(h.core.connection_count(), 3u);
    EXPECT_EQ(h.names(), std::vector<std::string>{"keep"});
}

TEST(EpmdServerCore, UnregisteredNamesAreRememberedUpToOtpsLimit) {
    ServerCore::Options o;
    o.debug = 1;  // OTP keeps 5 under -d, 1000 otherwise
    Harness h(o);
    for (int i = 0; i < 10; ++i) {
        int c = h.connect();
        h.send(c, alive2("n" + std::to_string(i)));
        h.core.closed(c);
    }
    EXPECT_LE(h.core.unregistered_count(), ServerCore::debug_max_unreg_count + 1);
}

TEST(EpmdServerCore, InvalidNamesGetAnErrorReplyLikeOtp) {
    // captured: 256-char name, bad UTF-8, extra of 1021 bytes -> 76 01 00000063; 255
    // characters and 1020 bytes of extra are fine.
    Harness h;
    EXPECT_EQ(hex(h.request(raw_alive2(std::string(256, 'n')))), "760100000063");
    EXPECT_EQ(hex(h.request(raw_alive2("\xff\xfe"))), "760100000063");
    EXPECT_EQ(hex(h.request(raw_alive2("e2", std::string(1021, 'E')))), "760100000063");
    EXPECT_EQ(hex(h.request(raw_alive2(std::string(255, 'n')))).substr(0, 4), "7600");
    EXPECT_EQ(hex(h.request(raw_alive2("e1", std::string(1020, 'E')))).substr(0, 4), "7600");
}
