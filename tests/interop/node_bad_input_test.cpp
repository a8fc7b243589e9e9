// edist::Node under bad input at its distribution port, from raw sockets: garbage before the
// handshake, a handshake that stops half way (dropped after net_setuptime), oversized frames,
// 1,000 half-open connections, and garbage after a completed handshake. After each, the node is
// still up, a real erl keeps talking to it (on its existing connection and on a fresh one),
// memory stays bounded, and the node's log says what happened.
//
// Completing a handshake from a raw socket uses edist's own sans-I/O handshake core, so the
// bytes after it can be anything the test wants.
#include "interop/node_support.hpp"

#include "handshake/handshake.hpp"

#include <edist/flags.hpp>
#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>

#include <fstream>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

namespace {


bool tagged(const Term& t, std::string_view tag, std::size_t arity) {
    return t.is_tuple(arity) && t[0].is_atom(atom(tag));
}

// A blocking TCP client socket to 127.0.0.1:port, closed on destruction.
class RawSocket {
public:
    explicit RawSocket(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    RawSocket(RawSocket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), connected_(o.connected_) {}
    RawSocket(const RawSocket&) = delete;
    ~RawSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool connected() const { return connected_; }
    int fd() const { return fd_; }
    bool write(std::span<const std::uint8_t> bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    // Reads what arrives until the peer closes (true) or `timeout` passes (false).
    bool wait_closed(std::chrono::milliseconds timeout, Bytes* received = nullptr) {
        const auto until = Clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            if (left <= 0ms) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            std::uint8_t buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return true; // EOF or reset: the node closed it
            if (received) received->insert(received->end(), buf, buf + n);
        }
    }
    // One read of whatever is available within `timeout`: nullopt when nothing came, empty
    // bytes when the peer closed.
    std::optional<Bytes> read_some(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
        std::uint8_t buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? Bytes(buf, buf + n) : Bytes{};
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

// Runs edist's handshake core as initiator over a raw socket until it completes or fails.
std::optional<handshake::Completed> raw_handshake(RawSocket& s, handshake::Handshake& hs) {
    using namespace handshake;
    for (;;) {
        if (auto out = hs.take_output(); !out.empty()) s.write(out);
        while (auto e = hs.poll_event()) {
            if (std::holds_alternative<IsPending>(*e)) hs.is_pending(true, Clock::now());
            else if (auto* c = std::get_if<Completed>(&*e)) return std::move(*c);
            else if (std::holds_alternative<Failed>(*e)) return std::nullopt;
        }
        if (auto out = hs.take_output(); !out.empty()) s.write(out);
        if (hs.done()) return std::nullopt;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*hs.deadline() - Clock::now());
        auto in = s.read_some(std::max(left, std::chrono::milliseconds(1)));
        if (!in) hs.handle_timeout(Clock::now());
        else if (in->empty()) hs.receive_eof(Clock::now());
        else hs.receive(*in, Clock::now());
    }
}

handshake::Config raw_config(std::string this_node, std::string peer_node) {
    handshake::Config c;
    c.this_node = std::move(this_node);
    c.this_creation = 0x5eed;
    c.cookie = "edist_node_test";
    c.peer_node = std::move(peer_node);
    c.name_mode = handshake::NameMode::shortnames;
    return c;
}

// Resident set size of this process (the node runs in it), in bytes.
std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

class NodeBadInput : public ::testing::Test {
protected:
    // The node's net_setuptime: short, so stalled handshakes go quickly.
    std::chrono::milliseconds setup_time = 1s;

    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
        cpp_ = std::make_unique<CppNode>(unique_name("cpp_bad") + "@" + short_host(), epmd_->port(),
                                         "edist_node_test", [this](NodeOptions& o) { o.net_setuptime = setup_time; });
        ASSERT_TRUE(*cpp_) << cpp_->error();
        auto box = (*cpp_)->make_mailbox("cppbox");
        ASSERT_TRUE(box.ok());
        box_ = *box;
        ErlOptions eo;
        eo.name = unique_name("erl_bad");
        eo.epmd_port = epmd_->port();
        erl_ = std::make_unique<ErlNode>(eo);
        ASSERT_TRUE(erl_->ready()) << erl_->transcript();
        // erl is connected before the bad input starts: that connection must not notice.
        ASSERT_EQ(erl_->eval("net_adm:ping('" + us() + "')"), "pong") << cpp_->log.text();
    }
    void TearDown() override {
        box_.close();
        erl_.reset();
        cpp_.reset();
    }

    CppNode& cpp() { return *cpp_; }
    ErlNode& erl() { return *erl_; }
    std::string us() const { return std::string((*cpp_)->name().name()); }
    std::uint16_t dist_port() const { return (*cpp_)->port(); }

    // The node still serves erl: a message round trip on the existing connection, then a
    // fresh connection (erl's ping after we dropped the old one) and a message to our name.
    void expect_still_serves_erl(int round) {
        const Term tag = tuple(atom("round"), round);
        box_.send(atom("echo"), erl_->name(), tuple(box_.pid(), tag));
        auto echo = box_.receive([&](const Term& t) { return tagged(t, "echo", 2) && t[1] == tag; }, 10s);
        EXPECT_TRUE(echo) << "existing connection broken after bad input\n" << cpp_->log.text();

        (*cpp_)->disconnect(erl_->name());
        EXPECT_TRUE(erl_->process().wait_line("NODEDOWN " + us())) << erl_->transcript();
        EXPECT_EQ(erl_->eval("net_adm:ping('" + us() + "')"), "pong") << cpp_->log.text();
        const std::string n = std::to_string(round);
        EXPECT_EQ(erl_->eval("{cppbox, '" + us() + "'} ! {after_bad_input, " + n + "}"), "{after_bad_input," + n + "}");
        EXPECT_TRUE(box_.receive([&](const Term& t) { return t == tuple(atom("after_bad_input"), round); }, 10s))
            << cpp_->log.text();
    }

private:
    std::unique_ptr<OtpEpmd> epmd_;
    std::unique_ptr<CppNode> cpp_;
    std::unique_ptr<ErlNode> erl_;
    Mailbox box_;
};

} // namespace

TEST_F(NodeBadInput, GarbageBeforeTheHandshakeIsClosedAndLogged) {
    std::mt19937 rng(7);
    Bytes random(60000);
    for (auto& b : random) b = static_cast<std::uint8_t>(rng());
    random[0] = 0xEA; // a 2-byte length of 59,998: exactly the rest ...
    random[1] = 0x5E;
    random[2] = 'X'; // ... of a message that is not a name message
    Bytes incomplete = random;
    incomplete[1] = 0x5F; // one byte more than follows
    struct Case {
        const char* what;
        Bytes bytes;
        const char* log; // what the node's log line must say
    };
    const std::vector<Case> cases{
        {"a framed non-handshake message", {0, 3, 'G', 'E', 'T'}, "expected a name message"},
        {"an empty message", {0, 0}, "empty message"},
        {"60 KB of random bytes", random, "expected a name message"},
        {"half a message, then silence", {0, 200, 'N', 1, 2, 3}, "within net_setuptime"},
        {"60 KB of a longer message, then silence", incomplete, "within net_setuptime"},
    };
    int round = 0;
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        RawSocket s(dist_port());
        ASSERT_TRUE(s.connected());
        s.write(c.bytes);
        EXPECT_TRUE(s.wait_closed(5s)) << "the node kept a connection that sent " << c.what;
        auto line = cpp().log.wait_for(c.log, 5s);
        ASSERT_TRUE(line) << cpp().log.text();
        EXPECT_NE(line->find("handshake"), std::string::npos) << *line;
        EXPECT_NE(line->find("(reason: "), std::string::npos) << "the Erlang reason too: " << *line;
        EXPECT_LT(line->size(), 1000u) << "log lines should quote garbage briefly";
        expect_still_serves_erl(round++);
    }
}

TEST_F(NodeBadInput, HandshakeThatStopsHalfWayIsDroppedAfterNetSetuptime) {
    RawSocket s(dist_port());
    ASSERT_TRUE(s.connected());
    // A valid name message from a node that then goes silent.
    auto hs = handshake::Handshake::initiate(raw_config("stall_" + std::to_string(getpid()) + "@" + short_host(), us()),
                                             Clock::now());
    const auto sent = Clock::now();
    ASSERT_TRUE(s.write(hs.take_output()));
    Bytes got;
    EXPECT_TRUE(s.wait_closed(setup_time * 5, &got)) << "a stalled handshake was kept open";
    const auto dropped = Clock::now() - sent;
    // The node answered (status and challenge) and then waited net_setuptime for our reply.
    ASSERT_GE(got.size(), 5u);
    EXPECT_EQ(got[2], 's');
    EXPECT_GE(dropped, setup_time - 100ms);
    auto line = cpp().log.wait_for("net_setuptime", 2s);
    ASSERT_TRUE(line) << cpp().log.text();
    EXPECT_NE(line->find("stall_"), std::string::npos) << "the log line should name the peer: " << *line;
    expect_still_serves_erl(0);
}

TEST_F(NodeBadInput, OversizedFramesAreRefusedBeforeAndAfterTheHandshake) {
    {
        SCOPED_TRACE("a 65,535-byte name message (the largest a 2-byte frame holds)");
        Bytes msg{0xFF, 0xFF, 'N', 0, 0, 0, 0, 0x0D, 0x07, 0x9F, 0xBC, 0, 0, 0, 1, 0xFF, 0xEE};
        msg.resize(2 + 65535, 'a');
        RawSocket s(dist_port());
        ASSERT_TRUE(s.connected());
        s.write(msg);
        EXPECT_TRUE(s.wait_closed(5s));
        auto line = cpp().log.wait_for("not a node name", 5s);
        ASSERT_TRUE(line) << cpp().log.text();
        EXPECT_LT(line->size(), 1000u) << "log lines should quote a huge name briefly";
        expect_still_serves_erl(0);
    }
    {
        SCOPED_TRACE("a 4 GB frame after a completed handshake");
        RawSocket s(dist_port());
        ASSERT_TRUE(s.connected());
        const std::string raw = "huge_" + std::to_string(getpid()) + "@" + short_host();
        auto hs = handshake::Handshake::initiate(raw_config(raw, us()), Clock::now());
        auto done = raw_handshake(s, hs);
        ASSERT_TRUE(done) << cpp().log.text();
        ASSERT_TRUE(s.write(Bytes{0xFF, 0xFF, 0xFF, 0xFF, 'p', 131}));
        EXPECT_TRUE(s.wait_closed(5s)) << "the node waits for 4 GB";
        auto line = cpp().log.wait_for("exceeds", 5s);
        ASSERT_TRUE(line) << cpp().log.text();
        EXPECT_NE(line->find(raw), std::string::npos) << "the log line should name the peer: " << *line;
        expect_still_serves_erl(1);
    }
}

TEST_F(NodeBadInput, NamesThatWouldForgeLogLinesOrClaimThisNodeAreRefused) {
    struct Case {
        std::string name;
        const char* log;
    };
    const std::vector<Case> cases{
        {"evil\nwarning: forged line\x1b[31m@" + short_host(), "not a node name"},
        {us(), "claiming this node's name"},
    };
    int round = 0;
    for (const Case& c : cases) {
        RawSocket s(dist_port());
        ASSERT_TRUE(s.connected());
        // Written by hand: our own handshake core would not send such a name.
        Bytes msg{0, 0, 'N'};
        for (int i = 7; i >= 0; --i) msg.push_back(std::uint8_t(dflag::EDIST_MINIMAL >> (8 * i)));
        msg.insert(msg.end(), {0, 0, 0x5e, 0xed, std::uint8_t(c.name.size() >> 8), std::uint8_t(c.name.size())});
        msg.insert(msg.end(), c.name.begin(), c.name.end());
        msg[0] = std::uint8_t((msg.size() - 2) >> 8), msg[1] = std::uint8_t(msg.size() - 2);
        ASSERT_TRUE(s.write(msg));
        Bytes got;
        EXPECT_TRUE(s.wait_closed(5s, &got));
        EXPECT_EQ(std::string(got.begin(), got.end()).find("sok"), std::string::npos) << "the node accepted " << c.name;
        auto line = cpp().log.wait_for(c.log, 5s);
        ASSERT_TRUE(line) << cpp().log.text();
        expect_still_serves_erl(round++);
    }
    // The hostile name is quoted escaped, inside its one line.
    const std::string text = cpp().log.text();
    EXPECT_EQ(text.find("\nwarning: forged"), std::string::npos) << text;
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
    EXPECT_NE(text.find("evil\\x0awarning: forged line\\x1b[31m@"), std::string::npos) << text;
}

TEST_F(NodeBadInput, GarbageAfterTheHandshakeClosesOnlyThatConnection) {
    RawSocket s(dist_port());
    ASSERT_TRUE(s.connected());
    const std::string raw = "garbage_" + std::to_string(getpid()) + "@" + short_host();
    NodeEvents events(*cpp());
    auto hs = handshake::Handshake::initiate(raw_config(raw, us()), Clock::now());
    auto done = raw_handshake(s, hs);
    ASSERT_TRUE(done) << cpp().log.text();
    ASSERT_TRUE(events.wait(NodeEvent::Kind::nodeup, atom(raw), 5s));
    // A well-framed packet that is neither pass-through nor a distribution header.
    ASSERT_TRUE(s.write(Bytes{0, 0, 0, 6, 'g', 'a', 'r', 'b', 'a', 'g'}));
    EXPECT_TRUE(s.wait_closed(5s)) << "the node kept a connection that sent garbage";
    auto down = events.wait(NodeEvent::Kind::nodedown, atom(raw), 5s);
    ASSERT_TRUE(down);
    auto line = cpp().log.wait_for("distribution protocol", 5s);
    ASSERT_TRUE(line) << cpp().log.text();
    EXPECT_NE(line->find(raw), std::string::npos) << "the log line should name the peer: " << *line;
    expect_still_serves_erl(0);
}

// Long enough that erl's checks surely happen while all 1,000 are still held.
class NodeHalfOpen : public NodeBadInput {
protected:
    NodeHalfOpen() { setup_time = 3s; }
};

TEST_F(NodeHalfOpen, ThousandHalfOpenConnectionsLeaveTheNodeServingWithBoundedMemory) {
    constexpr std::size_t n = 1000;
    const Bytes half_name{0, 30, 'N', 0, 0}; // the start of a name message, never finished
    struct Wave {
        std::size_t fds_held = 0, rss_held = 0, rss_after = 0;
    };
    // Opens n connections, checks erl is served while they are held, waits for the node to drop
    // them all after net_setuptime.
    auto wave = [&](int round) {
        Wave w;
        const std::size_t fds_before = open_fds();
        std::vector<RawSocket> sockets;
        sockets.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            sockets.emplace_back(dist_port());
            EXPECT_TRUE(sockets.back().connected()) << "connection " << i << ": " << std::strerror(errno);
            if (i % 2) sockets.back().write(half_name); // half say nothing, half stop mid-message
        }
        const auto opened = Clock::now();
        // Wait until the node has accepted them all (its side of each is a descriptor here
        // too). There is no event for "accepted"; poll the descriptor count with a deadline.
        while (open_fds() < fds_before + 2 * n && Clock::now() - opened < setup_time / 2) std::this_thread::yield();
        w.fds_held = open_fds() - fds_before;
        w.rss_held = rss_bytes();
        EXPECT_GE(w.fds_held, 2 * n) << "the node had not accepted all connections in time";

        // While they are held, erl still gets answers on its existing connection and on a new one.
        expect_still_serves_erl(round);
        std::size_t still_held = 0;
        for (auto& s : sockets) {
            pollfd p{s.fd(), POLLIN, 0};
            still_held += ::poll(&p, 1, 0) == 0 ? 1 : 0;
        }
        EXPECT_EQ(still_held, n) << "erl's checks should have run while all were held";

        // All are dropped after net_setuptime, and the log says so for each.
        std::size_t closed = 0;
        const auto deadline = opened + setup_time * 3;
        for (auto& s : sockets) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            closed += s.wait_closed(std::max(left, std::chrono::milliseconds(0))) ? 1 : 0;
        }
        EXPECT_EQ(closed, n) << "half-open connections outlived 3 x net_setuptime";
        EXPECT_TRUE(cpp().log.wait_count("within net_setuptime", n * static_cast<std::size_t>(round + 1), 5s))
            << cpp().log.count("within net_setuptime") << " timeout lines after " << round + 1 << " x " << n
            << " connections";
        sockets.clear();
        w.rss_after = rss_bytes();
        return w;
    };
    const std::size_t rss_before = rss_bytes();
    const Wave first = wave(0);
    const Wave second = wave(1);
    expect_still_serves_erl(2);

    auto kb = [](std::size_t a, std::size_t b) { return static_cast<int>((a - std::min(a, b)) / 1024); };
    RecordProperty("rss_growth_first_wave_held_kb", kb(first.rss_held, rss_before));
    RecordProperty("rss_growth_first_wave_after_kb", kb(first.rss_after, rss_before));
    RecordProperty("rss_growth_second_wave_over_first_kb", kb(second.rss_held, first.rss_held));
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "memory bounds are not meaningful under AddressSanitizer (redzones, quarantine)";
#else
    // Memory: a half-open connection may cost a read buffer, not more, and what one wave used
    // is reused by the next (the allocator need not hand it back to the OS, so RSS after the
    // first wave is not the measure; no growth on the second is).
    EXPECT_LT(first.rss_held - std::min(first.rss_held, rss_before), n * 128 * 1024)
        << "more than 128 KB per half-open connection";
    EXPECT_LT(second.rss_held - std::min(second.rss_held, first.rss_held), std::size_t(16) << 20)
        << "the second 1,000 half-open connections grew memory again: something is kept per connection";
#endif
}
