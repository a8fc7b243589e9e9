// Ending a process and failing an exported function without throwing: Self::set_exit_reason
// and functions that return a CallOutcome. erpc's own paths use both, so a successful call
// unwinds nothing; these tests pin down that the reasons and outcomes are the ones a thrown
// ExitError or ErlangException would give.
#include <edist/node.hpp>
#include <edist/process.hpp>
#include <edist/rpc.hpp>

#include "node/local_node.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace edist;
using namespace std::chrono_literals;

// Every test runs on a node with one thread (where a process's sends make others ready on the
// same thread: the run queue) and on a node with two.
class ExitReason : public testing::TestWithParam<unsigned> {
protected:
    std::shared_ptr<Node> start_node() { return test::start_local_node("exittest", false, GetParam()); }
};
INSTANTIATE_TEST_SUITE_P(Threads, ExitReason, testing::Values(1u, 2u),
                         [](const testing::TestParamInfo<unsigned>& i) { return i.param == 1 ? "OneThread" : "TwoThreads"; });

namespace {


// Spawns `body` after a monitor is in place, lets it run, and returns its DOWN reason.
Term down_reason(Node& node, ProcessBody body) {
    auto box = node.make_mailbox().value();
    Pid p = node.spawn([body = std::move(body)](Self self) -> Task<> {
                    co_await self.receive();
                    co_await body(self);
                }).value();
    Ref ref = box.self().monitor(p);
    box.send(p, atom("go"));
    auto down = box.receive(5s);
    EXPECT_TRUE(down && down->is_tuple(5) && (*down)[1] == Term(ref));
    return down ? (*down)[4] : Term(atom("no_down"));
}

} // namespace

TEST_P(ExitReason, SetExitReasonIsTheReasonWhenTheBodyReturns) {
    auto node = start_node();
    Term reason = down_reason(*node, [](Self self) -> Task<> {
        self.set_exit_reason(tuple(atom("shutdown"), 7));
        co_return;
    });
    EXPECT_EQ(reason, tuple(atom("shutdown"), 7));
    node->stop();
}

TEST_P(ExitReason, CodeAfterSetExitReasonRunsAndTheLastReasonSetWins) {
    auto node = start_node();
    Term reason = down_reason(*node, [](Self self) -> Task<> {
        self.set_exit_reason(atom("first"));
        self.set_exit_reason(atom("second"));
        co_return;
    });
    EXPECT_EQ(reason, Term(atom("second")));
    node->stop();
}

TEST_P(ExitReason, AThrowAfterSetExitReasonStillDecides) {
    auto node = start_node();
    Term reason = down_reason(*node, [](Self self) -> Task<> {
        self.set_exit_reason(atom("not_this"));
        self.exit(atom("thrown"));
        co_return;
    });
    EXPECT_EQ(reason, Term(atom("thrown")));
    node->stop();
}

TEST_P(ExitReason, AKillWhileWaitingWinsOverSetExitReason) {
    auto node = start_node();
    auto box = node->make_mailbox().value();
    Pid p = node->spawn([](Self self) -> Task<> {
                    self.set_exit_reason(atom("not_this"));
                    co_await self.receive();
                }).value();
    Ref ref = box.self().monitor(p);
    box.self().exit(p, atom("kill"));
    auto down = box.receive(5s);
    ASSERT_TRUE(down);
    EXPECT_EQ(*down, tuple(atom("DOWN"), ref, atom("process"), p, atom("killed")));
    node->stop();
}

TEST_P(ExitReason, OutcomeFunctionsReachErpcCallersAsThrownOnesWould) {
    auto node = start_node();
    node->export_function("t", "outcome", 1, [](Self, Args a) -> Task<CallOutcome> {
        if (a[0] == Term(atom("value"))) co_return CallOutcome::returned(42);
        if (a[0] == Term(atom("exit"))) co_return CallOutcome::raised(ErlangClass::exit, atom("bye"));
        if (a[0] == Term(atom("throw"))) co_return CallOutcome::raised(ErlangClass::throw_, atom("ball"));
        co_return CallOutcome::raised(ErlangClass::error, atom("broken"));
    });
    node->export_function("t", "thrown", 1, [](Self, Args) -> Task<Term> {
        raise_error(atom("broken"));
        co_return Term();
    });
    CallOptions opts;
    opts.timeout = 5s;
    auto call = [&](const char* fn, const char* arg) {
        return erpc::call(*node, node->name(), atom("t"), atom(fn), list(atom(arg)), opts);
    };

    CallOutcome v = call("outcome", "value");
    EXPECT_TRUE(v.ok);
    EXPECT_EQ(v.value, Term(42));

    CallOutcome x = call("outcome", "exit");
    EXPECT_FALSE(x.ok);
    EXPECT_EQ(x.cls, ErlangClass::exit);
    EXPECT_EQ(x.value, Term(atom("bye")));

    CallOutcome t = call("outcome", "throw");
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.cls, ErlangClass::throw_);
    EXPECT_EQ(t.value, Term(atom("ball")));

    // An error returned as a value gets the same stack as a thrown one: the call itself.
    CallOutcome returned = call("outcome", "error");
    CallOutcome thrown = call("thrown", "error");
    EXPECT_FALSE(returned.ok);
    EXPECT_EQ(returned.cls, ErlangClass::error);
    EXPECT_EQ(returned.value, Term(atom("broken")));
    EXPECT_EQ(returned.stacktrace, list(tuple(atom("t"), atom("outcome"), list(atom("error")), Term())));
    EXPECT_EQ(thrown.stacktrace, list(tuple(atom("t"), atom("thrown"), list(atom("error")), Term())));
    node->stop();
}

TEST_P(ExitReason, ASpawnedOutcomeFunctionExitsWithItsReason) {
    auto node = start_node();
    node->export_function("t", "leave", 1, [](Self, Args a) -> Task<CallOutcome> {
        co_return CallOutcome::raised(ErlangClass::exit, a[0]);
    });
    auto box = node->make_mailbox().value();
    node->spawn([reply_to = box.pid()](Self self) -> Task<> {
        SpawnOptions so;
        so.monitor = true;
        auto s = co_await self.spawn_request(self.node().name(), atom("t"), atom("leave"), list(tuple(atom("gone"), 1)), so);
        auto down = co_await self.receive([&](const Term& m) { return m.is_tuple(5) && m[1] == Term(*s->monitor); }, 5s);
        self.send(reply_to, down ? (*down)[4] : Term(atom("no_down")));
    });
    auto reason = box.receive(5s);
    ASSERT_TRUE(reason);
    EXPECT_EQ(*reason, tuple(atom("gone"), 1));
    node->stop();
}
