// Our state machine against byte strings recorded from a real erl (OTP 25.2.3), both roles.
// The transcripts come from tests/data/handshake/capture.escript (see its header for how to
// re-record). With the same name, flags, creation and challenge, we must write exactly what
// the recorded counterpart wrote, and accept exactly what erl wrote.
#include "handshake/handshake.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace edist;
using namespace edist::handshake;

namespace {

using Bytes = std::vector<std::uint8_t>;
const Time t0 = Time{} + std::chrono::hours(1);

struct Line {
    char who; // 'I' initiator, 'A' acceptor
    Bytes bytes;
};

std::vector<Line> transcript(const std::string& file) {
    std::ifstream in(std::string(EDIST_TEST_DATA_DIR) + "/handshake/" + file);
    EXPECT_TRUE(in) << file;
    std::vector<Line> lines;
    for (std::string text; std::getline(in, text);) {
        if (text.size() < 2 || text[0] == '#') continue;
        Line l{text[0], {}};
        for (std::size_t i = 2; i + 1 < text.size(); i += 2)
            l.bytes.push_back(static_cast<std::uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
        lines.push_back(std::move(l));
    }
    return lines;
}

Bytes cat(std::initializer_list<const Bytes*> parts) {
    Bytes out;
    for (auto* p : parts) out.insert(out.end(), p->begin(), p->end());
    return out;
}

} // namespace

TEST(Capture, OurInitiatorWritesWhatErlAcceptedAndCompletes) {
    const auto t = transcript("erl_acceptor.txt");
    ASSERT_EQ(t.size(), 5u);
    Config c;
    c.this_node = "cpp@localhost";
    c.this_creation = 0x0EDC0001;
    c.cookie = "capturecookie";
    c.peer_node = "erlcap@localhost";
    c.random32 = [] { return 0x01020304u; };
    Handshake a = Handshake::initiate(c, t0);
    EXPECT_EQ(a.take_output(), t[0].bytes);
    a.receive(cat({&t[1].bytes, &t[2].bytes}), t0); // erl's status and challenge
    EXPECT_EQ(a.take_output(), t[3].bytes);
    a.receive(t[4].bytes, t0);
    auto e = a.poll_event();
    ASSERT_TRUE(e && std::holds_alternative<Completed>(*e));
    const auto& done = std::get<Completed>(*e);
    EXPECT_EQ(done.peer_node, "erlcap@localhost");
    EXPECT_EQ(done.peer_flags, 0xD07DF7FBDu); // OTP 25's default offer + PUBLISHED
    EXPECT_EQ(done.negotiated_flags, dflag::EDIST_MINIMAL);
    EXPECT_NE(done.peer_creation, 0u);
    EXPECT_EQ(done.status, Status::ok);
}

TEST(Capture, OurAcceptorWritesWhatErlAcceptedAndKeepsItsFirstPacket) {
    const auto t = transcript("erl_initiator.txt");
    ASSERT_EQ(t.size(), 6u);
    Config c;
    c.this_node = "fakecpp@localhost";
    c.this_creation = 0x0EDC0002;
    c.cookie = "capturecookie";
    c.random32 = [] { return 0x0A0B0C0Du; };
    Handshake b = Handshake::accept(c, t0);
    b.receive(t[0].bytes, t0);
    auto q = b.poll_event();
    ASSERT_TRUE(q && std::holds_alternative<AcceptPending>(*q));
    EXPECT_EQ(std::get<AcceptPending>(*q).peer_node, "erlcap@localhost");
    EXPECT_EQ(b.accept_pending(ConnectionState::none, t0), Status::ok);
    EXPECT_EQ(b.take_output(), cat({&t[1].bytes, &t[2].bytes}));
    // erl's reply, and (as if it arrived in the same read) its first post-handshake packet.
    b.receive(cat({&t[3].bytes, &t[5].bytes}), t0);
    EXPECT_EQ(b.take_output(), t[4].bytes);
    auto e = b.poll_event();
    ASSERT_TRUE(e && std::holds_alternative<Completed>(*e));
    const auto& done = std::get<Completed>(*e);
    EXPECT_EQ(done.peer_node, "erlcap@localhost");
    EXPECT_EQ(done.rest, t[5].bytes);
    EXPECT_EQ(done.negotiated_flags, dflag::EDIST_MINIMAL);
}

TEST(Capture, ErlsAckFailsUnderAnotherCookie) {
    const auto t = transcript("erl_acceptor.txt");
    ASSERT_EQ(t.size(), 5u);
    Config c;
    c.this_node = "cpp@localhost";
    c.this_creation = 0x0EDC0001;
    c.cookie = "notthecookie";
    c.peer_node = "erlcap@localhost";
    c.random32 = [] { return 0x01020304u; };
    Handshake a = Handshake::initiate(c, t0);
    a.receive(cat({&t[1].bytes, &t[2].bytes, &t[4].bytes}), t0);
    auto e = a.poll_event();
    ASSERT_TRUE(e && std::holds_alternative<Failed>(*e));
    EXPECT_EQ(std::get<Failed>(*e).error.reason(), Atom("bad_cookie"));
}
