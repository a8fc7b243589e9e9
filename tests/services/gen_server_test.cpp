// gen_server semantics on one C++ node: the server loop (calls, casts, info, deferred replies,
// stop, terminate, init results, parent exits) and the client (replies, timeouts that drop late
// replies, noproc, the server's exit reason). tests/interop/gen_server_interop_test.cpp checks
// the same protocol against erl and Elixir.
#include <edist/gen_server.hpp>
#include <edist/node.hpp>
#include <edist/text.hpp>

#include "node/local_node.hpp"

#include <gtest/gtest.h>

using namespace edist;
using namespace std::chrono_literals;
namespace gs = edist::gen_server;

namespace {


// A key-value server that reports its terminate to `observer`.
struct Kv : gs::Server {
    explicit Kv(Pid observer) : observer(observer) {}
    Pid observer;
    std::map<Term, Term> data;
    std::optional<From> waiting; // a {wait} call answered by the next put

    Task<Next> handle_call(Term req, From from) override {
        if (req.is_tuple(2) && req[0].is_atom(atom("get"))) {
            auto it = data.find(req[1]);
            co_return reply(it == data.end() ? Term(atoms::undefined) : it->second);
        }
        if (req.is_atom(atom("wait"))) {
            waiting = from;
            self().send(observer, tuple(atom("waiting")));
            co_return noreply();
        }
        if (req.is_atom(atom("never"))) co_return noreply();
        if (req.is_atom(atom("crash"))) self().exit(atom("boom"));
        if (req.is_atom(atom("throw"))) throw std::runtime_error("bad thing");
        if (req.is_atom(atom("stop"))) co_return stop(atom("normal"), atom("stopping"));
        if (req.is_atom(atom("self"))) co_return reply(self().pid());
        co_return reply(tuple(atom("echo"), req));
    }
    Task<Next> handle_cast(Term msg) override {
        if (msg.is_tuple(3) && msg[0].is_atom(atom("put"))) {
            data[msg[1]] = msg[2];
            if (waiting) reply(*std::exchange(waiting, std::nullopt), msg[2]);
        }
        co_return noreply();
    }
    Task<Next> handle_info(Term msg) override {
        data[atom("info")] = msg;
        co_return noreply();
    }
    Task<> terminate(Term reason) override {
        self().send(observer, tuple(atom("terminated"), reason));
        co_return;
    }
    Term state() const override { return Term(static_cast<std::int64_t>(data.size())); }
};

std::optional<Term> receive_tagged(Mailbox& box, const char* tag, std::chrono::milliseconds t = 5s) {
    return box.receive([&](const Term& m) { return m.is_tuple() && m.tuple_size() >= 1 && m[0].is_atom(atom(tag)); }, t);
}

// Every test runs on a node with one thread (the run queue) and on a node with two.
class GenServer : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override {
        node = test::start_local_node("gstest", true, GetParam());
        box = node->make_mailbox().value();
    }
    void TearDown() override { node->stop(); }
    Pid start_kv(std::string_view name = {}) {
        auto r = gs::start(*node, std::make_unique<Kv>(box.pid()), {.name = name});
        EXPECT_TRUE(r.ok()) << to_string(r.term());
        return r.pid();
    }
    std::shared_ptr<Node> node;
    Mailbox box;
};

} // namespace

INSTANTIATE_TEST_SUITE_P(Threads, GenServer, testing::Values(1u, 2u),
                         [](const testing::TestParamInfo<unsigned>& i) { return i.param == 1 ? "OneThread" : "TwoThreads"; });

TEST_P(GenServer, CallByRegisteredNameGetsTheReply) {
    start_kv("kv");
    auto r = gs::call(*node, atom("kv"), atom("hello"));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, tuple(atom("echo"), atom("hello")));
    // The same server by {Name, Node} and from a mailbox's thread.
    auto m = gs::call(box, {atom("kv"), node->name()}, atom("again"));
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(*m, tuple(atom("echo"), atom("again")));
    EXPECT_EQ(box.queued(), 0u) << "the call leaves no reply or DOWN behind";
}

TEST_P(GenServer, CastReachesHandleCastAndOtherMessagesReachHandleInfo) {
    Pid kv = start_kv();
    gs::cast(*node, kv, tuple(atom("put"), atom("k"), 42));
    node->send(kv, atom("plain"));
    // Messages are handled in order, so the call sees both.
    EXPECT_EQ(*gs::call(*node, kv, tuple(atom("get"), atom("k"))), Term(42));
    EXPECT_EQ(*gs::call(*node, kv, tuple(atom("get"), atom("info"))), Term(atom("plain")));
}

TEST_P(GenServer, DeferredReplyThroughFromAnswersTheWaitingCaller) {
    Pid kv = start_kv();
    auto waiter = node->spawn([kv, to = box.pid()](Self self) -> Task<> {
        auto r = co_await gs::call(self, kv, atom("wait"), 5s);
        self.send(to, tuple(atom("waited"), r ? *r : r.error().reason));
    });
    ASSERT_TRUE(waiter.ok());
    ASSERT_TRUE(receive_tagged(box, "waiting")); // the call is parked in the server
    gs::cast(*node, kv, tuple(atom("put"), atom("k"), atom("v")));
    auto got = receive_tagged(box, "waited");
    ASSERT_TRUE(got);
    EXPECT_EQ((*got)[1], Term(atom("v")));
}

TEST_P(GenServer, CallTimesOutAndTheLateReplyIsDropped) {
    Pid kv = start_kv();
    auto r = gs::call(box, kv, atom("wait"), 100ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, Term(atoms::timeout));
    EXPECT_EQ(r.error().exit_reason(),
              tuple(atoms::timeout, tuple(atom("gen_server"), atom("call"), list(kv, atom("wait"), 100))));
    ASSERT_TRUE(receive_tagged(box, "waiting"));
    // The server now answers the timed-out call; the answer goes to a dead alias.
    gs::cast(*node, kv, tuple(atom("put"), atom("k"), atom("late")));
    ASSERT_TRUE(gs::call(box, kv, tuple(atom("get"), atom("k"))).ok()); // the put is done
    EXPECT_EQ(box.queued(), 0u) << "a reply after the timeout must not reach the caller";
}

TEST_P(GenServer, CallToAMissingNameIsNoproc) {
    auto r = gs::call(*node, atom("nobody_here"), atom("x"), 1s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, Term(atoms::noproc));
}

TEST_P(GenServer, ServerCrashDuringTheCallGivesItsExitReasonAndRunsTerminate) {
    Pid kv = start_kv();
    auto r = gs::call(*node, kv, atom("crash"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, Term(atom("boom")));
    auto t = receive_tagged(box, "terminated");
    ASSERT_TRUE(t);
    EXPECT_EQ((*t)[1], Term(atom("boom")));

    Pid kv2 = start_kv();
    r = gs::call(*node, kv2, atom("throw"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, tuple(atom("cpp_exception"), binary("bad thing")));
}

TEST_P(GenServer, StopWithReplyRunsTerminateAndAnswers) {
    Pid kv = start_kv();
    auto r = gs::call(*node, kv, atom("stop"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, Term(atom("stopping")));
    auto t = receive_tagged(box, "terminated");
    ASSERT_TRUE(t);
    EXPECT_EQ((*t)[1], Term(atoms::normal));
}

TEST_P(GenServer, StopAsksTheServerToTerminateWithAReason) {
    Pid kv = start_kv("stoppable");
    auto r = gs::stop(*node, atom("stoppable"), atom("shutdown"), 5s);
    ASSERT_TRUE(r.ok()) << r.error().message();
    auto t = receive_tagged(box, "terminated");
    ASSERT_TRUE(t);
    EXPECT_EQ((*t)[1], Term(atom("shutdown")));
    EXPECT_FALSE(node->whereis(atom("stoppable")));
    EXPECT_EQ(gs::stop(*node, kv).error().reason, Term(atoms::noproc));
}

TEST_P(GenServer, InitResultsStopIgnoreAndAlreadyStarted) {
    struct Refuses : gs::Server {
        Term what;
        explicit Refuses(Term w) : what(std::move(w)) {}
        Task<Init> init() override {
            if (what.is_atom(atom("ignore"))) co_return Init::ignore();
            if (what.is_atom(atom("throw"))) throw ExitError(atom("init_crashed"));
            co_return Init::stop(what);
        }
    };
    auto r = gs::start(*node, std::make_unique<Refuses>(atom("no_way")), {.name = "refuses"});
    EXPECT_EQ(r.term(), tuple(atoms::error, atom("no_way")));
    EXPECT_FALSE(node->whereis(atom("refuses"))) << "a failed init leaves the name free";
    EXPECT_TRUE(gs::start(*node, std::make_unique<Refuses>(atom("ignore"))).ignored());
    EXPECT_EQ(gs::start(*node, std::make_unique<Refuses>(atom("throw"))).term(), tuple(atoms::error, atom("init_crashed")));

    Pid kv = start_kv("taken");
    r = gs::start(*node, std::make_unique<Kv>(box.pid()), {.name = "taken"});
    EXPECT_EQ(r.term(), tuple(atoms::error, tuple(atom("already_started"), kv)));
}

TEST_P(GenServer, InitTimeoutKillsTheServer) {
    struct Slow : gs::Server {
        Task<Init> init() override {
            co_await self().receive([](const Term&) { return false; });
            co_return Init::ok();
        }
    };
    auto r = gs::start(*node, std::make_unique<Slow>(), {.name = "slow", .timeout = 100ms});
    EXPECT_EQ(r.term(), tuple(atoms::error, atoms::timeout));
}

TEST_P(GenServer, TrappingServerTerminatesWithItsParentsReason) {
    struct Trapper : Kv {
        using Kv::Kv;
        Task<Init> init() override {
            self().trap_exit(true);
            co_return Init::ok();
        }
    };
    auto parent = node->spawn([to = box.pid()](Self self) -> Task<> {
        auto r = co_await gs::start_link(self, std::make_unique<Trapper>(to));
        self.send(to, tuple(atom("started"), r.term()));
        co_await self.receive(); // until told to go
        self.exit(atom("parent_gone"));
    });
    ASSERT_TRUE(parent.ok());
    auto started = receive_tagged(box, "started");
    ASSERT_TRUE(started);
    ASSERT_TRUE(started->operator[](1).is_tuple(2)) << to_string(*started);
    node->send(*parent, atom("go"));
    auto t = receive_tagged(box, "terminated");
    ASSERT_TRUE(t);
    EXPECT_EQ((*t)[1], Term(atom("parent_gone")));
}

TEST_P(GenServer, IdleTimeoutDeliversTimeoutToHandleInfo) {
    struct Idle : gs::Server {
        Pid to;
        explicit Idle(Pid p) : to(p) {}
        Task<Init> init() override { co_return Init::ok(50ms); }
        Task<Next> handle_info(Term msg) override {
            self().send(to, tuple(atom("info"), msg));
            co_return noreply();
        }
    };
    ASSERT_TRUE(gs::start(*node, std::make_unique<Idle>(box.pid())).ok());
    auto m = receive_tagged(box, "info");
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)[1], Term(atoms::timeout));
}

TEST_P(GenServer, ServerCallsAnotherServerFromItsCallback) {
    start_kv("backend");
    struct Front : gs::Server {
        Task<Next> handle_call(Term req, From) override {
            if (req.is_atom(atom("loop"))) {
                auto r = co_await gs::call(self(), self().pid(), req);
                co_return reply(r.ok() ? *r : r.error().reason);
            }
            auto r = co_await gs::call(self(), atom("backend"), req);
            co_return reply(tuple(atom("via_front"), r.value()));
        }
    };
    auto front = gs::start(*node, std::make_unique<Front>());
    ASSERT_TRUE(front.ok());
    EXPECT_EQ(*gs::call(*node, front.pid(), atom("x")), tuple(atom("via_front"), tuple(atom("echo"), atom("x"))));
    // Calling oneself is refused, as gen:call's exit(calling_self).
    EXPECT_EQ(*gs::call(*node, front.pid(), atom("loop")), Term(atom("calling_self")));
}

TEST_P(GenServer, SystemGetStateAnswersWithTheServersState) {
    Pid kv = start_kv();
    gs::cast(*node, kv, tuple(atom("put"), atom("a"), 1));
    // sys:get_state(Pid) is gen:call(Pid, system, get_state).
    Ref tag = box.self().make_ref();
    box.send(kv, tuple(atom("system"), tuple(box.pid(), tag), atom("get_state")));
    auto r = box.receive([&](const Term& t) { return t.is_tuple(2) && t[0] == Term(tag); }, 5s);
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)[1], Term(1));
}
