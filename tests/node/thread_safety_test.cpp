// The node's promise that it may be used from any thread: plain threads, coroutine processes
// and the node's own threads sending, spawning, disconnecting and stopping at the same time.
// Two C++ nodes in this process, found through a static resolver (no epmd). Each test checks
// what must come out of the storm; run under ThreadSanitizer (the tsan preset) they also
// check that nothing in it raced.
#include <edist/node.hpp>
#include <edist/process.hpp>
#include <edist/transport.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <vector>

using namespace edist;
using namespace std::chrono_literals;

namespace {

// `peers`: the nodes this one may dial, by name, with their ports on 127.0.0.1.
std::shared_ptr<Node> start(const std::string& name, std::map<std::string, std::uint16_t> peers = {}) {
    StaticResolverOptions r;
    for (auto& [peer, port] : peers) r.nodes[peer] = NodeAddress{"127.0.0.1", port, std::nullopt};
    NodeOptions o;
    o.name = name;
    o.cookie = "thread_safety";
    o.threads = 2;
    o.resolver = static_resolver(std::move(r));
    o.log = [](LogLevel, std::string_view) {}; // disconnects and refused dials are the point
    auto n = Node::start(o);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().what());
    return n.ok() ? *n : nullptr;
}

// A pair: `a` dials `b`; b only answers on connections a made.
struct Pair {
    std::shared_ptr<Node> b = start("tsb@localhost");
    std::shared_ptr<Node> a = start("tsa@localhost", {{"tsb@localhost", b ? b->port() : 0}});
    ~Pair() {
        if (a) a->stop();
        if (b) b->stop();
    }
};

} // namespace

TEST(ThreadSafety, SendsFromManyThreadsArriveInOrderWhileTheConnectionComesUp) {
    Pair nodes;
    ASSERT_TRUE(nodes.a && nodes.b);
    constexpr int senders = 4, per_sender = 300;
    // On b: counts each sender's messages, checking they come in the order each sent them,
    // and reports once all are in.
    auto done = nodes.b->make_mailbox().value();
    ASSERT_TRUE(nodes.b->spawn([report = done.pid()](Self self) -> Task<> {
                           std::vector<std::int64_t> next(senders, 0);
                           bool in_order = true;
                           for (int got = 0; got < senders * per_sender; ++got) {
                               auto m = co_await self.receive();
                               auto who = (*m)[0].as_int64(), seq = (*m)[1].as_int64();
                               if (seq != next[who]) in_order = false;
                               next[who] = seq + 1;
                           }
                           self.send(report, Term(in_order));
                       },
                       {.register_name = "sink"})
                    .ok());
    // No connection yet: the first sends find it connecting and queue behind its handshake,
    // while the others find it up; half go through Node::send, half through mailboxes.
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < senders; ++t)
        threads.emplace_back([&, t] {
            auto box = nodes.a->make_mailbox().value();
            while (!go.load()) std::this_thread::yield();
            for (int i = 0; i < per_sender; ++i) {
                Term msg = tuple(t, i);
                if (t % 2) box.send(atom("sink"), nodes.b->name(), msg);
                else nodes.a->send(atom("sink"), nodes.b->name(), msg);
            }
        });
    go = true;
    for (auto& th : threads) th.join();
    auto verdict = done.receive(20s);
    ASSERT_TRUE(verdict) << "not every message arrived";
    EXPECT_EQ(*verdict, Term(atom("true")));
}

TEST(ThreadSafety, LinkedSpawnsWhileOtherThreadsDisconnectLeaveNoProcessBehind) {
    Pair nodes;
    ASSERT_TRUE(nodes.a && nodes.b);
    const std::size_t before = nodes.a->process_count();
    // Two plain threads keep dialling b and dropping the connection, each dropping the other's
    // attempts too: every drop walks every process's links and monitors for ones towards b
    // (noconnection). Meanwhile a process spawns linked, monitored children that end at once,
    // until the connection has been dropped `enough` times.
    constexpr int enough = 40;
    auto drops = std::make_shared<std::atomic<int>>(0);
    std::atomic<bool> done{false};
    std::vector<std::thread> droppers;
    for (int t = 0; t < 2; ++t)
        droppers.emplace_back([&] {
            while (!done.load()) {
                nodes.a->send(atom("nobody"), nodes.b->name(), atom("hello"));
                nodes.a->disconnect(nodes.b->name());
                ++*drops;
            }
        });
    auto report = nodes.a->make_mailbox().value();
    auto spawner = nodes.a->spawn([to = report.pid(), drops](Self self) -> Task<> {
                           // Bounded, and yielding now and then as a BEAM process is preempted:
                           // a spawner that never yields starves the droppers (each drop walks
                           // every process), and the children would pile up without end.
                           int children = 0, downs = 0, normal = 0, exits = 0;
                           while ((drops->load() < enough && children < 20'000) || children < 100) {
                               self.spawn([](Self) -> Task<> { co_return; }, {.link = true, .monitor = true});
                               if (++children % 16 == 0) co_await self.yield();
                           }
                           // Every message, in order: the trapped EXITs of the links too, which a
                           // receive of DOWNs alone would scan past again and again.
                           while (downs < children || exits < children) {
                               auto m = co_await self.receive();
                               if (m->is_tuple(5) && (*m)[0].is_atom(atom("DOWN"))) {
                                   ++downs;
                                   if ((*m)[4].is_atom(atom("normal"))) ++normal;
                               } else if (m->is_tuple(3) && (*m)[0].is_atom(atom("EXIT")) &&
                                          (*m)[2].is_atom(atom("normal"))) {
                                   ++exits;
                               }
                           }
                           self.send(to, tuple(children, normal, exits));
                       },
                       {.trap_exit = true});
    ASSERT_TRUE(spawner.ok());
    auto counts = report.receive(60s);
    done = true;
    for (auto& t : droppers) t.join();
    ASSERT_TRUE(counts) << "the spawner did not see every child end";
    EXPECT_EQ((*counts)[1], (*counts)[0]) << "every child ended normally, and each monitor said so";
    EXPECT_EQ((*counts)[2], (*counts)[0]) << "every link said so too";
    // The children ended before their DOWNs; once the spawner has too, only this test's
    // mailbox is left of what it made.
    Ref m = report.self().monitor(*spawner);
    auto down = report.receive([&](const Term& t) { return t.is_tuple(5) && t[1] == Term(m); }, 10s);
    ASSERT_TRUE(down);
    EXPECT_EQ(nodes.a->process_count(), before + 1);
}

TEST(ThreadSafety, StopWhileAnotherThreadSpawnsLeavesNoProcessRunning) {
    auto node = start("tsstop@localhost");
    ASSERT_TRUE(node);
    // Each process waits for a message that never comes, trapping exits: only stop's kill ends
    // it. Spawns race with stop; each either made a process that stop then ended, or was
    // refused because the node had stopped.
    std::atomic<int> made{0}, refused{0};
    std::atomic<bool> stopped{false};
    std::thread spawner([&] {
        while (!stopped.load()) {
            auto p = node->spawn([](Self self) -> Task<> { co_await self.receive(); }, {.trap_exit = true});
            if (p) ++made;
            else if (p.error().reason() == atom("notalive")) ++refused;
        }
        // One more after stop returned: always refused.
        if (!node->spawn([](Self) -> Task<> { co_return; }).ok()) ++refused;
    });
    while (made.load() < 50) std::this_thread::yield();
    node->stop();
    stopped = true;
    spawner.join();
    EXPECT_GE(refused.load(), 1);
    EXPECT_EQ(node->process_count(), 0u) << made.load() << " spawned; some outlived the node";
}

// A stopped node is freed once the program lets go of it: nothing the node's threads left
// queued at the stop (a closed connection's completions, a killed process's resumption) may
// keep it, its io_context and asio's resolver thread alive. Connections just made and dropped
// leave such work behind in about one stop in five, so the test stops twenty pairs.
TEST(ThreadSafety, AStoppedNodeIsFreedWithWhatItsThreadsLeftQueued) {
    for (int round = 0; round < 20; ++round) {
        std::weak_ptr<Node> a_left, b_left;
        {
            Pair nodes;
            ASSERT_TRUE(nodes.a && nodes.b);
            ASSERT_TRUE(nodes.a->connect(nodes.b->name()));
            nodes.a->send(atom("nobody"), nodes.b->name(), atom("hello"));
            a_left = nodes.a;
            b_left = nodes.b;
        } // ~Pair stops both nodes and drops them
        EXPECT_TRUE(a_left.expired()) << "round " << round << ": the dialling node outlived its stop";
        EXPECT_TRUE(b_left.expired()) << "round " << round << ": the accepting node outlived its stop";
        if (!a_left.expired() || !b_left.expired()) break;
    }
}
