// Supervisor semantics on one C++ node: the three static strategies and simple_one_for_one,
// restart types, restart intensity, shutdown (timeouts, brutal_kill, reverse order), start
// failures and the which_children / terminate_child / restart_child / delete_child calls.
// tests/interop/supervisor_interop_test.cpp supervises BEAM processes.
#include <edist/gen_server.hpp>
#include <edist/node.hpp>
#include <edist/supervisor.hpp>
#include <edist/text.hpp>

#include "node/local_node.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace edist;
using namespace edist::supervisor;
using namespace std::chrono_literals;
namespace gs = edist::gen_server;

namespace {


bool tagged(const Term& t, const char* tag) { return t.is_tuple() && t.tuple_size() >= 1 && t[0].is_atom(atom(tag)); }

// A child that reports {started, Id, Pid, Args}, exits with R on {exit, R}, and, when
// trapping, reports {stopping, Id} on its supervisor's shutdown (and ignores it if `stubborn`).
ProcessBody reporter(Pid observer, Term id, bool trap = false, bool stubborn = false, Term args = Term()) {
    return [=](Self self) -> Task<> {
        if (trap) self.trap_exit(true);
        self.send(observer, tuple(atom("started"), id, self.pid(), args));
        for (;;) {
            auto m = co_await self.receive();
            if (tagged(*m, "exit")) self.exit((*m)[1]);
            if (tagged(*m, "EXIT")) {
                self.send(observer, tuple(atom("stopping"), id));
                if (!stubborn) self.exit((*m)[2]);
            }
        }
    };
}

ChildSpec child(Pid observer, const char* id, Restart restart = Restart::permanent) {
    return {.id = atom(id), .start = worker(reporter(observer, atom(id))), .restart = restart};
}

// Every test runs on a node with one thread (the run queue) and on a node with two.
class Supervisor : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override {
        node = test::start_local_node("suptest", true, GetParam());
        box = node->make_mailbox().value();
    }
    void TearDown() override { node->stop(); }

    // The pid of the next {started, Id, ...} report.
    std::optional<Pid> started(const char* id, std::chrono::milliseconds t = 5s) {
        auto m = box.receive([&](const Term& x) { return tagged(x, "started") && x[1] == Term(atom(id)); }, t);
        return m ? std::optional<Pid>((*m)[2].as_pid()) : std::nullopt;
    }
    std::optional<Term> next(const char* tag, std::chrono::milliseconds t = 5s) {
        return box.receive([&](const Term& x) { return tagged(x, tag); }, t);
    }
    Term call(const Pid& sup, Term req) {
        auto r = gs::call(*node, sup, std::move(req), 5s);
        EXPECT_TRUE(r.ok()) << r.error().message();
        return r.ok() ? *r : Term();
    }
    Ref watch(const Pid& p) { return box.self().monitor(p); }
    // Waits for the DOWN of `watch`'s monitor and returns the exit reason.
    Term down_reason(const Ref& m) {
        auto down = box.receive([&](const Term& x) { return tagged(x, "DOWN") && x[1] == Term(m); }, 10s);
        return down ? (*down)[4] : Term(atom("still_alive"));
    }
    Term exit_reason_of(const Pid& p) { return down_reason(watch(p)); }

    std::shared_ptr<Node> node;
    Mailbox box;
};

} // namespace

INSTANTIATE_TEST_SUITE_P(Threads, Supervisor, testing::Values(1u, 2u),
                         [](const testing::TestParamInfo<unsigned>& i) { return i.param == 1 ? "OneThread" : "TwoThreads"; });

TEST_P(Supervisor, OneForOneRestartsOnlyTheCrashedChild) {
    auto sup = start(*node, {.strategy = Strategy::one_for_one, .intensity = 5}, {child(box.pid(), "a"), child(box.pid(), "b")});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term());
    auto a = started("a"), b = started("b");
    ASSERT_TRUE(a && b);
    box.send(*a, tuple(atom("exit"), atom("crash")));
    auto a2 = started("a");
    ASSERT_TRUE(a2);
    EXPECT_NE(*a2, *a);
    // Newest first, as OTP lists them; the restarted child keeps its place.
    EXPECT_EQ(call(sup.pid(), atom("which_children")),
              list(tuple(atom("b"), *b, atom("worker"), Term()), tuple(atom("a"), *a2, atom("worker"), Term())));
}

TEST_P(Supervisor, OneForAllRestartsEveryChild) {
    auto sup = start(*node, {.strategy = Strategy::one_for_all, .intensity = 5}, {child(box.pid(), "a"), child(box.pid(), "b")});
    ASSERT_TRUE(sup.ok());
    auto a = started("a"), b = started("b");
    ASSERT_TRUE(a && b);
    Ref ma = watch(*a);
    box.send(*b, tuple(atom("exit"), atom("crash")));
    auto a2 = started("a"), b2 = started("b");
    ASSERT_TRUE(a2 && b2);
    EXPECT_EQ(down_reason(ma), Term(atom("shutdown")));
}

TEST_P(Supervisor, RestForOneRestartsTheCrashedChildAndThoseStartedAfterIt) {
    auto sup = start(*node, {.strategy = Strategy::rest_for_one, .intensity = 5},
                     {child(box.pid(), "a"), child(box.pid(), "b"), child(box.pid(), "c")});
    ASSERT_TRUE(sup.ok());
    auto a = started("a"), b = started("b"), c = started("c");
    ASSERT_TRUE(a && b && c);
    box.send(*b, tuple(atom("exit"), atom("crash")));
    ASSERT_TRUE(started("b"));
    ASSERT_TRUE(started("c"));
    Term children = call(sup.pid(), atom("which_children"));
    EXPECT_EQ(children.as_list().elements[2][1], Term(*a)) << "a started before b: untouched (listed last)";
    EXPECT_FALSE(started("a", 0ms));
}

TEST_P(Supervisor, TransientRestartsOnlyAfterAbnormalExitsAndTemporaryNever) {
    auto sup = start(*node, {.intensity = 5},
                     {child(box.pid(), "t", Restart::transient), child(box.pid(), "tmp", Restart::temporary)});
    ASSERT_TRUE(sup.ok());
    auto t = started("t"), tmp = started("tmp");
    ASSERT_TRUE(t && tmp);
    box.send(*t, tuple(atom("exit"), atom("crash")));
    auto t2 = started("t");
    ASSERT_TRUE(t2);
    Ref mt = watch(*t2), mtmp = watch(*tmp);
    box.send(*t2, tuple(atom("exit"), atom("normal")));
    EXPECT_EQ(down_reason(mt), Term(atoms::normal));
    box.send(*tmp, tuple(atom("exit"), atom("crash")));
    EXPECT_EQ(down_reason(mtmp), Term(atom("crash")));
    // The supervisor has handled both exits once a call made after them returns.
    EXPECT_EQ(call(sup.pid(), atom("which_children")), list(tuple(atom("t"), atoms::undefined, atom("worker"), Term())));
    EXPECT_FALSE(started("t", 0ms));
    EXPECT_FALSE(started("tmp", 0ms));
    // A transient child that ended normally can be restarted by hand.
    auto r = call(sup.pid(), tuple(atom("restart_child"), atom("t")));
    ASSERT_TRUE(r.is_tuple(2)) << to_string(r);
    EXPECT_TRUE(started("t"));
}

TEST_P(Supervisor, TooManyRestartsShutTheSupervisorDown) {
    auto sup = start(*node, {.intensity = 1, .period = 60s}, {child(box.pid(), "a", Restart::permanent), child(box.pid(), "b")});
    ASSERT_TRUE(sup.ok());
    auto a = started("a"), b = started("b");
    ASSERT_TRUE(a && b);
    Ref m = box.self().monitor(sup.pid());
    box.send(*a, tuple(atom("exit"), atom("crash")));
    auto a2 = started("a");
    ASSERT_TRUE(a2);
    box.send(*a2, tuple(atom("exit"), atom("crash")));
    auto down = box.receive([&](const Term& x) { return tagged(x, "DOWN") && x[1] == Term(m); }, 10s);
    ASSERT_TRUE(down);
    EXPECT_EQ((*down)[4], Term(atom("shutdown")));
    EXPECT_EQ(exit_reason_of(*b), Term(atoms::noproc)) << "the other children are stopped first";
    EXPECT_FALSE(started("a", 0ms));
}

TEST_P(Supervisor, ShutdownTimeoutKillsAStubbornChildAndBrutalKillKillsAtOnce) {
    auto sup = start(*node, {},
                     {{.id = atom("polite"), .start = worker(reporter(box.pid(), atom("polite"), true)), .shutdown = 5s},
                      {.id = atom("stubborn"), .start = worker(reporter(box.pid(), atom("stubborn"), true, true)), .shutdown = 100ms},
                      {.id = atom("brutal"), .start = worker(reporter(box.pid(), atom("brutal"), true)), .shutdown = brutal_kill}});
    ASSERT_TRUE(sup.ok());
    auto polite = started("polite"), stubborn = started("stubborn"), brutal = started("brutal");
    ASSERT_TRUE(polite && stubborn && brutal);
    Ref mp = box.self().monitor(*polite), ms = box.self().monitor(*stubborn), mb = box.self().monitor(*brutal);
    EXPECT_EQ(call(sup.pid(), tuple(atom("terminate_child"), atom("stubborn"))), Term(atoms::ok));
    // Shutting the supervisor down stops the rest in reverse start order.
    auto stopped = gs::stop(*node, sup.pid(), atom("shutdown"), 10s);
    EXPECT_TRUE(stopped.ok()) << stopped.error().message();
    auto reason = [&](const Ref& r) {
        auto d = box.receive([&](const Term& x) { return tagged(x, "DOWN") && x[1] == Term(r); }, 10s);
        return d ? (*d)[4] : Term();
    };
    EXPECT_EQ(reason(ms), Term(atoms::killed));
    EXPECT_EQ(reason(mb), Term(atoms::killed));
    EXPECT_EQ(reason(mp), Term(atom("shutdown")));
    // Only the trapping children saw the shutdown: stubborn, then polite (brutal was killed).
    EXPECT_EQ((*next("stopping"))[1], Term(atom("stubborn")));
    EXPECT_EQ((*next("stopping"))[1], Term(atom("polite")));
}

TEST_P(Supervisor, SimpleOneForOneStartsChildrenWithExtraArguments) {
    ChildSpec tmpl{.id = atoms::undefined,
                   .start = [to = box.pid()](Self sup, Term args) -> Task<StartResult> {
                       SpawnOptions o;
                       o.link = true;
                       co_return StartResult::started(sup.spawn(reporter(to, atom("dyn"), false, false, args), o).pid);
                   },
                   .restart = Restart::transient};
    auto sup = start(*node, {.strategy = Strategy::simple_one_for_one}, {tmpl}, {.name = "pool"});
    ASSERT_TRUE(sup.ok());
    auto r1 = call(sup.pid(), tuple(atom("start_child"), list(1)));
    auto r2 = call(sup.pid(), tuple(atom("start_child"), list(2)));
    ASSERT_TRUE(r1.is_tuple(2) && r2.is_tuple(2)) << to_string(r1);
    auto s1 = box.receive([](const Term& x) { return tagged(x, "started"); }, 5s);
    ASSERT_TRUE(s1);
    EXPECT_EQ((*s1)[3], list(1));
    EXPECT_EQ(call(sup.pid(), atom("count_children")),
              list(tuple(atom("specs"), 1), tuple(atom("active"), 2), tuple(atom("supervisors"), 0), tuple(atom("workers"), 2)));
    EXPECT_EQ(call(sup.pid(), tuple(atom("terminate_child"), r1[1])), Term(atoms::ok));
    EXPECT_EQ(call(sup.pid(), atom("which_children")), list(tuple(atoms::undefined, r2[1], atom("worker"), Term())));
}

TEST_P(Supervisor, ChildThatFailsToStartFailsTheSupervisorAndStopsEarlierChildren) {
    ChildSpec bad{.id = atom("bad"), .start = [](Self, Term) -> Task<StartResult> { co_return StartResult::error(atom("nope")); }};
    auto sup = start(*node, {}, {child(box.pid(), "a"), bad});
    EXPECT_EQ(sup.term(), tuple(atoms::error, tuple(atom("shutdown"), tuple(atom("failed_to_start_child"), atom("bad"), atom("nope")))));
    auto a = started("a");
    ASSERT_TRUE(a);
    EXPECT_EQ(exit_reason_of(*a), Term(atoms::noproc));
}

TEST_P(Supervisor, SupervisesGenServersAndNestedSupervisors) {
    struct Counter : gs::Server {
        std::int64_t n = 0;
        Task<Next> handle_call(Term, From) override { co_return reply(++n); }
    };
    auto sup = start(*node, {.strategy = Strategy::one_for_one, .intensity = 5},
                     {{.id = atom("counter"), .start = server([] { return std::make_unique<Counter>(); }, "counter")},
                      {.id = atom("inner"),
                       .start = child_supervisor({}, {child(box.pid(), "leaf")}, "inner_sup"),
                       .type = ChildType::supervisor}});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term());
    ASSERT_TRUE(started("leaf"));
    EXPECT_EQ(*gs::call(*node, atom("counter"), atom("next")), Term(1));
    EXPECT_EQ(*gs::call(*node, atom("counter"), atom("next")), Term(2));
    // Killing the server makes a fresh one, with fresh state, under the same name.
    Pid old = *node->whereis(atom("counter"));
    Ref m = watch(old);
    box.self().exit(old, atoms::kill);
    EXPECT_EQ(down_reason(m), Term(atoms::killed));
    // The EXIT reached the supervisor before our DOWN; a call after it sees the restart done.
    call(sup.pid(), atom("which_children"));
    EXPECT_NE(*node->whereis(atom("counter")), old);
    EXPECT_EQ(*gs::call(*node, atom("counter"), atom("next")), Term(1));
}

TEST_P(Supervisor, TerminatingAChildWaitingForARestartAttemptKeepsItDown) {
    // The first restart fails; before failing, the start function queues calls in the
    // supervisor's mailbox, ahead of the try_again_restart cast the failure makes it send itself.
    auto fail_next = std::make_shared<std::atomic<bool>>(false);
    const Ref ref = box.self().make_ref();
    auto tag = [&](const char* t) { return tuple(ref, atom(t)); };
    const Term from_wc1 = tuple(box.pid(), tag("wc1")), from_term = tuple(box.pid(), tag("term")),
               from_wc2 = tuple(box.pid(), tag("wc2"));
    ChildSpec flaky{.id = atom("f"),
                    .start = [=, to = box.pid()](Self sup, Term) -> Task<StartResult> {
                        if (fail_next->exchange(false)) {
                            sup.send(sup.pid(), tuple(atom("$gen_call"), from_wc1, atom("which_children")));
                            sup.send(sup.pid(), tuple(atom("$gen_call"), from_term, tuple(atom("terminate_child"), atom("f"))));
                            sup.send(sup.pid(), tuple(atom("$gen_call"), from_wc2, atom("which_children")));
                            co_return StartResult::error(atom("nope"));
                        }
                        SpawnOptions o;
                        o.link = true;
                        co_return StartResult::started(sup.spawn(reporter(to, atom("f")), o).pid);
                    }};
    auto sup = start(*node, {.intensity = 5, .period = 60s}, {flaky});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term());
    auto f = started("f");
    ASSERT_TRUE(f);
    fail_next->store(true);
    box.send(*f, tuple(atom("exit"), atom("crash")));
    auto answer = [&](const char* t) {
        auto m = box.receive([&](const Term& x) { return x.is_tuple(2) && x[0] == tag(t); }, 10s);
        return m ? (*m)[1] : Term(atom("no_answer"));
    };
    EXPECT_EQ(answer("wc1"), list(tuple(atom("f"), atom("restarting"), atom("worker"), list())));
    EXPECT_EQ(answer("term"), Term(atoms::ok));
    EXPECT_EQ(answer("wc2"), list(tuple(atom("f"), atoms::undefined, atom("worker"), list())));
    // The queued attempt has run by the time a later call returns: it left the child down.
    EXPECT_EQ(call(sup.pid(), atom("which_children")), list(tuple(atom("f"), atoms::undefined, atom("worker"), list())));
    EXPECT_FALSE(started("f", 0ms));
    // Down, not restarting: it can be restarted or deleted by hand.
    auto r = call(sup.pid(), tuple(atom("restart_child"), atom("f")));
    ASSERT_TRUE(r.is_tuple(2) && r[0].is_atom(atoms::ok)) << to_string(r);
    EXPECT_EQ(started("f"), std::optional<Pid>(r[1].as_pid()));
    EXPECT_EQ(call(sup.pid(), tuple(atom("terminate_child"), atom("f"))), Term(atoms::ok));
    EXPECT_EQ(call(sup.pid(), tuple(atom("delete_child"), atom("f"))), Term(atoms::ok));
}

TEST_P(Supervisor, SimpleOneForOneAnswersSimpleOneForOneToCallsNotNamingAChildPid) {
    ChildSpec tmpl{.id = atom("tmpl"), .start = worker(reporter(box.pid(), atom("dyn")))};
    auto sup = start(*node, {.strategy = Strategy::simple_one_for_one}, {tmpl});
    ASSERT_TRUE(sup.ok());
    auto c = call(sup.pid(), tuple(atom("start_child"), list()));
    ASSERT_TRUE(c.is_tuple(2) && c[1].is_pid()) << to_string(c);
    const Term error_simple = tuple(atoms::error, atom("simple_one_for_one"));
    EXPECT_EQ(call(sup.pid(), tuple(atom("terminate_child"), atom("x"))), error_simple);
    EXPECT_EQ(call(sup.pid(), tuple(atom("terminate_child"), box.pid())), tuple(atoms::error, atom("not_found")))
        << "a pid that is not a child";
    for (const Term& id : {Term(atom("x")), c[1]}) {
        EXPECT_EQ(call(sup.pid(), tuple(atom("restart_child"), id)), error_simple);
        EXPECT_EQ(call(sup.pid(), tuple(atom("delete_child"), id)), error_simple);
    }
    EXPECT_EQ(call(sup.pid(), tuple(atom("terminate_child"), c[1])), Term(atoms::ok));
}

TEST_P(Supervisor, GetChildspecAndWhichChildrenReportTheSpecsModules) {
    auto sup = start(*node, {},
                     {{.id = atom("plain"), .start = worker(reporter(box.pid(), atom("plain")))},
                      {.id = atom("named"),
                       .start = worker(reporter(box.pid(), atom("named"))),
                       .restart = Restart::transient,
                       .shutdown = brutal_kill,
                       .modules = list(atom("my_mod"))},
                      {.id = atom("ev"),
                       .start = worker(reporter(box.pid(), atom("ev"))),
                       .type = ChildType::supervisor,
                       .modules = atom("dynamic")}});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term());
    auto plain = started("plain"), named = started("named"), ev = started("ev");
    ASSERT_TRUE(plain && named && ev);
    EXPECT_EQ(call(sup.pid(), atom("which_children")),
              list(tuple(atom("ev"), *ev, atom("supervisor"), atom("dynamic")),
                   tuple(atom("named"), *named, atom("worker"), list(atom("my_mod"))),
                   tuple(atom("plain"), *plain, atom("worker"), list())));
    auto spec = [&](const char* restart, Term shutdown, const char* type, Term id, Term modules) {
        return tuple(atoms::ok, map({{atom("id"), id},
                                     {atom("start"), atoms::undefined},
                                     {atom("restart"), atom(restart)},
                                     {atom("significant"), false},
                                     {atom("shutdown"), shutdown},
                                     {atom("type"), atom(type)},
                                     {atom("modules"), modules}}));
    };
    EXPECT_EQ(call(sup.pid(), tuple(atom("get_childspec"), atom("plain"))),
              spec("permanent", 5000, "worker", atom("plain"), list()));
    EXPECT_EQ(call(sup.pid(), tuple(atom("get_childspec"), atom("named"))),
              spec("transient", atom("brutal_kill"), "worker", atom("named"), list(atom("my_mod"))));
    EXPECT_EQ(call(sup.pid(), tuple(atom("get_childspec"), atom("ev"))),
              spec("permanent", atom("infinity"), "supervisor", atom("ev"), atom("dynamic")));
    EXPECT_EQ(call(sup.pid(), tuple(atom("get_childspec"), atom("nobody"))), tuple(atoms::error, atom("not_found")));

    // simple_one_for_one: a child's pid gives the template's spec.
    auto pool = start(*node, {.strategy = Strategy::simple_one_for_one},
                      {{.id = atom("tmpl"), .start = worker(reporter(box.pid(), atom("dyn"))), .shutdown = 1s}});
    ASSERT_TRUE(pool.ok());
    auto c = call(pool.pid(), tuple(atom("start_child"), list()));
    ASSERT_TRUE(c.is_tuple(2) && c[1].is_pid()) << to_string(c);
    EXPECT_EQ(call(pool.pid(), tuple(atom("get_childspec"), c[1])), spec("permanent", 1000, "worker", atom("tmpl"), list()));
    EXPECT_EQ(call(pool.pid(), tuple(atom("get_childspec"), atom("tmpl"))), tuple(atoms::error, atom("not_found")));
    EXPECT_EQ(call(pool.pid(), tuple(atom("get_childspec"), box.pid())), tuple(atoms::error, atom("not_found")));
}

TEST_P(Supervisor, SimpleOneForOneStopsAllItsChildrenAtOnce) {
    // Each child, trapping exits, reports the shutdown and lingers until told to go: stopped one
    // after another (with an infinite shutdown time) the second would never hear of it.
    ProcessBody lingering = [to = box.pid()](Self self) -> Task<> {
        self.trap_exit(true);
        self.send(to, tuple(atom("started"), atom("dyn"), self.pid(), list()));
        for (;;) {
            auto m = co_await self.receive();
            if (tagged(*m, "EXIT")) self.send(to, tuple(atom("stopping"), self.pid()));
            if (m->is_atom(atom("go"))) self.exit(atom("shutdown"));
        }
    };
    auto sup = start(*node, {.strategy = Strategy::simple_one_for_one},
                     {{.id = atom("tmpl"), .start = worker(lingering), .shutdown = infinity}});
    ASSERT_TRUE(sup.ok());
    std::vector<Ref> mons;
    for (int i = 0; i < 3; ++i) {
        auto c = call(sup.pid(), tuple(atom("start_child"), list()));
        ASSERT_TRUE(c.is_tuple(2) && c[1].is_pid()) << to_string(c);
        mons.push_back(watch(c[1].as_pid()));
    }
    Ref msup = watch(sup.pid());
    std::jthread stopper([&] { (void)gs::stop(*node, sup.pid(), atom("shutdown"), 20s); });
    std::vector<Pid> stopping;
    for (int i = 0; i < 3; ++i) {
        auto s = next("stopping");
        ASSERT_TRUE(s) << "only " << i << " of 3 children were told to stop";
        stopping.push_back((*s)[1].as_pid());
    }
    for (const Pid& p : stopping) box.send(p, atom("go"));
    for (const Ref& m : mons) EXPECT_EQ(down_reason(m), Term(atom("shutdown")));
    EXPECT_EQ(down_reason(msup), Term(atom("shutdown")));
}
