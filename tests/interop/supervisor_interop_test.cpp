// A C++ supervisor with children on a real OTP 25 node: a child spawned there (spawn_request
// with link) or handed over by a BEAM-side starter process is killed on the BEAM side and
// restarted by the C++ supervisor; too many restarts shut the supervisor down and its BEAM
// children with it; erl's supervisor:which_children / count_children / get_childspec and the
// simple_one_for_one answers work on the C++ one as on an OTP one.
#include "interop/node_support.hpp"

#include <edist/gen_server.hpp>
#include <edist/node.hpp>
#include <edist/supervisor.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <fstream>

using namespace edist;
using namespace edist::test;
using namespace edist::supervisor;
using namespace std::chrono_literals;
namespace gs = edist::gen_server;

namespace {

// worker/2 registers itself, tells ReportTo it runs, and waits; starter/0 starts workers for
// whoever asks and answers with the pid (the "starter process" shape of a remote child).
constexpr const char* sup_peer_erl = R"(-module(sup_peer).
-export([worker/2, starter/0]).
worker(Name, ReportTo) ->
    register(Name, self()),
    ReportTo ! {started, Name, self()},
    receive stop -> ok end.
starter() ->
    receive
        {start, From, Ref, Name, ReportTo} ->
            From ! {Ref, spawn(?MODULE, worker, [Name, ReportTo])},
            starter()
    end.
)";

// A StartFunction asking erl's `starter` for a worker, then linking to it.
StartFunction via_starter(Atom erl, Atom name, Pid report_to) {
    return [=](Self sup, Term) -> Task<StartResult> {
        Term ref(sup.make_ref());
        sup.send(atom("starter"), erl, tuple(atom("start"), sup.pid(), ref, name, report_to));
        auto r = co_await sup.receive([&](const Term& t) { return t.is_tuple(2) && t[0] == ref; }, 10s);
        if (!r) co_return StartResult::error(atoms::timeout);
        const Pid pid = (*r)[1].as_pid();
        sup.link(pid); // a worker already dead turns into an EXIT noproc: restarted like a crash
        co_return StartResult::started(pid);
    };
}

class SupervisorInterop : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
        cpp_ = std::make_unique<CppNode>(unique_name("cpp_sup") + "@" + short_host(), epmd_->port());
        ASSERT_TRUE(*cpp_) << cpp_->error();
        ErlOptions o;
        o.name = unique_name("erl_sup");
        o.epmd_port = epmd_->port();
        erl_ = std::make_unique<ErlNode>(o);
        ASSERT_TRUE(erl_->ready()) << erl_->transcript();
        const auto src = dir_ / "sup_peer.erl";
        std::ofstream(src) << sup_peer_erl;
        const std::string path = src.string();
        ASSERT_EQ(erl_->eval("{ok, M, B} = compile:file(\"" + path + "\", [binary, return_errors]), "
                             "{module, M} = code:load_binary(M, \"" + path + "\", B), ok"),
                  "ok") << erl_->transcript();
        ASSERT_EQ(erl_->eval("register(starter, spawn(sup_peer, starter, []))"), "true");
        box_ = (*cpp_)->make_mailbox().value();
    }
    Node& node() { return **cpp_; }
    ErlNode& erl() { return *erl_; }
    std::optional<Pid> started(const char* name, std::chrono::milliseconds t = 20s) {
        auto m = box_.receive([&](const Term& x) { return x.is_tuple(3) && x[0].is_atom(atom("started")) && x[1] == Term(atom(name)); }, t);
        return m ? std::optional<Pid>((*m)[2].as_pid()) : std::nullopt;
    }
    ChildSpec remote_child(const char* name) {
        return {.id = atom(name),
                .start = remote(erl().name(), atom("sup_peer"), atom("worker"), list(atom(name), box_.pid()))};
    }

    std::unique_ptr<OtpEpmd> epmd_;
    std::unique_ptr<CppNode> cpp_;
    std::unique_ptr<ErlNode> erl_;
    TempDir dir_;
    Mailbox box_;
};

} // namespace

TEST_F(SupervisorInterop, CppSupervisorRestartsABeamChildKilledOnTheBeamSide) {
    auto sup = start(node(), {.strategy = Strategy::one_for_one, .intensity = 5, .period = 60s},
                     {remote_child("w1"),
                      {.id = atom("w2"), .start = via_starter(erl().name(), atom("w2"), box_.pid())}},
                     {.name = "cppsup"});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term()) << cpp_->log.text();
    auto w1 = started("w1"), w2 = started("w2");
    ASSERT_TRUE(w1 && w2) << erl().transcript();
    EXPECT_EQ(w1->node, erl().name());
    // From the BEAM side: each worker is linked to the C++ supervisor. w2's LINK went out on
    // this connection when it started, before anything sent from here now: once erl's echo
    // answers, erl has handed that LINK to w2 (ahead of the process_info below).
    box_.send(atom("echo"), erl().name(), tuple(box_.pid(), atom("after_links")));
    ASSERT_TRUE(box_.receive([](const Term& t) { return t == tuple(atom("echo"), atom("after_links")); }, 20s));
    const std::string us(node().name().name());
    for (const char* w : {"w1", "w2"})
        EXPECT_EQ(erl().eval(std::string("{links, L} = process_info(whereis(") + w + "), links), "
                             "[node(P) =:= '" + us + "' || P <- L]"),
                  "[true]");

    // Killed on the BEAM side, each comes back with a new pid there.
    EXPECT_EQ(erl().eval("exit(whereis(w1), kill)"), "true");
    auto w1b = started("w1");
    ASSERT_TRUE(w1b) << cpp_->log.text();
    EXPECT_NE(*w1b, *w1);
    EXPECT_EQ(erl().eval("exit(whereis(w2), crash)"), "true");
    auto w2b = started("w2");
    ASSERT_TRUE(w2b) << cpp_->log.text();
    EXPECT_NE(*w2b, *w2);
    EXPECT_EQ(erl().eval("is_process_alive(whereis(w1)) andalso is_process_alive(whereis(w2))"), "true");

    // erl inspects the C++ supervisor with OTP's own functions.
    EXPECT_EQ(erl().eval("[{Id, node(P)} || {Id, P, worker, _} <- supervisor:which_children({cppsup, '" + us + "'})]"),
              "[{w2," + erl().node() + "},{w1," + erl().node() + "}]");
    EXPECT_EQ(erl().eval("proplists:get_value(active, supervisor:count_children({cppsup, '" + us + "'}))"), "2");

    // Stopping the supervisor stops its BEAM children (exit(Child, shutdown), reverse order).
    auto stopped = gs::stop(node(), atom("cppsup"), atom("shutdown"), 20s);
    EXPECT_TRUE(stopped.ok()) << stopped.error().message();
    EXPECT_EQ(erl().eval("{whereis(w1), whereis(w2)}"), "{undefined,undefined}");
}

TEST_F(SupervisorInterop, TooManyBeamChildCrashesShutTheCppSupervisorDown) {
    auto sup = start(node(), {.strategy = Strategy::one_for_one, .intensity = 1, .period = 60s},
                     {remote_child("c1"), remote_child("c2")});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term());
    ASSERT_TRUE(started("c1") && started("c2")) << erl().transcript();
    Ref m = box_.self().monitor(sup.pid());
    EXPECT_EQ(erl().eval("exit(whereis(c1), kill)"), "true");
    ASSERT_TRUE(started("c1"));
    EXPECT_EQ(erl().eval("exit(whereis(c1), kill)"), "true");
    auto down = box_.receive([&](const Term& t) { return t.is_tuple(5) && t[1] == Term(m); }, 20s);
    ASSERT_TRUE(down) << cpp_->log.text();
    EXPECT_EQ((*down)[4], Term(atom("shutdown")));
    // The supervisor waited for its children to go before exiting.
    EXPECT_EQ(erl().eval("{whereis(c1), whereis(c2)}"), "{undefined,undefined}");
}

TEST_F(SupervisorInterop, ErlReadsTheCppSupervisorsChildSpecsAsOtpOnes) {
    ProcessBody idle = [](Self self) -> Task<> {
        while (co_await self.receive()) {
        }
    };
    auto sup = start(node(), {.intensity = 5, .period = 60s},
                     {remote_child("m1"), {.id = atom("local"), .start = worker(idle), .modules = list(atom("cpp_mod"))}},
                     {.name = "specsup"});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term()) << cpp_->log.text();
    ASSERT_TRUE(started("m1")) << erl().transcript();
    const std::string ref = "{specsup, '" + std::string(node().name().name()) + "'}";
    // Modules: the start module of a BEAM child, as OTP's default; what the spec says otherwise.
    EXPECT_EQ(erl().eval("[{Id, M} || {Id, _, worker, M} <- supervisor:which_children(" + ref + ")]"),
              "[{local,[cpp_mod]},{m1,[sup_peer]}]");
    EXPECT_EQ(erl().eval("{ok, S = #{start := {M, F, [A1, P]}}} = supervisor:get_childspec(" + ref + ", m1), "
                         "{maps:without([start], S), M, F, A1, is_pid(P), supervisor:check_childspecs([S])}"),
              "{#{id => m1,modules => [sup_peer],restart => permanent,shutdown => 5000,significant => false,"
              "type => worker},sup_peer,worker,m1,true,ok}");
    EXPECT_EQ(erl().eval("supervisor:get_childspec(" + ref + ", local)"),
              "{ok,#{id => local,modules => [cpp_mod],restart => permanent,shutdown => 5000,significant => false,"
              "start => undefined,type => worker}}");
    EXPECT_EQ(erl().eval("supervisor:get_childspec(" + ref + ", nobody)"), "{error,not_found}");
}

TEST_F(SupervisorInterop, ErlGetsSimpleOneForOneAnswersFromACppSimpleSupervisor) {
    auto sup = start(node(), {.strategy = Strategy::simple_one_for_one},
                     {{.id = atom("tmpl"), .start = remote(erl().name(), atom("sup_peer"), atom("worker"), list())}},
                     {.name = "simplesup"});
    ASSERT_TRUE(sup.ok()) << to_string(sup.term());
    const std::string ref = "{simplesup, '" + std::string(node().name().name()) + "'}";
    ASSERT_EQ(erl().eval("{ok, C} = supervisor:start_child(" + ref + ", [d1, self()]), is_pid(C)"), "true")
        << erl().transcript();
    EXPECT_EQ(erl().eval("{supervisor:terminate_child(" + ref + ", d1), supervisor:restart_child(" + ref +
                         ", whereis(d1)), supervisor:delete_child(" + ref + ", d1)}"),
              "{{error,simple_one_for_one},{error,simple_one_for_one},{error,simple_one_for_one}}");
    EXPECT_EQ(erl().eval("{ok, #{id := Id, start := Start}} = supervisor:get_childspec(" + ref + ", whereis(d1)), "
                         "{Id, Start, supervisor:get_childspec(" + ref + ", self())}"),
              "{tmpl,{sup_peer,worker,[]},{error,not_found}}");
    EXPECT_EQ(erl().eval("[M || {undefined, _, worker, M} <- supervisor:which_children(" + ref + ")]"), "[[sup_peer]]");
    EXPECT_EQ(erl().eval("supervisor:terminate_child(" + ref + ", whereis(d1))"), "ok");
}
