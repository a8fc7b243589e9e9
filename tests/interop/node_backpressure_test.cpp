// A slow or stopped peer never blocks traffic to other peers, and the C++ node's memory stays
// bounded: a plain thread sending as fast as it can to a SIGSTOPped erl is held back at
// dist_buf_busy_limit (as BEAM suspends a sender on a busy distribution port) while a second
// erl keeps exchanging messages without delay; after SIGCONT everything arrives, in order. A
// coroutine process is held back the same way, suspended at its next co_await, without ever
// blocking the node's thread; an exit signal still ends it at once. A process that never
// reaches a co_await cannot be held back: dist_buf_max closes the connection.
#include "interop/node_support.hpp"

#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <fstream>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;

namespace {

// This process's resident set, in bytes (Linux).
std::size_t rss_bytes() {
    std::ifstream f("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    f >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// The RSS bounds below are for the program's own memory. ThreadSanitizer keeps shadow memory
// for what the program touches, several times its size, and RSS counts that too (an 8 MB
// queue grew RSS by 42 MB under the tsan preset); the bounds still catch a queue that grows
// without limit (64 MB sent).
#if defined(__SANITIZE_THREAD__)
constexpr std::size_t rss_scale = 4;
#else
constexpr std::size_t rss_scale = 1;
#endif

// Waits until `pred` holds (checked on every change a poll can see), at most `timeout`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (!pred()) {
        if (Clock::now() > until) return false;
        std::this_thread::sleep_for(5ms); // polling a condition, not waiting for time to pass
    }
    return true;
}

class NodeBackpressure : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
    }
    ErlOptions erl_options(std::string name) const {
        ErlOptions o;
        o.name = std::move(name);
        o.epmd_port = epmd_->port();
        return o;
    }
    std::uint16_t epmd_port() const { return epmd_->port(); }

    // On `erl`: a process registered as `sink` expecting {seq, 1, _} .. {seq, n, _} in order,
    // then telling {Reply, CppNode} {counted, n} (or where the order broke).
    static void start_sink(ErlNode& erl, std::size_t n, const std::string& reply, const std::string& cpp_node) {
        const std::string to = "{" + reply + ", '" + cpp_node + "'}";
        const std::string code =
            "register(sink, spawn(fun() -> L = fun Loop(I) when I > " + std::to_string(n) + " -> " + to +
            " ! {counted, I - 1}; Loop(I) -> receive {seq, I, _} -> Loop(I + 1); {seq, J, _} -> " + to +
            " ! {out_of_order, I, J} after 120000 -> " + to + " ! {stalled, I} end end, L(1) end)), ok";
        ASSERT_EQ(erl.eval(code), "ok") << erl.transcript();
    }

    struct LiveRoundTrips {
        std::size_t max_queue = 0;  // the stopped peer's queue, at its largest meanwhile
        Clock::duration slowest{}; // the slowest of the live peer's round trips
    };
    // 200 round trips to the live peer's echo, each within 5 s, while `slow` stays stopped.
    static LiveRoundTrips round_trips_to(CppNode& cpp, ErlNode& live, ErlNode& slow) {
        LiveRoundTrips r;
        auto box = cpp->make_mailbox().value();
        for (int k = 0; k < 200; ++k) {
            const auto t0 = Clock::now();
            box.send(atom("echo"), live.name(), tuple(box.pid(), Term(static_cast<std::int64_t>(k))));
            auto reply = box.receive(5s);
            EXPECT_TRUE(reply) << "round trip " << k << " to the live peer stalled\n" << cpp.log.text();
            if (!reply) break;
            EXPECT_EQ(*reply, tuple(atom("echo"), Term(static_cast<std::int64_t>(k))));
            r.slowest = std::max(r.slowest, Clock::now() - t0);
            r.max_queue = std::max(r.max_queue, cpp->dist_queue_size(slow.name()));
        }
        return r;
    }

private:
    std::unique_ptr<OtpEpmd> epmd_;
};

} // namespace

TEST_F(NodeBackpressure, StoppedPeerHoldsThePlainSenderBackWhileAnotherPeerIsServedAndAllArrivesInOrder) {
    Watchdog watchdog(170s, "back-pressure test");
    ErlNode slow(erl_options(unique_name("bp_slow")));
    ErlNode live(erl_options(unique_name("bp_live")));
    ASSERT_TRUE(slow.ready()) << slow.transcript();
    ASSERT_TRUE(live.ready()) << live.transcript();
    CppNode cpp(unique_name("bp_cpp") + "@" + short_host(), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const std::size_t busy = cpp->options().dist_buf_busy_limit;
    ASSERT_EQ(busy, std::size_t(1) << 20) << "OTP's dist_buf_busy_limit default";

    auto report = cpp->make_mailbox("bp_report");
    ASSERT_TRUE(report.ok());
    ASSERT_TRUE(cpp->connect(slow.name(), 10s)) << cpp.log.text();
    ASSERT_TRUE(cpp->connect(live.name(), 10s)) << cpp.log.text();

    // 64 MB in 1 KB messages: far more than the socket buffers hold, so without back-pressure
    // nearly all of it would sit in the C++ node's memory while the peer is stopped.
    constexpr std::size_t n = 64 * 1024;
    start_sink(slow, n, "bp_report", std::string(cpp->name().name()));
    const Term payload = binary(std::vector<std::uint8_t>(1024, 0x5a));

    const std::size_t rss_before = rss_bytes();
    slow.process().signal(SIGSTOP);
    std::atomic<std::size_t> sent{0};
    std::thread sender([&] {
        auto box = cpp->make_mailbox().value();
        for (std::size_t i = 1; i <= n; ++i) {
            box.send(atom("sink"), slow.name(), tuple(atom("seq"), Term(static_cast<std::int64_t>(i)), payload));
            sent = i;
        }
    });

    // The buffer fills to the busy limit; the sender is held back there.
    ASSERT_TRUE(eventually([&] { return cpp->dist_queue_size(slow.name()) > busy; }, 60s))
        << "queue " << cpp->dist_queue_size(slow.name()) << ", sent " << sent;

    // Meanwhile the live peer is served at once, round trip after round trip.
    const auto [max_queue, slowest] = round_trips_to(cpp, live, slow);
    const std::size_t sent_while_stopped = sent;
    const std::size_t rss_stopped = rss_bytes();
    EXPECT_LT(slowest, 2s) << "the stopped peer delayed another peer's traffic";
    // At most the limit plus the message that crossed it.
    EXPECT_LE(max_queue, busy + 2048);
    EXPECT_LT(sent_while_stopped, n / 2) << "the sender was not held back";
    EXPECT_LT(rss_stopped, rss_before + rss_scale * (24u << 20))
        << "RSS grew by " << (rss_stopped - rss_before) / 1024 << " KB while " << sent_while_stopped << " KB were sent";
    std::cout << "stopped peer: sender held after " << sent_while_stopped << " of " << n << " messages, queue ≤ "
              << max_queue << " bytes, RSS +" << (static_cast<long long>(rss_stopped) - static_cast<long long>(rss_before)) / 1024
              << " KB, slowest live round trip " << std::chrono::duration<double, std::milli>(slowest).count()
              << " ms\n";

    slow.process().signal(SIGCONT);
    sender.join();
    auto counted = report->receive(120s);
    ASSERT_TRUE(counted) << cpp.log.text() << slow.transcript();
    EXPECT_EQ(*counted, tuple(atom("counted"), Term(static_cast<std::int64_t>(n))));
    EXPECT_EQ(cpp->nodes().size(), 2u) << cpp.log.text();
}

TEST_F(NodeBackpressure, PlainSenderBlockedOnAStoppedPeerIsReleasedWhenTheConnectionGoes) {
    Watchdog watchdog(120s, "back-pressure release test");
    ErlNode slow(erl_options(unique_name("bp_gone")));
    ASSERT_TRUE(slow.ready()) << slow.transcript();
    CppNode cpp(unique_name("bp_cpp2") + "@" + short_host(), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    ASSERT_TRUE(cpp->connect(slow.name(), 10s)) << cpp.log.text();
    const Term payload = binary(std::vector<std::uint8_t>(1024, 1));

    slow.process().signal(SIGSTOP);
    std::atomic<bool> done{false};
    std::thread sender([&] {
        auto box = cpp->make_mailbox().value();
        for (std::int64_t i = 1; i <= 64 * 1024; ++i) box.send(atom("sink"), slow.name(), tuple(atom("seq"), Term(i), payload));
        done = true;
    });
    ASSERT_TRUE(eventually([&] { return cpp->dist_queue_size(slow.name()) > cpp->options().dist_buf_busy_limit; }, 60s));
    EXPECT_FALSE(done);
    cpp->disconnect(slow.name()); // the blocked send returns; later sends reconnect and queue anew
    slow.process().signal(SIGCONT);
    ASSERT_TRUE(eventually([&] { return done.load(); }, 60s)) << cpp.log.text();
    sender.join();
}

TEST_F(NodeBackpressure, CoroutineSenderIsSuspendedAtItsNextCoAwaitWhileTheNodeThreadServesAnotherPeer) {
    Watchdog watchdog(170s, "coroutine back-pressure test");
    ErlNode slow(erl_options(unique_name("bpc_slow")));
    ErlNode live(erl_options(unique_name("bpc_live")));
    ASSERT_TRUE(slow.ready()) << slow.transcript();
    ASSERT_TRUE(live.ready()) << live.transcript();
    // One thread: were the process's wait a blocked thread, the live peer would get no answer.
    CppNode cpp(unique_name("bpc_cpp") + "@" + short_host(), epmd_port(), "edist_node_test",
                [](NodeOptions& o) { o.threads = 1; });
    ASSERT_TRUE(cpp) << cpp.error();
    const std::size_t busy = cpp->options().dist_buf_busy_limit;
    auto report = cpp->make_mailbox("bpc_report");
    ASSERT_TRUE(report.ok());
    ASSERT_TRUE(cpp->connect(slow.name(), 10s)) << cpp.log.text();
    ASSERT_TRUE(cpp->connect(live.name(), 10s)) << cpp.log.text();

    constexpr std::size_t n = 64 * 1024; // 64 MB: dist_buf_max itself, were nothing held back
    start_sink(slow, n, "bpc_report", std::string(cpp->name().name()));
    const std::size_t rss_before = rss_bytes();
    slow.process().signal(SIGSTOP);
    auto sent = std::make_shared<std::atomic<std::size_t>>(0);
    const Atom peer = slow.name();
    auto pid = cpp->spawn([peer, sent](Self self) -> Task<> {
        const Term payload = binary(std::vector<std::uint8_t>(1024, 0x5b));
        for (std::size_t i = 1; i <= n; ++i) {
            self.send(atom("sink"), peer, tuple(atom("seq"), Term(static_cast<std::int64_t>(i)), payload));
            *sent = i;
            if (i % 16 == 0) co_await self.yield();
        }
    });
    ASSERT_TRUE(pid.ok());

    ASSERT_TRUE(eventually([&] { return cpp->dist_queue_size(slow.name()) > busy; }, 60s))
        << "queue " << cpp->dist_queue_size(slow.name()) << ", sent " << *sent;
    const auto [max_queue, slowest] = round_trips_to(cpp, live, slow);
    const std::size_t sent_while_stopped = *sent;
    const std::size_t rss_stopped = rss_bytes();
    EXPECT_LT(slowest, 2s) << "the stopped peer delayed another peer's traffic";
    // At most the limit plus the message that crossed it and the (at most 16) that follow it
    // before the next co_await; each is a little over 1 KB with its control message.
    EXPECT_LE(max_queue, busy + 17 * 1200);
    EXPECT_LT(sent_while_stopped, n / 2) << "the process was not held back";
    EXPECT_LT(rss_stopped, rss_before + rss_scale * (24u << 20))
        << "RSS grew by " << (rss_stopped - rss_before) / 1024 << " KB while " << sent_while_stopped << " KB were sent";
    EXPECT_EQ(cpp->nodes().size(), 2u) << "the connection was lost instead of held\n" << cpp.log.text();

    slow.process().signal(SIGCONT);
    auto counted = report->receive(120s);
    ASSERT_TRUE(counted) << cpp.log.text() << slow.transcript();
    EXPECT_EQ(*counted, tuple(atom("counted"), Term(static_cast<std::int64_t>(n))));
    EXPECT_EQ(sent->load(), n);
    EXPECT_EQ(cpp->nodes().size(), 2u) << cpp.log.text();
}

TEST_F(NodeBackpressure, CoroutineHeldByABusyConnectionDiesAtOnceWhenKilled) {
    Watchdog watchdog(120s, "coroutine back-pressure kill test");
    ErlNode slow(erl_options(unique_name("bpc_kill")));
    ASSERT_TRUE(slow.ready()) << slow.transcript();
    CppNode cpp(unique_name("bpc_cpp2") + "@" + short_host(), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    ASSERT_TRUE(cpp->connect(slow.name(), 10s)) << cpp.log.text();
    slow.process().signal(SIGSTOP);
    const Atom peer = slow.name();
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto pid = cpp->spawn([peer, done](Self self) -> Task<> {
        const Term payload = binary(std::vector<std::uint8_t>(1024, 3));
        for (std::int64_t i = 1; i <= 64 * 1024; ++i) {
            self.send(atom("sink"), peer, tuple(atom("seq"), Term(i), payload));
            co_await self.yield();
        }
        *done = true;
    });
    ASSERT_TRUE(pid.ok());
    ASSERT_TRUE(eventually([&] { return cpp->dist_queue_size(peer) > cpp->options().dist_buf_busy_limit; }, 60s));

    auto watcher = cpp->make_mailbox().value();
    const Ref mref = watcher.self().monitor(*pid);
    watcher.self().exit(*pid, atom("stop_sending")); // the peer is still stopped: nothing drains
    auto down = watcher.receive(5s);
    ASSERT_TRUE(down) << "the held process did not die\n" << cpp.log.text();
    EXPECT_EQ(*down, tuple(atom("DOWN"), mref, atom("process"), *pid, atom("stop_sending")));
    EXPECT_FALSE(done->load());
    slow.process().signal(SIGCONT);
}

TEST_F(NodeBackpressure, ProcessThatNeverReachesACoAwaitIsNotHeldAndDistBufMaxClosesTheConnection) {
    Watchdog watchdog(120s, "dist_buf_max test");
    ErlNode slow(erl_options(unique_name("bp_max")));
    ASSERT_TRUE(slow.ready()) << slow.transcript();
    CppNode cpp(unique_name("bp_cpp3") + "@" + short_host(), epmd_port(), "edist_node_test",
                [](NodeOptions& o) { o.dist_buf_max = 8u << 20; });
    ASSERT_TRUE(cpp) << cpp.error();
    NodeEvents events(*cpp);
    ASSERT_TRUE(cpp->connect(slow.name(), 10s)) << cpp.log.text();
    ASSERT_TRUE(events.wait(NodeEvent::Kind::nodeup, slow.name(), 10s));

    slow.process().signal(SIGSTOP);
    const Atom peer = slow.name();
    const std::size_t rss_before = rss_bytes();
    // 64 MB from a coroutine process without a co_await: it runs on the node's thread, which must
    // never block, and it cannot be suspended anywhere.
    auto pid = cpp->spawn([peer](Self self) -> Task<> {
        const Term payload = binary(std::vector<std::uint8_t>(1024, 2));
        for (std::int64_t i = 1; i <= 64 * 1024; ++i) self.send(atom("sink"), peer, tuple(atom("seq"), Term(i), payload));
        co_return;
    });
    ASSERT_TRUE(pid.ok());
    auto down = events.wait(NodeEvent::Kind::nodedown, peer, 60s);
    ASSERT_TRUE(down) << cpp.log.text();
    EXPECT_EQ(down->event.reason, atom("system_limit"));
    EXPECT_TRUE(cpp.log.wait_for("dist_buf_max", 5s)) << cpp.log.text();
    // The sends that followed queued on new connection attempts, each capped the same way.
    EXPECT_LT(rss_bytes(), rss_before + rss_scale * (40u << 20));
    slow.process().signal(SIGCONT);
}
