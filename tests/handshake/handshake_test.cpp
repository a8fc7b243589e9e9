// The handshake state machine driven in memory: both roles against each other, and each role
// against hand-built messages for the paths a peer of ours would not take.
#include "handshake/digest.hpp"
#include "handshake/handshake.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace edist;
using namespace edist::handshake;
using namespace std::chrono_literals;

namespace {

const Time t0 = Time{} + 1000s;

Config initiator_config() {
    Config c;
    c.this_node = "a@localhost";
    c.this_creation = 0x11111111;
    c.cookie = "secret";
    c.peer_node = "b@localhost";
    return c;
}

Config acceptor_config() {
    Config c;
    c.this_node = "b@localhost";
    c.this_creation = 0x22222222;
    c.cookie = "secret";
    return c;
}

using Bytes = std::vector<std::uint8_t>;

Bytes frame(std::string_view body) {
    Bytes b(body.size() + 2);
    b[0] = static_cast<std::uint8_t>(body.size() >> 8);
    b[1] = static_cast<std::uint8_t>(body.size());
    std::copy(body.begin(), body.end(), b.begin() + 2);
    return b;
}

std::string be(std::uint64_t v, int bytes) {
    std::string s;
    for (int i = bytes - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

std::string name_msg(DistFlags flags, std::uint32_t creation, std::string_view name) {
    return "N" + be(flags, 8) + be(creation, 4) + be(name.size(), 2) + std::string(name);
}

std::string challenge_msg(DistFlags flags, std::uint32_t challenge, std::uint32_t creation,
                          std::string_view name) {
    return "N" + be(flags, 8) + be(challenge, 4) + be(creation, 4) + be(name.size(), 2) +
           std::string(name);
}

std::string digest_text(std::uint32_t challenge, std::string_view cookie) {
    const Digest d = gen_digest(challenge, cookie);
    return std::string(d.begin(), d.end());
}

template <class T>
std::optional<T> next(Handshake& hs) {
    auto e = hs.poll_event();
    if (!e) return std::nullopt;
    if (auto* v = std::get_if<T>(&*e)) return std::move(*v);
    if (auto* f = std::get_if<Failed>(&*e)) ADD_FAILURE() << "Failed: " << f->error.what();
    else ADD_FAILURE() << "unexpected event index " << e->index();
    return std::nullopt;
}

Failed expect_failed(Handshake& hs) {
    for (auto e = hs.poll_event(); e; e = hs.poll_event())
        if (auto* f = std::get_if<Failed>(&*e)) return *f;
    ADD_FAILURE() << "no Failed event";
    return Failed{Error(atoms::undefined, "")};
}

// Moves bytes both ways and answers the acceptor's question with `state` until nothing moves.
struct Pair {
    Handshake a, b;
    ConnectionState state = ConnectionState::none;
    bool still_pending = true;
    std::vector<Event> a_events, b_events;

    Pair(Config ca, Config cb) : a(Handshake::initiate(ca, t0)), b(Handshake::accept(cb, t0)) {}

    void run(Time now = t0) {
        for (bool moved = true; moved;) {
            moved = false;
            if (auto out = a.take_output(); !out.empty()) { b.receive(out, now); moved = true; }
            if (auto out = b.take_output(); !out.empty()) { a.receive(out, now); moved = true; }
            while (auto e = a.poll_event()) {
                if (std::holds_alternative<IsPending>(*e)) a.is_pending(still_pending, now);
                a_events.push_back(std::move(*e));
                moved = true;
            }
            while (auto e = b.poll_event()) {
                if (std::holds_alternative<AcceptPending>(*e)) b.accept_pending(state, now);
                if (std::holds_alternative<WaitPending>(*e)) b.pending_released(now);
                b_events.push_back(std::move(*e));
                moved = true;
            }
        }
    }
    template <class T>
    static const T* find(const std::vector<Event>& es) {
        for (auto& e : es)
            if (auto* v = std::get_if<T>(&e)) return v;
        return nullptr;
    }
};

} // namespace

TEST(Handshake, BothRolesCompleteAndAgreeOnNamesFlagsAndCreations) {
    Config ca = initiator_config(), cb = acceptor_config();
    cb.offer = dflag::OTP_DEFAULT | dflag::PUBLISHED;
    Pair p(ca, cb);
    p.run();
    auto* a = Pair::find<Completed>(p.a_events);
    auto* b = Pair::find<Completed>(p.b_events);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->peer_node, "b@localhost");
    EXPECT_EQ(b->peer_node, "a@localhost");
    EXPECT_EQ(a->peer_creation, 0x22222222u);
    EXPECT_EQ(b->peer_creation, 0x11111111u);
    EXPECT_EQ(a->this_node, "a@localhost");
    EXPECT_EQ(a->negotiated_flags, dflag::EDIST_MINIMAL & (dflag::OTP_DEFAULT | dflag::PUBLISHED));
    EXPECT_EQ(a->negotiated_flags, b->negotiated_flags);
    EXPECT_FALSE(a->published());
    EXPECT_EQ(a->status, Status::ok);
    EXPECT_TRUE(a->rest.empty());
    EXPECT_TRUE(p.a.done() && !p.a.failed() && p.b.done() && !p.b.failed());
}

TEST(Handshake, PublishedOnlyWhenBothOfferIt) {
    Config ca = initiator_config(), cb = acceptor_config();
    ca.offer |= dflag::PUBLISHED;
    cb.offer |= dflag::PUBLISHED;
    Pair p(ca, cb);
    p.run();
    auto* a = Pair::find<Completed>(p.a_events);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->published());
}

TEST(Handshake, InitiatorSendsVersion6NameMessageFirst) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    EXPECT_EQ(a.take_output(), frame(name_msg(dflag::EDIST_MINIMAL, 0x11111111, "a@localhost")));
}

TEST(Handshake, BytesAfterTheAckBelongToTheConnection) {
    Pair p(initiator_config(), acceptor_config());
    // Run until the acceptor has sent 'a', then hand it to the initiator with extra bytes.
    p.b.receive(p.a.take_output(), t0);
    ASSERT_TRUE(p.b.poll_event());
    p.b.accept_pending(ConnectionState::none, t0);
    p.a.receive(p.b.take_output(), t0); // status + challenge
    p.b.receive(p.a.take_output(), t0); // challenge reply
    Bytes ack = p.b.take_output();
    const Bytes tick{0, 0, 0, 0, 0, 0, 0, 5, 'h'};
    ack.insert(ack.end(), tick.begin(), tick.end());
    p.a.receive(ack, t0);
    auto c = next<Completed>(p.a);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->rest, tick);
}

TEST(Handshake, MessagesSplitIntoSingleBytesStillComplete) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    Handshake b = Handshake::accept(acceptor_config(), t0);
    auto trickle = [](Handshake& to, const Bytes& bytes) {
        for (auto byte : bytes) to.receive(std::span(&byte, 1), t0);
    };
    trickle(b, a.take_output());
    ASSERT_TRUE(next<AcceptPending>(b));
    b.accept_pending(ConnectionState::none, t0);
    trickle(a, b.take_output());
    trickle(b, a.take_output());
    trickle(a, b.take_output());
    EXPECT_TRUE(next<Completed>(a));
    EXPECT_TRUE(next<Completed>(b));
}

TEST(Handshake, FourByteFramingForTls) {
    Config ca = initiator_config(), cb = acceptor_config();
    ca.framing = cb.framing = Framing::len32;
    Pair p(ca, cb);
    Bytes first = Handshake::initiate(ca, t0).take_output();
    ASSERT_GE(first.size(), 5u);
    EXPECT_EQ(first[0], 0);
    EXPECT_EQ(first[1], 0);
    EXPECT_EQ(first[4], 'N');
    p.run();
    EXPECT_TRUE(Pair::find<Completed>(p.a_events));
    EXPECT_TRUE(Pair::find<Completed>(p.b_events));
}

TEST(Handshake, WrongCookieIsRefusedByTheAcceptor) {
    Config ca = initiator_config();
    ca.cookie = "other";
    Pair p(ca, acceptor_config());
    p.run();
    auto* f = Pair::find<Failed>(p.b_events);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->error.reason(), Atom("bad_cookie"));
    EXPECT_NE(std::string(f->error.what()).find("a@localhost"), std::string::npos);
    // The acceptor just closes, as OTP does; the initiator sees the close.
    p.a.receive_eof(t0);
    EXPECT_EQ(expect_failed(p.a).error.reason(), Atom("closed"));
}

TEST(Handshake, WrongAckDigestIsRefusedByTheInitiator) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    a.take_output();
    a.receive(frame("sok"), t0);
    a.receive(frame(challenge_msg(dflag::OTP_DEFAULT, 42, 7, "b@localhost")), t0);
    Bytes reply = a.take_output();
    ASSERT_EQ(reply.size(), 2u + 21u);
    EXPECT_EQ(std::string(reply.begin() + 7, reply.end()), digest_text(42, "secret"));
    a.receive(frame("a" + digest_text(0, "secret")), t0); // not the digest of our challenge
    const Failed f = expect_failed(a);
    EXPECT_EQ(f.error.reason(), Atom("bad_cookie"));
}

TEST(Handshake, AcceptorRefusesPeerWithoutOtp26MandatoryFlagsNamingThem) {
    Config ca = initiator_config();
    ca.offer = dflag::MANDATORY_25; // an OTP 25 node that rejected V4_NC and UNLINK_ID
    Pair p(ca, acceptor_config());
    p.run();
    auto* fb = Pair::find<Failed>(p.b_events);
    ASSERT_TRUE(fb);
    EXPECT_EQ(fb->error.reason(), Atom("check_dflags_failed"));
    EXPECT_NE(std::string(fb->error.what()).find("cannot handle [\"V4_NC\",\"UNLINK_ID\"]"),
              std::string::npos)
        << fb->error.what();
    auto* fa = Pair::find<Failed>(p.a_events);
    ASSERT_TRUE(fa);
    EXPECT_EQ(fa->error.reason(), Atom("not_allowed"));
}

TEST(Handshake, InitiatorAbortsWhenAcceptorLacksRequiredFlags) {
    Config cb = acceptor_config();
    cb.offer = dflag::MANDATORY_26 & ~dflag::BIG_CREATION;
    Config ca = initiator_config();
    Pair p(ca, cb);
    p.run();
    auto* fa = Pair::find<Failed>(p.a_events);
    ASSERT_TRUE(fa);
    EXPECT_EQ(fa->error.reason(), Atom("check_dflags_failed"));
    EXPECT_NE(std::string(fa->error.what()).find("[\"BIG_CREATION\"]"), std::string::npos);
}

TEST(Handshake, Mandatory25DigestStandsForItsFlags) {
    Config ca = initiator_config();
    ca.offer = dflag::MANDATORY_25_DIGEST | dflag::V4_NC | dflag::UNLINK_ID;
    Pair p(ca, acceptor_config());
    p.run();
    auto* b = Pair::find<Completed>(p.b_events);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->peer_flags & dflag::MANDATORY_26, dflag::MANDATORY_26);
}

TEST(Handshake, SimultaneousConnectLargerNameWins) {
    EXPECT_EQ(simultaneous_connect_status("b@h", "a@h"), Status::nok);
    EXPECT_EQ(simultaneous_connect_status("a@h", "b@h"), Status::ok_simultaneous);

    // We (b) are larger: the peer's attempt gets nok and our own attempt goes on.
    Pair lose(initiator_config(), acceptor_config());
    lose.state = ConnectionState::pending;
    lose.run();
    ASSERT_TRUE(Pair::find<Failed>(lose.b_events));
    EXPECT_EQ(Pair::find<Failed>(lose.b_events)->error.reason(), Atom("nok"));
    ASSERT_TRUE(Pair::find<Failed>(lose.a_events));
    EXPECT_EQ(Pair::find<Failed>(lose.a_events)->error.reason(), Atom("nok"));

    // The peer (c) is larger: ok_simultaneous, and its attempt completes.
    Config ca = initiator_config();
    ca.this_node = "c@localhost";
    Pair win(ca, acceptor_config());
    win.state = ConnectionState::pending;
    win.run();
    auto* b = Pair::find<Completed>(win.b_events);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, Status::ok_simultaneous);
    ASSERT_TRUE(Pair::find<Completed>(win.a_events));
}

TEST(Handshake, AliveAnsweredTrueReplacesTheOldConnectionAfterItIsReleased) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    Handshake b = Handshake::accept(acceptor_config(), t0);
    b.receive(a.take_output(), t0);
    ASSERT_TRUE(next<AcceptPending>(b));
    EXPECT_EQ(b.accept_pending(ConnectionState::up, t0), Status::alive);
    a.receive(b.take_output(), t0);
    auto q = next<IsPending>(a);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->peer_node, "b@localhost");
    a.is_pending(true, t0);
    b.receive(a.take_output(), t0); // 'strue'
    a.receive(b.take_output(), t0); // challenge
    b.receive(a.take_output(), t0); // reply
    ASSERT_TRUE(next<WaitPending>(b));
    EXPECT_TRUE(b.take_output().empty()) << "no ack before the old connection is gone";
    b.pending_released(t0);
    auto cb = next<Completed>(b);
    ASSERT_TRUE(cb);
    EXPECT_EQ(cb->status, Status::alive);
    a.receive(b.take_output(), t0);
    EXPECT_TRUE(next<Completed>(a));
}

TEST(Handshake, AliveAnsweredFalseEndsBothSides) {
    Pair p(initiator_config(), acceptor_config());
    p.state = ConnectionState::up;
    p.still_pending = false;
    p.run();
    EXPECT_EQ(Pair::find<Failed>(p.a_events)->error.reason(), Atom("alive"));
    EXPECT_EQ(Pair::find<Failed>(p.b_events)->error.reason(), Atom("alive"));
}

TEST(Handshake, AlreadyPendingClosesSilently) {
    Handshake b = Handshake::accept(acceptor_config(), t0);
    b.receive(Handshake::initiate(initiator_config(), t0).take_output(), t0);
    ASSERT_TRUE(next<AcceptPending>(b));
    EXPECT_EQ(b.accept_pending(ConnectionState::up_pending, t0), std::nullopt);
    EXPECT_TRUE(b.take_output().empty());
    EXPECT_EQ(expect_failed(b).error.reason(), Atom("already_pending"));
}

TEST(Handshake, UnnamedInitiatorIsNamedByTheAcceptor) {
    Config ca = initiator_config();
    ca.this_node = "localhost";
    ca.this_creation = 0;
    ca.ask_for_name = true;
    ca.offer |= dflag::PUBLISHED; // never published while unnamed
    Handshake a = Handshake::initiate(ca, t0);
    Bytes first = a.take_output();
    EXPECT_EQ(first, frame(name_msg((dflag::EDIST_MINIMAL) | dflag::NAME_ME, 0, "localhost")));

    Handshake b = Handshake::accept(acceptor_config(), t0);
    b.receive(first, t0);
    auto q1 = next<AcceptPending>(b);
    ASSERT_TRUE(q1);
    EXPECT_TRUE(q1->named_by_us);
    EXPECT_TRUE(q1->peer_node.ends_with("@localhost"));
    // The first name is taken: the acceptor makes up another.
    EXPECT_EQ(b.accept_pending(ConnectionState::up, t0), std::nullopt);
    auto q2 = next<AcceptPending>(b);
    ASSERT_TRUE(q2);
    EXPECT_EQ(b.accept_pending(ConnectionState::none, t0), Status::named);
    a.receive(b.take_output(), t0);
    b.receive(a.take_output(), t0);
    a.receive(b.take_output(), t0);
    auto cb = next<Completed>(b);
    auto ca_done = next<Completed>(a);
    ASSERT_TRUE(cb && ca_done);
    EXPECT_EQ(ca_done->this_node, q2->peer_node);
    EXPECT_EQ(cb->peer_node, q2->peer_node);
    EXPECT_EQ(ca_done->this_creation, cb->peer_creation);
    EXPECT_GE(cb->peer_creation, 4u);
    EXPECT_EQ(ca_done->status, Status::named);
    EXPECT_TRUE(cb->negotiated_flags & dflag::NAME_ME);
    EXPECT_FALSE(cb->published());
}

TEST(Handshake, NamedStatusMustBeOnOurHost) {
    Config ca = initiator_config();
    ca.this_node = "localhost";
    ca.ask_for_name = true;
    Handshake a = Handshake::initiate(ca, t0);
    a.receive(frame("snamed:" + be(8, 2) + "x@elsewh" + be(9, 4)), t0);
    EXPECT_EQ(expect_failed(a).error.reason(), Atom("recv_status_failed"));
}

TEST(Handshake, UnnamedInitiatorRefusesPlainOk) {
    Config ca = initiator_config();
    ca.this_node = "localhost";
    ca.ask_for_name = true;
    Handshake a = Handshake::initiate(ca, t0);
    a.receive(frame("sok"), t0);
    EXPECT_EQ(expect_failed(a).error.reason(), Atom("recv_status_failed"));
}

TEST(Handshake, DynamicNamesCanBeTurnedOff) {
    Config cb = acceptor_config();
    cb.allow_dynamic_names = false;
    Handshake b = Handshake::accept(cb, t0);
    b.receive(frame(name_msg(dflag::OTP_DEFAULT | dflag::NAME_ME, 0, "localhost")), t0);
    EXPECT_EQ(b.take_output(), frame("snot_allowed"));
    EXPECT_EQ(expect_failed(b).error.reason(), Atom("not_allowed"));
}

TEST(Handshake, OldNameMessageWithComplementIsAccepted) {
    Config cb = acceptor_config();
    cb.random32 = [] { return 0xCAFEF00Du; };
    Handshake b = Handshake::accept(cb, t0);
    const DistFlags flags = dflag::OTP_DEFAULT;
    b.receive(frame("n" + be(5, 2) + be(flags & 0xffffffff, 4) + "old@localhost"), t0);
    auto q = next<AcceptPending>(b);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->peer_node, "old@localhost");
    b.accept_pending(ConnectionState::none, t0);
    Bytes out = b.take_output();
    Bytes expected = frame("sok");
    Bytes ch = frame(challenge_msg(dflag::EDIST_MINIMAL, 0xCAFEF00D, 0x22222222, "b@localhost"));
    expected.insert(expected.end(), ch.begin(), ch.end());
    EXPECT_EQ(out, expected);
    b.receive(frame("c" + be(flags >> 32, 4) + be(77, 4)), t0);
    b.receive(frame("r" + be(5, 4) + digest_text(0xCAFEF00D, "secret")), t0);
    auto c = next<Completed>(b);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->peer_creation, 77u);
    EXPECT_EQ(c->peer_flags & dflag::V4_NC, dflag::V4_NC);
    EXPECT_EQ(b.take_output(), frame("a" + digest_text(5, "secret")));
}

TEST(Handshake, AcceptorRefusesAPeerClaimingItsOwnName) {
    Handshake b = Handshake::accept(acceptor_config(), t0);
    b.receive(frame(name_msg(dflag::EDIST_MINIMAL, 7, "b@localhost")), t0);
    EXPECT_EQ(b.take_output(), frame("snot_allowed"));
    const Failed f = expect_failed(b);
    EXPECT_EQ(f.error.reason(), Atom("not_allowed"));
    EXPECT_NE(std::string(f.error.what()).find("claiming this node's name"), std::string::npos) << f.error.what();
}

TEST(Handshake, AcceptorRefusesNamesWithControlCharacters) {
    for (std::string name : {std::string("evil\nwarning: forged@localhost"), std::string("a\x1b[31m@localhost"),
                             std::string("a\0b@localhost", 13), std::string("a\x7f@localhost")}) {
        Handshake b = Handshake::accept(acceptor_config(), t0);
        b.receive(frame(name_msg(dflag::EDIST_MINIMAL, 7, name)), t0);
        const Failed f = expect_failed(b);
        EXPECT_EQ(f.error.reason(), Atom("recv_name_failed")) << f.error.what();
        EXPECT_EQ(std::string(f.error.what()).find('\n'), std::string::npos) << "the message quotes it escaped";
    }
}

TEST(Handshake, OldNameMessageNeedsHandshake23) {
    Handshake b = Handshake::accept(acceptor_config(), t0);
    b.receive(frame("n" + be(5, 2) + be(dflag::MANDATORY_24, 4) + "old@localhost"), t0);
    EXPECT_EQ(b.take_output(), frame("snot_allowed"));
    const Failed f = expect_failed(b);
    EXPECT_EQ(f.error.reason(), Atom("check_dflags_failed"));
    EXPECT_NE(std::string(f.error.what()).find("HANDSHAKE_23"), std::string::npos);
}

TEST(Handshake, OldNameMessageComplementLackingHighFlagsIsNotAllowed) {
    Handshake b = Handshake::accept(acceptor_config(), t0);
    b.receive(frame("n" + be(5, 2) + be(dflag::OTP_DEFAULT & 0xffffffff, 4) + "old@localhost"), t0);
    ASSERT_TRUE(next<AcceptPending>(b));
    b.accept_pending(ConnectionState::none, t0);
    b.take_output();
    b.receive(frame("c" + be(0, 4) + be(77, 4)), t0); // no V4_NC in the high word
    EXPECT_EQ(b.take_output(), frame("snot_allowed"));
    const Failed f = expect_failed(b);
    EXPECT_NE(std::string(f.error.what()).find("[\"V4_NC\"]"), std::string::npos) << f.error.what();
}

TEST(Handshake, OldNameMessageRefusedWhenTurnedOff) {
    Config cb = acceptor_config();
    cb.accept_old_name = false;
    Handshake b = Handshake::accept(cb, t0);
    b.receive(frame("n" + be(5, 2) + be(dflag::OTP_DEFAULT & 0xffffffff, 4) + "old@localhost"), t0);
    EXPECT_EQ(expect_failed(b).error.reason(), Atom("recv_name_failed"));
}

TEST(Handshake, EveryStepHasItsOwnDeadline) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    ASSERT_EQ(a.deadline(), t0 + 7s);
    a.handle_timeout(t0 + 6999ms);
    EXPECT_FALSE(a.done());
    a.receive(frame("sok"), t0 + 5s); // the next step gets a fresh 7 s
    EXPECT_EQ(a.deadline(), t0 + 12s);
    a.handle_timeout(t0 + 11s);
    EXPECT_FALSE(a.done());
    a.handle_timeout(t0 + 12s);
    const Failed f = expect_failed(a);
    EXPECT_EQ(f.error.reason(), atoms::timeout);
    EXPECT_NE(std::string(f.error.what()).find("challenge"), std::string::npos) << f.error.what();
    EXPECT_FALSE(a.deadline());
}

TEST(Handshake, StalledAcceptorTimesOutWaitingForTheName) {
    Config cb = acceptor_config();
    cb.setup_time = 100ms;
    Handshake b = Handshake::accept(cb, t0);
    b.receive(Bytes{0, 20, 'N', 0, 0}, t0 + 50ms); // a partial message does not reset the clock
    b.handle_timeout(t0 + 100ms);
    EXPECT_EQ(expect_failed(b).error.reason(), atoms::timeout);
}

TEST(Handshake, LateBytesAfterTheDeadlineAreATimeout) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    a.receive(frame("sok"), t0 + 8s);
    EXPECT_EQ(expect_failed(a).error.reason(), atoms::timeout);
}

TEST(Handshake, GarbageAndTruncatedMessagesFailCleanly) {
    struct Case {
        std::string body;
        const char* reason;
    };
    for (const Case& c : std::vector<Case>{
             {"X", "recv_name_failed"},
             {"N", "recv_name_failed"},
             {"N" + be(dflag::OTP_DEFAULT, 8) + be(1, 4) + be(50, 2) + "a@b", "recv_name_failed"},
             {name_msg(dflag::OTP_DEFAULT, 1, "nohost"), "recv_name_failed"},
             {name_msg(dflag::OTP_DEFAULT, 1, "a@b@c"), "recv_name_failed"},
             {name_msg(dflag::OTP_DEFAULT, 1, "@b"), "recv_name_failed"},
             {name_msg(dflag::OTP_DEFAULT, 1, "a@"), "recv_name_failed"},
             {name_msg(dflag::OTP_DEFAULT, 1, "a\xff@b"), "recv_name_failed"},
             {name_msg(dflag::OTP_DEFAULT, 0, "a@b"), "recv_name_failed"},
             {"n" + be(5, 2), "recv_name_failed"},
         }) {
        Handshake b = Handshake::accept(acceptor_config(), t0);
        b.receive(frame(c.body), t0);
        const Failed f = expect_failed(b);
        EXPECT_EQ(f.error.reason(), Atom(c.reason)) << c.body << ": " << f.error.what();
    }
    Handshake b = Handshake::accept(acceptor_config(), t0);
    b.receive(Bytes{0, 0}, t0);
    EXPECT_EQ(expect_failed(b).error.reason(), Atom("recv_name_failed"));

    for (const char* status : {"sbogus", "x", "s", "snamed:"}) {
        Handshake a = Handshake::initiate(initiator_config(), t0);
        a.receive(frame(status), t0);
        EXPECT_EQ(expect_failed(a).error.reason(), Atom("recv_status_failed")) << status;
    }
    for (const std::string& ch :
         {std::string("N123"), challenge_msg(dflag::OTP_DEFAULT, 1, 2, "zz@localhost"),
          challenge_msg(dflag::OTP_DEFAULT, 1, 0, "b@localhost"), std::string("a")}) {
        Handshake a = Handshake::initiate(initiator_config(), t0);
        a.receive(frame("sok"), t0);
        a.receive(frame(ch), t0);
        EXPECT_EQ(expect_failed(a).error.reason(), Atom("recv_challenge_failed")) << ch;
    }
}

TEST(Handshake, StatusNotAllowedAndNokAreReportedAsSuch) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    a.receive(frame("snot_allowed"), t0);
    EXPECT_EQ(expect_failed(a).error.reason(), Atom("not_allowed"));
    Handshake a2 = Handshake::initiate(initiator_config(), t0);
    a2.receive(frame("snok"), t0);
    EXPECT_EQ(expect_failed(a2).error.reason(), Atom("nok"));
}

TEST(Handshake, AllowListAdmitsNodeHostOrName) {
    for (auto [entry, admitted] : std::vector<std::pair<std::string, bool>>{
             {"a@localhost", true}, {"localhost", true}, {"a@", true}, {"x@localhost", false},
             {"otherhost", false}, {"b@", false}}) {
        Config cb = acceptor_config();
        cb.allowed = {entry};
        Pair p(initiator_config(), cb);
        p.run();
        EXPECT_EQ(Pair::find<Completed>(p.b_events) != nullptr, admitted) << entry;
        if (!admitted) {
            EXPECT_EQ(Pair::find<Failed>(p.a_events)->error.reason(), Atom("not_allowed"));
        }
    }
}

TEST(Handshake, ShortAndLongNamesAreCheckedWhenDialling) {
    EXPECT_TRUE(host_fits("localhost", NameMode::shortnames));
    EXPECT_FALSE(host_fits("host.example.org", NameMode::shortnames));
    EXPECT_FALSE(host_fits("127.0.0.1", NameMode::shortnames));
    EXPECT_TRUE(host_fits("host.example.org", NameMode::longnames));
    EXPECT_TRUE(host_fits("127.0.0.1", NameMode::longnames));
    EXPECT_TRUE(host_fits("::1", NameMode::longnames));
    EXPECT_FALSE(host_fits("localhost", NameMode::longnames));

    Config ca = initiator_config();
    ca.name_mode = NameMode::shortnames;
    ca.peer_node = "b@host.example.org";
    Handshake a = Handshake::initiate(ca, t0);
    EXPECT_TRUE(a.take_output().empty());
    EXPECT_EQ(expect_failed(a).error.reason(), atoms::badarg);

    Config cb = acceptor_config();
    cb.name_mode = NameMode::longnames;
    cb.check_peer_name_mode = true;
    Pair p(initiator_config(), cb);
    p.run();
    EXPECT_EQ(Pair::find<Failed>(p.b_events)->error.reason(), Atom("not_allowed"));
}

TEST(Handshake, BadConfigFailsAtOnceWithoutWriting) {
    Config ca = initiator_config();
    ca.this_creation = 0;
    Handshake a = Handshake::initiate(ca, t0);
    EXPECT_TRUE(a.take_output().empty());
    EXPECT_EQ(expect_failed(a).error.reason(), atoms::badarg);
    Config cb = acceptor_config();
    cb.cookie.clear();
    Handshake b = Handshake::accept(cb, t0);
    EXPECT_EQ(expect_failed(b).error.reason(), atoms::badarg);
}

TEST(Handshake, AnswersOutOfTurnAreIgnored) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    a.take_output();
    a.is_pending(true, t0);
    EXPECT_TRUE(a.take_output().empty());
    Handshake b = Handshake::accept(acceptor_config(), t0);
    EXPECT_EQ(b.accept_pending(ConnectionState::none, t0), std::nullopt);
    b.pending_released(t0);
    EXPECT_TRUE(b.take_output().empty());
    EXPECT_FALSE(b.done());
}

TEST(Handshake, UnnamedPeerPassesTheAllowListOnlyByHost) {
    for (auto [entry, admitted] : std::vector<std::pair<std::string, bool>>{
             {"localhost", true}, {"a@localhost", false}, {"otherhost", false}}) {
        Config cb = acceptor_config();
        cb.allowed = {entry};
        Handshake b = Handshake::accept(cb, t0);
        b.receive(frame(name_msg(dflag::OTP_DEFAULT | dflag::NAME_ME, 0, "localhost")), t0);
        auto e = b.poll_event();
        ASSERT_TRUE(e);
        EXPECT_EQ(std::holds_alternative<AcceptPending>(*e), admitted) << entry;
    }
}

TEST(Handshake, BytesThatArriveWhileTheManagerDecidesAreKept) {
    Handshake a = Handshake::initiate(initiator_config(), t0);
    a.take_output();
    // 'alive' and (though no real acceptor would send it yet) the challenge, in one read.
    Bytes both = frame("salive");
    Bytes ch = frame(challenge_msg(dflag::OTP_DEFAULT, 42, 7, "b@localhost"));
    both.insert(both.end(), ch.begin(), ch.end());
    a.receive(both, t0);
    ASSERT_TRUE(next<IsPending>(a));
    a.is_pending(true, t0);
    Bytes out = a.take_output();
    EXPECT_EQ(out.size(), frame("strue").size() + 2 + 21) << "the challenge was answered at once";
}
