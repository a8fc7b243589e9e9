// Local process semantics: spawn, receive, links, monitors, exits, aliases — on one node,
// without any peer (the interop tests check the same signals across nodes against erl).
#include <edist/exports.hpp>
#include <edist/node.hpp>
#include <edist/process.hpp>
#include <edist/text.hpp>

#include "node/local_node.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace edist;
using namespace std::chrono_literals;

// Every test runs on a node with one thread (where a process's sends make others ready on the
// same thread: the run queue) and on a node with two.
class Process : public testing::TestWithParam<unsigned> {
protected:
    std::shared_ptr<Node> start_node() { return test::start_local_node("proctest", false, GetParam()); }
};
INSTANTIATE_TEST_SUITE_P(Threads, Process, testing::Values(1u, 2u),
                         [](const testing::TestParamInfo<unsigned>& i) { return i.param == 1 ? "OneThread" : "TwoThreads"; });

namespace {


Task<> echo_loop(Self self) {
    for (;;) {
        auto msg = co_await self.receive();
        if (msg->is_atom(atom("stop"))) co_return;
        if (msg->is_tuple(2) && (*msg)[0].is_pid()) self.send((*msg)[0].as_pid(), (*msg)[1]);
    }
}

} // namespace

TEST_P(Process, SpawnedProcessAnswersMessagesFromAMailbox) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Pid echo = node->spawn(echo_loop).value();
    box.send(echo, tuple(box.pid(), atom("hello")));
    auto reply = box.receive(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(*reply, Term(atom("hello")));
    node->stop();
}

TEST_P(Process, SelectiveReceiveLeavesOtherMessagesQueuedInOrder) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Pid p = node->spawn([reply_to = box.pid()](Self self) -> Task<> {
                    auto second = co_await self.receive([](const Term& t) { return t.is_atom(atom("b")); });
                    auto first = co_await self.receive();
                    self.send(reply_to, tuple(*second, *first));
                }).value();
    box.send(p, atom("a"));
    box.send(p, atom("b"));
    auto reply = box.receive(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(*reply, tuple(atom("b"), atom("a")));
    node->stop();
}

// A process takes what it already holds without the lock and fetches what arrived since in
// one go; selective receive must still see one queue in arrival order across both.
TEST_P(Process, SelectiveReceiveKeepsArrivalOrderAcrossWhatWasQueuedBeforeAndAfter) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    const Atom x = atom("x");
    Pid p = node->spawn([reply_to = box.pid(), x](Self self) -> Task<> {
                    auto is_x = [x](const Term& t) { return t.is_tuple(2) && t[0].is_atom(x); };
                    co_await self.receive([](const Term& t) { return t.is_atom(atom("go")); });
                    // a1 and a2 are queued: refused, they stay, now in the process's own part
                    auto none = co_await self.receive(is_x, 0ms);
                    self.send(reply_to, none ? atom("unexpected") : atom("ready"));
                    std::vector<Term> got;
                    got.push_back(*co_await self.receive(is_x)); // x1, which came after a1, a2
                    got.push_back(*co_await self.receive());     // a1
                    got.push_back(*co_await self.receive(is_x)); // x2
                    for (int i = 0; i < 3; ++i) got.push_back(*co_await self.receive()); // a2 a3 a4
                    self.send(reply_to, list_from(std::move(got)));
                }).value();
    box.send(p, atom("a1"));
    box.send(p, atom("a2"));
    box.send(p, atom("go"));
    auto ready = box.receive(5s);
    ASSERT_TRUE(ready);
    ASSERT_EQ(*ready, Term(atom("ready")));
    box.send(p, tuple(x, 1));
    box.send(p, atom("a3"));
    box.send(p, tuple(x, 2));
    box.send(p, atom("a4"));
    auto reply = box.receive(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(to_string(*reply), "[{x,1},a1,{x,2},a2,a3,a4]");
    node->stop();
}

// An exit signal that arrives while the process runs ends it at its next receive, even when
// a message it already holds would answer that receive at once.
TEST_P(Process, AnExitSignalWinsOverAMessageTheProcessAlreadyHolds) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    auto killed = std::make_shared<std::atomic<bool>>(false);
    Spawned spawned = box.self().spawn(
        [reply_to = box.pid(), killed](Self self) -> Task<> {
            co_await self.receive([](const Term& t) { return t.is_atom(atom("first")); });
            // "second" and "third" came with "first": the process holds them now
            self.send(reply_to, atom("running"));
            while (!killed->load()) std::this_thread::yield(); // runs without awaiting meanwhile
            auto m = co_await self.receive();
            self.send(reply_to, tuple(atom("took"), *m));
        },
        {.monitor = true});
    box.send(spawned.pid, atom("second"));
    box.send(spawned.pid, atom("third"));
    box.send(spawned.pid, atom("first"));
    auto running = box.receive(5s);
    ASSERT_TRUE(running);
    ASSERT_EQ(*running, Term(atom("running")));
    box.self().exit(spawned.pid, atom("kill")); // local: the signal is in place when this returns
    killed->store(true);
    auto down = box.receive(5s);
    ASSERT_TRUE(down);
    EXPECT_EQ(*down, tuple(atom("DOWN"), *spawned.monitor, atom("process"), spawned.pid, atom("killed")));
    node->stop();
}

TEST_P(Process, ReceiveTimesOutWithNothing) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    node->spawn([reply_to = box.pid()](Self self) -> Task<> {
        auto m = co_await self.receive(50ms);
        self.send(reply_to, m ? atom("got") : atom("timeout"));
    });
    auto reply = box.receive(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(*reply, Term(atom("timeout")));
    node->stop();
}

// Thousands of years: past what steady_clock::now() + timeout can hold in nanoseconds.
constexpr auto very_long = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::hours(24 * 365 * 1000));

TEST_P(Process, ReceiveWithATimeoutTooLongToAddWaitsForTheMessage) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Pid p = node->spawn([reply_to = box.pid()](Self self) -> Task<> {
                    self.send(reply_to, atom("waiting"));
                    auto m = co_await self.receive(very_long);
                    self.send(reply_to, m ? *m : Term(atom("timeout")));
                }).value();
    ASSERT_EQ(box.receive(5s), Term(atom("waiting")));
    box.send(p, atom("ping"));
    EXPECT_EQ(box.receive(5s), Term(atom("ping"))) << "an overflowed deadline times out at once";

    // The blocking and the asynchronous mailbox receives too.
    auto waiting = node->make_mailbox().value();
    std::thread t([&] { box.send(box.pid(), waiting.receive(very_long).value_or(atom("timeout"))); });
    box.send(waiting.pid(), atom("pong"));
    EXPECT_EQ(box.receive(5s), Term(atom("pong")));
    t.join();
    waiting.async_receive([&](std::optional<Term> m) { box.send(box.pid(), m.value_or(atom("timeout"))); }, very_long);
    box.send(waiting.pid(), atom("async"));
    EXPECT_EQ(box.receive(5s), Term(atom("async")));
    node->stop();
}

TEST_P(Process, TrappingParentGetsExitOfCrashedLinkedChild) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    node->spawn([reply_to = box.pid()](Self self) -> Task<> {
        self.trap_exit(true);
        auto child = self.spawn([](Self s) -> Task<> { s.exit(atom("boom")); co_return; }, {.link = true});
        auto msg = co_await self.receive(5s);
        self.send(reply_to, tuple(*msg, child.pid));
    });
    auto reply = box.receive(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)[0], tuple(atom("EXIT"), (*reply)[1], atom("boom")));
    node->stop();
}

TEST_P(Process, ExitThroughALinkKillsANonTrappingProcessAndPropagates) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    box.self().trap_exit(true);
    Pid middle = node->spawn([](Self self) -> Task<> {
                         co_await self.receive(); // go
                         self.spawn([](Self s) -> Task<> { s.exit(atom("crash")); co_return; }, {.link = true});
                         co_await self.receive(); // dies with the child before this returns
                     }).value();
    box.self().link(middle);
    box.send(middle, atom("go"));
    auto exit = box.receive(5s);
    ASSERT_TRUE(exit);
    EXPECT_EQ(*exit, tuple(atom("EXIT"), middle, atom("crash")));
    node->stop();
}

TEST_P(Process, KillIsUntrappableAndBecomesKilledForLinks) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    box.self().trap_exit(true);
    Pid victim = node->spawn([](Self self) -> Task<> {
                         self.trap_exit(true);
                         for (;;) co_await self.receive();
                     }).value();
    box.self().link(victim);
    box.self().exit(victim, atom("kill"));
    auto exit = box.receive(5s);
    ASSERT_TRUE(exit);
    EXPECT_EQ(*exit, tuple(atom("EXIT"), victim, atom("killed")));
    node->stop();
}

TEST_P(Process, MonitorGivesDownWithTheExitReason) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Pid p = node->spawn([](Self self) -> Task<> {
                    co_await self.receive();
                    self.exit(tuple(atom("shutdown"), 1));
                }).value();
    Ref ref = box.self().monitor(p);
    box.send(p, atom("go"));
    auto down = box.receive(5s);
    ASSERT_TRUE(down);
    EXPECT_EQ(*down, tuple(atom("DOWN"), ref, atom("process"), p, tuple(atom("shutdown"), 1)));
    node->stop();
}

// How a body that throws ends, as the same failure ends an Erlang process.
TEST_P(Process, ExceptionsEndAProcessWithTheReasonErlangGivesTheSameFailure) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    auto ends_with = [&](ProcessBody body) {
        Pid p = node->spawn(std::move(body)).value();
        Ref ref = box.self().monitor(p);
        box.send(p, atom("go"));
        auto down = box.receive([&](const Term& t) { return t.is_tuple(5) && t[1] == Term(ref); }, 5s);
        return down ? (*down)[4] : Term(atom("no_down"));
    };
    // Name ! Msg to a name nobody has: badarg.
    EXPECT_EQ(ends_with([](Self self) -> Task<> {
                  co_await self.receive();
                  self.send(atom("nobody_registered_this"), atom("hi"));
              }),
              tuple(atom("badarg"), Term()));
    EXPECT_EQ(ends_with([](Self self) -> Task<> {
                  co_await self.receive();
                  raise_error(atom("boom"));
              }),
              tuple(atom("boom"), Term()));
    EXPECT_EQ(ends_with([](Self self) -> Task<> {
                  co_await self.receive();
                  raise_throw(atom("ball"));
              }),
              tuple(tuple(atom("nocatch"), atom("ball")), Term()));
    // A typed access that fails is a BIF's badarg.
    EXPECT_EQ(ends_with([](Self self) -> Task<> {
                  auto m = co_await self.receive();
                  (void)m->as_pid();
              }),
              tuple(atom("badarg"), Term()));
    EXPECT_EQ(ends_with([](Self self) -> Task<> {
                  co_await self.receive();
                  throw std::runtime_error("plain C++");
              }),
              tuple(atom("cpp_exception"), binary("plain C++")));
    // From a plain thread, sending to a name says whether anyone has it.
    EXPECT_FALSE(node->send(atom("nobody_registered_this"), atom("hi")));
    auto named = node->make_mailbox("named_box").value();
    EXPECT_TRUE(node->send(atom("named_box"), atom("hi")));
    EXPECT_EQ(named.receive(5s), Term(atom("hi")));
    node->stop();
}

TEST_P(Process, MonitorOfADeadProcessGivesNoprocAtOnce) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Pid gone{node->name(), 12345, 0, node->creation()};
    Ref ref = box.self().monitor(gone);
    auto down = box.receive(0ms);
    ASSERT_TRUE(down);
    EXPECT_EQ(*down, tuple(atom("DOWN"), ref, atom("process"), gone, atom("noproc")));
    Ref by_name = box.self().monitor(atom("nobody"), node->name());
    down = box.receive(0ms);
    ASSERT_TRUE(down);
    EXPECT_EQ(*down, tuple(atom("DOWN"), by_name, atom("process"), tuple(atom("nobody"), node->name()), atom("noproc")));
    node->stop();
}

TEST_P(Process, DemonitorWithFlushRemovesAQueuedDown) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Pid p = node->spawn([](Self) -> Task<> { co_return; }).value();
    Ref ref = box.self().monitor(p);
    // Wait until the DOWN is queued (there is no event for "queued"), then flush it.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (box.queued() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    ASSERT_EQ(box.queued(), 1u);
    box.self().demonitor(ref, true);
    EXPECT_EQ(box.queued(), 0u);
    node->stop();
}

TEST_P(Process, AliasDeliversUntilUnaliased) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Ref alias = box.self().make_alias();
    box.self().send(alias, atom("via_alias"));
    auto m = box.receive(1s);
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, Term(atom("via_alias")));
    box.self().unalias(alias);
    box.self().send(alias, atom("dropped"));
    EXPECT_FALSE(box.receive(50ms));
    node->stop();
}

TEST_P(Process, ThousandsOfProcessesRunAndEnd) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    constexpr int n = 20'000;
    for (int i = 0; i < n; ++i)
        node->spawn([reply_to = box.pid(), i](Self self) -> Task<> {
            self.send(reply_to, i);
            co_return;
        });
    long long sum = 0;
    for (int i = 0; i < n; ++i) {
        auto m = box.receive(10s);
        ASSERT_TRUE(m);
        sum += m->as_int64();
    }
    EXPECT_EQ(sum, static_cast<long long>(n) * (n - 1) / 2);
    node->stop();
}

namespace {

std::shared_ptr<Node> start_one_thread_node(const std::string& name) {
    NodeOptions o;
    o.name = name + "@localhost";
    o.cookie = "test";
    o.register_with_epmd = false;
    o.threads = 1;
    auto n = Node::start(o);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().what());
    return n.ok() ? *n : nullptr;
}

} // namespace

TEST(ProcessOnOneThread, YieldLetsAnotherProcessRunOnTheNodesOnlyThread) {
    auto node = start_one_thread_node("yieldtest");
    ASSERT_TRUE(node);
    auto box = node->make_mailbox().value();
    // Polls its mailbox without suspending; only yield lets the child it spawned run at all.
    Pid p = node->spawn([reply_to = box.pid()](Self self) -> Task<> {
                    self.spawn([parent = self.pid()](Self child) -> Task<> {
                        child.send(parent, atom("hello"));
                        co_return;
                    });
                    for (int yields = 0; yields < 1000; ++yields) {
                        if (auto m = co_await self.receive(0ms)) {
                            self.send(reply_to, tuple(*m, Term(std::int64_t{yields})));
                            co_return;
                        }
                        co_await self.yield();
                    }
                    self.send(reply_to, atom("starved"));
                }).value();
    (void)p;
    auto reply = box.receive(5s);
    ASSERT_TRUE(reply);
    ASSERT_TRUE(reply->is_tuple(2)) << to_string(*reply);
    EXPECT_EQ((*reply)[0], Term(atom("hello")));
    EXPECT_EQ((*reply)[1], Term(std::int64_t{1})) << "the child ran only after the first yield";
    node->stop();
}

TEST(ProcessOnOneThread, ExitSignalThatArrivesDuringAYieldEndsTheProcessThere) {
    auto node = start_one_thread_node("yieldexit");
    ASSERT_TRUE(node);
    auto box = node->make_mailbox().value();
    auto after_yield = std::make_shared<std::atomic<bool>>(false);
    Spawned spawned = box.self().spawn(
        [after_yield](Self self) -> Task<> {
            self.spawn([parent = self.pid()](Self child) -> Task<> {
                child.exit(parent, atom("stop_now"));
                co_return;
            });
            co_await self.yield();
            *after_yield = true;
        },
        {.monitor = true});
    ASSERT_TRUE(spawned.monitor);
    auto down = box.receive(5s);
    ASSERT_TRUE(down);
    EXPECT_EQ(*down, tuple(atom("DOWN"), *spawned.monitor, atom("process"), spawned.pid, atom("stop_now")));
    EXPECT_FALSE(after_yield->load());
    node->stop();
}

// Two processes passing a message back and forth never leave the run queue empty. The node's
// only thread still goes back to the io_context every so often (run_queue_budget), so a
// timer fires and a message from another thread arrives while they go on.
TEST(ProcessOnOneThread, ABusyPairOfProcessesLeavesTimersAndOtherThreadsTheirTurn) {
    auto node = start_one_thread_node("fairtest");
    ASSERT_TRUE(node);
    auto box = node->make_mailbox().value();
    auto rounds = std::make_shared<std::atomic<long>>(0);
    Pid ponger = node->spawn([rounds](Self self) -> Task<> {
                         for (;;) {
                             auto m = co_await self.receive();
                             if (!m->is_pid()) co_return;
                             rounds->fetch_add(1, std::memory_order_relaxed);
                             self.send(m->as_pid(), atom("pong"));
                         }
                     }).value();
    Pid pinger = node->spawn([ponger](Self self) -> Task<> {
                         self.send(ponger, self.pid());
                         for (;;) {
                             auto m = co_await self.receive();
                             if (m->is_atom(atom("stop"))) break;
                             self.send(ponger, self.pid());
                         }
                         self.send(ponger, atom("stop"));
                     }).value();
    Pid waiter = node->spawn([reply_to = box.pid()](Self self) -> Task<> {
                         auto m = co_await self.receive(20ms);
                         self.send(reply_to, m ? atom("got") : atom("timeout"));
                         auto asked = co_await self.receive();
                         self.send(reply_to, *asked);
                     }).value();
    auto timed_out = box.receive(10s);
    ASSERT_TRUE(timed_out) << "a timer never fired while two processes kept the thread busy";
    EXPECT_EQ(*timed_out, Term(atom("timeout")));
    box.send(waiter, atom("from_another_thread"));
    auto echoed = box.receive(10s);
    ASSERT_TRUE(echoed) << "a message from another thread never arrived";
    EXPECT_EQ(*echoed, Term(atom("from_another_thread")));
    EXPECT_GT(rounds->load(), 100) << "the pair was not busy meanwhile";
    Ref done = box.self().monitor(ponger);
    box.send(pinger, atom("stop"));
    auto down = box.receive([&](const Term& t) { return t.is_tuple(5) && t[1] == Term(done); }, 10s);
    ASSERT_TRUE(down) << "the pair did not stop when told to";
    node->stop();
}

// stop() kills every process; a pair that keeps the run queue full dies at its next receive,
// and nothing it queued keeps the node alive afterwards.
TEST(ProcessOnOneThread, StoppingTheNodeEndsABusyPairAndLetsTheNodeGo) {
    std::weak_ptr<Node> left;
    auto ended = std::make_shared<std::atomic<int>>(0);
    {
        auto node = start_one_thread_node("stopbusy");
        ASSERT_TRUE(node);
        left = node;
        auto box = node->make_mailbox().value();
        auto player = [ended, reply_to = box.pid()](Self self) -> Task<> {
            struct Count {
                std::shared_ptr<std::atomic<int>> n;
                ~Count() { n->fetch_add(1); } // runs when the body ends, however it ends
            } count{ended};
            for (long round = 1;; ++round) {
                auto m = co_await self.receive();
                self.send(m->as_pid(), self.pid());
                if (round == 10'000) self.send(reply_to, atom("busy"));
            }
        };
        Pid a = node->spawn(player).value();
        Pid b = node->spawn(player).value();
        box.send(a, b); // a sends its pid to b, b to a, and so on for ever
        // Both are well under way (more rounds than the run queue's budget, many times over).
        for (int i = 0; i < 2; ++i) {
            auto busy = box.receive(10s);
            ASSERT_TRUE(busy);
            ASSERT_EQ(*busy, Term(atom("busy")));
        }
        node->stop();
        EXPECT_EQ(ended->load(), 2) << "stop() returned before both processes ended";
    }
    EXPECT_TRUE(left.expired()) << "the stopped node is still held (by a queued process?)";
}
