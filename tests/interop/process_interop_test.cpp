// Processes across a real OTP 25 (and Elixir 1.14) connection: links with UNLINK_ID, exit
// signals both ways with their full reason terms, trap_exit, kill, noconnection on kill -9,
// monitors of pids and of {Name, Node} with OTP's reasons, demonitor and flush, aliases, and
// remote spawn in both directions (spawn/4, spawn_link/4, spawn_monitor/4, spawn_request/5 of
// exported C++ functions from erl; SPAWN_REQUEST with link and monitor from C++).
//
// The C++ side runs *puppets* and the erl side *agents* (tests/interop/process_support.hpp):
// both obey the same commands and forward what they receive to the test's observer, so every
// EXIT and DOWN is checked where it was delivered, BEAM side included. Ordering never relies on
// time: sync(From, To) is a ping From sends To after its earlier signals, and signals between
// one pair of processes keep their order on both runtimes.
//
// Not observable from BEAM and so not tested here: that edist writes SEND_SENDER rather than
// SEND (OTP 25 does not expose a message's sender), and the pre-payload EXIT/EXIT2 forms, which
// an OTP 25 peer never negotiates (tests/dist covers both encodings).
#include "interop/process_support.hpp"

#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;

namespace {

Term ok() { return atom("ok"); }

// A list's elements in a fixed order, so lists from both runtimes compare as multisets.
Term sorted(const Term& l) {
    if (!l.is_list()) return l;
    std::vector<Term> v(l.as_list().begin(), l.as_list().end());
    std::sort(v.begin(), v.end(), [](const Term& a, const Term& b) { return (a <=> b) < 0; });
    return list_from(std::move(v));
}

// The same reason term in C++ and in Erlang syntax (no pids or refs, so erl can write it).
Term chain_reason() {
    return tuple(atom("shutdown"),
                 tuple(atom("chain"), list(1, 2.5, binary("bin"), string("str"), map({{atom("k"), list()}}),
                                           Term(BigInt::from_string("-12345678901234567890123").value()), tuple())));
}
constexpr const char* chain_reason_erl =
    "{shutdown, {chain, [1, 2.5, <<\"bin\">>, \"str\", #{k => []}, -12345678901234567890123, {}]}}";

class ProcessInterop : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!erl_available()) return;
        beam_dir_ = new TempDir();
        const auto src = *beam_dir_ / "proc_peer.erl";
        std::ofstream(src) << proc_peer_erl;
        const auto r = run("erlc -o " + shell_quote(beam_dir_->path().string()) + " " + shell_quote(src.string()));
        compiled_ = r.exit_code == 0;
        compile_output_ = r.output;
    }
    static void TearDownTestSuite() {
        delete beam_dir_;
        beam_dir_ = nullptr;
    }

    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        ASSERT_TRUE(compiled_) << compile_output_;
        watchdog_ = std::make_unique<Watchdog>(150s, "a ProcessInterop test is stuck");
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
        cpp_ = std::make_unique<CppNode>(unique_name("cpp_proc") + "@" + short_host(), epmd_->port());
        ASSERT_TRUE(*cpp_) << cpp_->error();
        us_ = std::string((*cpp_)->name().name());
        export_proc_peer(node());
        obs_ = std::make_unique<Observer>(node());
        obs_->self().trap_exit(true); // the observer links to things; it must outlive them
        ErlOptions o;
        o.name = unique_name("erl_proc");
        o.epmd_port = epmd_->port();
        o.args = {"-pa", beam_dir_->path().string()};
        erl_ = std::make_unique<ErlNode>(o);
        ASSERT_TRUE(erl_->ready()) << erl_->transcript();
        ASSERT_EQ(erl_->eval("register(factory, spawn(proc_peer, factory, [])), ok"), "ok") << erl_->transcript();
    }
    void TearDown() override {
        erl_.reset();
        obs_.reset();
        cpp_.reset();
        epmd_.reset();
        watchdog_.reset();
    }

    Node& node() { return **cpp_; }
    ErlNode& erl() { return *erl_; }
    Observer& obs() { return *obs_; }
    std::string context() const {
        return "\n--- erl:\n" + erl_->transcript() + "--- edist log:\n" + cpp_->log.text();
    }

    // A new erl agent reporting to the observer.
    Pid agent() {
        Term p = obs().cmd(atom("factory"), erl().name(), tuple(atom("agent"), obs().pid()));
        EXPECT_TRUE(p.is_pid()) << p << context();
        return p.is_pid() ? p.as_pid() : Pid{};
    }
    Pid puppet(SpawnOptions o = {}) { return spawn_puppet(node(), obs().pid(), o); }
    // The observer's own monitor of `p`.
    Ref watch(const Pid& p) { return obs().self().monitor(p); }

    // The next EXIT / DOWN message `at` (a puppet or agent) received.
    std::optional<Term> exit_at(const Pid& at) { return obs().got(at, is_exit_msg); }
    std::optional<Term> down_at(const Pid& at, const Term& ref) {
        return obs().got(at, [&](const Term& t) { return is_down_msg(t) && t[1] == ref; });
    }

    static inline TempDir* beam_dir_ = nullptr;
    static inline bool compiled_ = false;
    static inline std::string compile_output_;

    std::unique_ptr<Watchdog> watchdog_;
    std::unique_ptr<OtpEpmd> epmd_;
    std::unique_ptr<CppNode> cpp_;
    std::string us_;
    std::unique_ptr<Observer> obs_;
    std::unique_ptr<ErlNode> erl_;
};

} // namespace

// --- links and exit signals -----------------------------------------------------------------------

// erl A -- C++ P -- erl C (and a trapping erl D linked to P): A exits with a reason term that
// holds a float, a binary, a string, a map, a bignum and an empty tuple; P, then C die with
// exactly that term, D gets it as {'EXIT', P, Reason}, and erl's own shell compares it =:=.
TEST_F(ProcessInterop, ExitReasonTermTravelsUnchangedAlongAnErlCppErlLinkChain) {
    const Pid a = agent(), c = agent(), d = agent();
    const Pid p = puppet();
    ASSERT_EQ(obs().cmd(c, tuple(atom("register"), atom("chain_end"))), Term(true));
    ASSERT_EQ(obs().cmd(d, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(p, tuple(atom("link"), a)), ok());
    ASSERT_EQ(obs().cmd(p, tuple(atom("link"), c)), ok());
    ASSERT_EQ(obs().cmd(d, tuple(atom("link"), p)), ok());
    ASSERT_TRUE(obs().sync(p, a) && obs().sync(p, c) && obs().sync(d, p)) << context();
    // The links exist on the BEAM side.
    EXPECT_EQ(obs().cmd(a, atom("links")), list(p));
    EXPECT_EQ(obs().cmd(c, atom("links")), list(p));
    const Ref p_mon = watch(p), c_mon = watch(c);

    // erl's shell monitors the far end and compares the reason it gets with its own literal.
    // monitor/2 only sends C a signal; C may handle the chain's exit signal before it (signals
    // from different senders have no order), and then the shell's DOWN says noproc. process_info
    // is a signal from the same sender, so its answer listing the shell proves C has the monitor.
    const int shell = erl().eval_async("M = monitor(process, chain_end), "
                                       "{monitored_by, By} = process_info(whereis(chain_end), monitored_by), "
                                       "true = lists:member(self(), By), {observer, '" + us_ +
                                       "'} ! erl_monitoring, receive {'DOWN', M, process, _, R} -> case R =:= " +
                                       chain_reason_erl + " of true -> true; false -> {got, R} end after 20000 -> timeout end");
    ASSERT_TRUE(obs().box().receive([](const Term& t) { return t.is_atom(atom("erl_monitoring")); }, 20s)) << context();

    obs().tell(a, tuple(atom("die"), chain_reason()));
    EXPECT_EQ(obs().down_reason(p_mon), chain_reason()) << "the C++ link in the middle died of A's reason";
    EXPECT_EQ(exit_at(d), exit_msg(p, chain_reason())) << "a trapping erl process linked to P" << context();
    EXPECT_EQ(obs().down_reason(c_mon), chain_reason()) << context();
    EXPECT_EQ(erl().result(shell), "true") << context();
}

// C++ P1 -- erl A -- C++ P2 (trapping): P1 exits with a term holding its own pid, a ref and a
// 200 KB binary (so the PAYLOAD_EXIT crosses in fragments both ways); A dies of it and P2 gets
// {'EXIT', A, Reason} with the same term.
TEST_F(ProcessInterop, ExitReasonTermTravelsUnchangedAlongACppErlCppLinkChain) {
    const Pid p1 = puppet(), p2 = puppet();
    const Pid a = agent();
    ASSERT_EQ(obs().cmd(p2, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(a, tuple(atom("link"), p1)), ok());
    ASSERT_EQ(obs().cmd(a, tuple(atom("link"), p2)), ok());
    ASSERT_TRUE(obs().sync(a, p1) && obs().sync(a, p2)) << context();
    EXPECT_EQ(sorted(obs().cmd(a, atom("links"))), sorted(list(p1, p2)));
    const Ref p1_mon = watch(p1), a_mon = watch(a);

    const Term reason = tuple(atom("cpp_end"), p1, Term(obs().self().make_ref()),
                              binary(std::string(200 * 1024, 'x')), map({{binary("k"), list(atom("v"), -1.5)}}));
    obs().tell(p1, tuple(atom("die"), reason));
    EXPECT_EQ(obs().down_reason(p1_mon), reason);
    EXPECT_EQ(obs().down_reason(a_mon), reason) << "the erl process in the middle died of it" << context();
    EXPECT_EQ(exit_at(p2), exit_msg(a, reason)) << context();
}

TEST_F(ProcessInterop, TrappingProcessesOnBothSidesGetExitMessagesAndANormalExitEndsNobody) {
    // erl exits, C++ traps.
    const Pid p = puppet(), a1 = agent();
    ASSERT_EQ(obs().cmd(p, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(p, tuple(atom("link"), a1)), ok());
    ASSERT_TRUE(obs().sync(p, a1));
    obs().tell(a1, tuple(atom("die"), tuple(atom("bye"), 1)));
    EXPECT_EQ(exit_at(p), exit_msg(a1, tuple(atom("bye"), 1))) << context();

    // C++ exits, erl traps.
    const Pid p2 = puppet(), a2 = agent();
    ASSERT_EQ(obs().cmd(a2, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(a2, tuple(atom("link"), p2)), ok());
    ASSERT_TRUE(obs().sync(a2, p2));
    obs().tell(p2, tuple(atom("die"), tuple(atom("bye"), 2)));
    EXPECT_EQ(exit_at(a2), exit_msg(p2, tuple(atom("bye"), 2))) << context();

    // erl exits normally: a linked C++ process that does not trap lives on, one that traps
    // sees {'EXIT', A, normal}. P3's monitor DOWN comes after the link's EXIT (OTP sends a dying
    // process's link signals before its monitor signals), so P3 answering after it is proof.
    const Pid p3 = puppet(), p4 = puppet(), a3 = agent();
    ASSERT_EQ(obs().cmd(p4, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(p3, tuple(atom("link"), a3)), ok());
    ASSERT_EQ(obs().cmd(p4, tuple(atom("link"), a3)), ok());
    const Term p3_mon = obs().cmd(p3, tuple(atom("monitor"), a3));
    ASSERT_TRUE(obs().sync(p3, a3) && obs().sync(p4, a3));
    obs().tell(a3, tuple(atom("die"), atom("normal")));
    EXPECT_EQ(exit_at(p4), exit_msg(a3, atom("normal")));
    EXPECT_EQ(down_at(p3, p3_mon), down_msg(p3_mon, a3, atom("normal")));
    EXPECT_EQ(obs().cmd(p3, atom("ping")), Term(atom("pong"))) << "a normal exit through a link ended a C++ process";

    // C++ exits normally: the linked erl process that does not trap lives on (edist sends the
    // link's EXIT before the monitor's DOWN).
    const Pid p5 = puppet(), a4 = agent();
    ASSERT_EQ(obs().cmd(a4, tuple(atom("link"), p5)), ok());
    const Term a4_mon = obs().cmd(a4, tuple(atom("monitor"), p5));
    ASSERT_TRUE(obs().sync(a4, p5));
    obs().tell(p5, tuple(atom("die"), atom("normal")));
    EXPECT_EQ(down_at(a4, a4_mon), down_msg(a4_mon, p5, atom("normal"))) << context();
    EXPECT_EQ(obs().cmd(a4, atom("ping")), Term(atom("pong"))) << "a normal exit through a link ended an erl process";
}

TEST_F(ProcessInterop, ErlExit2ToACppProcessIsAnExitMessageWhenTrappedAndEndsItOtherwise) {
    const Pid a = agent();
    // Trapped: {'EXIT', A, Reason}, for normal too.
    const Pid trapping = puppet();
    ASSERT_EQ(obs().cmd(trapping, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(a, tuple(atom("exit"), trapping, tuple(atom("why"), 1))), ok());
    EXPECT_EQ(exit_at(trapping), exit_msg(a, tuple(atom("why"), 1))) << context();
    ASSERT_EQ(obs().cmd(a, tuple(atom("exit"), trapping, atom("normal"))), ok());
    EXPECT_EQ(exit_at(trapping), exit_msg(a, atom("normal"))) << context();

    // Not trapped: the process ends with the reason, as seen by erl's monitor and by ours.
    const Pid plain = puppet();
    const Ref plain_mon = watch(plain);
    const Term erl_mon = obs().cmd(a, tuple(atom("monitor"), plain));
    ASSERT_EQ(obs().cmd(a, tuple(atom("exit"), plain, tuple(atom("why"), 2))), ok());
    EXPECT_EQ(down_at(a, erl_mon), down_msg(erl_mon, plain, tuple(atom("why"), 2))) << context();
    EXPECT_EQ(obs().down_reason(plain_mon), tuple(atom("why"), 2));

    // exit(P, normal) to a process that does not trap is ignored: it still answers A's ping.
    const Pid survivor = puppet();
    ASSERT_EQ(obs().cmd(a, tuple(atom("exit"), survivor, atom("normal"))), ok());
    EXPECT_TRUE(obs().sync(a, survivor)) << "exit(Pid, normal) from erl ended a C++ process";
}

TEST_F(ProcessInterop, KillFromErlIsUntrappableAndBecomesKilledButAnExitReasonKillThroughALinkIsTrappable) {
    // exit(P, kill) ends even a trapping process, with reason killed for monitors and links.
    const Pid a = agent(), linked = agent();
    const Pid p = puppet();
    ASSERT_EQ(obs().cmd(p, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(linked, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(linked, tuple(atom("link"), p)), ok());
    ASSERT_TRUE(obs().sync(linked, p));
    const Ref p_mon = watch(p);
    const Term erl_mon = obs().cmd(a, tuple(atom("monitor"), p));
    ASSERT_EQ(obs().cmd(a, tuple(atom("exit"), p, atom("kill"))), ok());
    EXPECT_EQ(obs().down_reason(p_mon), Term(atom("killed"))) << context();
    EXPECT_EQ(down_at(a, erl_mon), down_msg(erl_mon, p, atom("killed"))) << context();
    EXPECT_EQ(exit_at(linked), exit_msg(p, atom("killed"))) << context();
    // The same for a thread's Mailbox.
    auto box = node().make_mailbox().value();
    box.self().trap_exit(true);
    const Term box_mon = obs().cmd(a, tuple(atom("monitor"), box.pid()));
    ASSERT_EQ(obs().cmd(a, tuple(atom("exit"), box.pid(), atom("kill"))), ok());
    EXPECT_EQ(down_at(a, box_mon), down_msg(box_mon, box.pid(), atom("killed"))) << context();
    EXPECT_EQ(box.exit_reason(), std::optional<Term>(atom("killed")));

    // An erl process that exits with reason kill sends `kill` through its links: a trapping C++
    // process gets {'EXIT', A, kill}; one that does not trap dies with reason kill (as on BEAM).
    const Pid dying = agent();
    const Pid trapping = puppet(), plain = puppet();
    ASSERT_EQ(obs().cmd(trapping, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(dying, tuple(atom("link"), trapping)), ok());
    ASSERT_EQ(obs().cmd(dying, tuple(atom("link"), plain)), ok());
    ASSERT_TRUE(obs().sync(dying, trapping) && obs().sync(dying, plain));
    const Ref plain_mon = watch(plain);
    obs().tell(dying, tuple(atom("die"), atom("kill")));
    EXPECT_EQ(exit_at(trapping), exit_msg(dying, atom("kill"))) << context();
    EXPECT_EQ(obs().down_reason(plain_mon), Term(atom("kill"))) << context();
}

TEST_F(ProcessInterop, CppExit2ToErlProcessesIsTrappedEndsThemOrIsIgnoredAsOnBeam) {
    const Pid p = puppet();
    const Pid trapping = agent(), plain = agent(), killed = agent(), survivor = agent();
    ASSERT_EQ(obs().cmd(trapping, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(killed, tuple(atom("trap_exit"), true)), ok());
    const Ref plain_mon = watch(plain), killed_mon = watch(killed);

    ASSERT_EQ(obs().cmd(p, tuple(atom("exit"), trapping, tuple(atom("why"), 1))), ok());
    EXPECT_EQ(exit_at(trapping), exit_msg(p, tuple(atom("why"), 1))) << context();
    ASSERT_EQ(obs().cmd(p, tuple(atom("exit"), plain, tuple(atom("why"), 2))), ok());
    EXPECT_EQ(obs().down_reason(plain_mon), tuple(atom("why"), 2)) << context();
    ASSERT_EQ(obs().cmd(p, tuple(atom("exit"), killed, atom("kill"))), ok());
    EXPECT_EQ(obs().down_reason(killed_mon), Term(atom("killed"))) << "kill is untrappable on BEAM too" << context();
    ASSERT_EQ(obs().cmd(p, tuple(atom("exit"), survivor, atom("normal"))), ok());
    EXPECT_TRUE(obs().sync(p, survivor)) << "exit(Pid, normal) ended an erl process that does not trap";
}

// UNLINK_ID from C++: erl's link goes at once (process_info), and a later exit of the erl
// process reaches P only through its monitor. A control process still linked gets the EXIT,
// ahead of its DOWN, which shows the DOWN is a fair barrier.
TEST_F(ProcessInterop, UnlinkFromTheCppSideRemovesTheLinkOnBothSides) {
    const Pid a = agent();
    const Pid p = puppet(), control = puppet();
    for (const Pid& x : {p, control}) {
        ASSERT_EQ(obs().cmd(x, tuple(atom("trap_exit"), true)), ok());
        ASSERT_EQ(obs().cmd(x, tuple(atom("link"), a)), ok());
        ASSERT_TRUE(obs().sync(x, a));
    }
    EXPECT_EQ(sorted(obs().cmd(a, atom("links"))), sorted(list(p, control)));

    ASSERT_EQ(obs().cmd(p, tuple(atom("unlink"), a)), ok());
    ASSERT_TRUE(obs().sync(p, a));
    EXPECT_EQ(obs().cmd(a, atom("links")), list(control)) << "erl still has the link C++ removed";

    const Term p_mon = obs().cmd(p, tuple(atom("monitor"), a));
    const Term control_mon = obs().cmd(control, tuple(atom("monitor"), a));
    ASSERT_TRUE(obs().sync(p, a) && obs().sync(control, a));
    obs().tell(a, tuple(atom("die"), atom("gone")));
    EXPECT_EQ(obs().got(control), exit_msg(a, atom("gone"))) << context();
    EXPECT_EQ(obs().got(control), down_msg(control_mon, a, atom("gone")));
    EXPECT_EQ(obs().got(p), down_msg(p_mon, a, atom("gone"))) << "an exit crossed a link C++ had removed";

    // Unlinking and linking again at once (the UNLINK_ID still unacknowledged) leaves a link.
    const Pid b = agent();
    ASSERT_EQ(obs().cmd(p, tuple(atom("link"), b)), ok());
    ASSERT_EQ(obs().cmd(p, tuple(atom("unlink"), b)), ok());
    ASSERT_EQ(obs().cmd(p, tuple(atom("link"), b)), ok());
    ASSERT_TRUE(obs().sync(p, b));
    EXPECT_EQ(obs().cmd(b, atom("links")), list(p));
    obs().tell(b, tuple(atom("die"), atom("relinked")));
    EXPECT_EQ(exit_at(p), exit_msg(b, atom("relinked"))) << context();
}

// unlink/1 on the erl side reaches edist as UNLINK_ID: a later exit of the C++ process reaches
// the erl process only through its monitor (edist sends link EXITs before monitor DOWNs).
TEST_F(ProcessInterop, UnlinkFromTheErlSideRemovesTheLinkOnBothSides) {
    const Pid a = agent(), control = agent();
    const Pid p = puppet();
    for (const Pid& x : {a, control}) {
        ASSERT_EQ(obs().cmd(x, tuple(atom("trap_exit"), true)), ok());
        ASSERT_EQ(obs().cmd(x, tuple(atom("link"), p)), ok());
    }
    ASSERT_EQ(obs().cmd(a, tuple(atom("unlink"), p)), ok());
    EXPECT_EQ(obs().cmd(a, atom("links")), list());
    const Term a_mon = obs().cmd(a, tuple(atom("monitor"), p));
    const Term control_mon = obs().cmd(control, tuple(atom("monitor"), p));
    ASSERT_TRUE(obs().sync(a, p) && obs().sync(control, p)) << context();

    obs().tell(p, tuple(atom("die"), atom("gone")));
    EXPECT_EQ(obs().got(control), exit_msg(p, atom("gone"))) << context();
    EXPECT_EQ(obs().got(control), down_msg(control_mon, p, atom("gone")));
    EXPECT_EQ(obs().got(a), down_msg(a_mon, p, atom("gone"))) << "an exit crossed a link erl had removed";

    // The same without trapping: the erl process lives on.
    const Pid b = agent();
    const Pid q = puppet();
    ASSERT_EQ(obs().cmd(b, tuple(atom("link"), q)), ok());
    ASSERT_EQ(obs().cmd(b, tuple(atom("unlink"), q)), ok());
    const Term b_mon = obs().cmd(b, tuple(atom("monitor"), q));
    ASSERT_TRUE(obs().sync(b, q));
    obs().tell(q, tuple(atom("die"), atom("gone")));
    EXPECT_EQ(down_at(b, b_mon), down_msg(b_mon, q, atom("gone"))) << context();
    EXPECT_EQ(obs().cmd(b, atom("ping")), Term(atom("pong")));

    // The C++ end forgot the link too (OTP would drop a stray EXIT, so look at it directly): when
    // the connection goes, a C++ process erl unlinked gets no noconnection EXIT. disconnect()
    // delivers every noconnection before it returns, so a ping answered afterwards is a barrier.
    const Pid e = agent();
    const Pid r = puppet();
    ASSERT_EQ(obs().cmd(r, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(e, tuple(atom("link"), r)), ok());
    ASSERT_EQ(obs().cmd(e, tuple(atom("unlink"), r)), ok());
    ASSERT_TRUE(obs().sync(e, r));
    node().disconnect(erl().name());
    EXPECT_EQ(obs().cmd(r, atom("ping")), Term(atom("pong")));
    EXPECT_FALSE(obs().got(r, is_exit_msg, 0ms)) << "C++ kept a link erl had removed";
}

// kill -9 of the erl node: every link and monitor C++ processes hold towards it ends with
// noconnection, exactly once: trapped links, pid and {Name, Node} monitors, a process spawned
// there with link and monitor, a mailbox's own, a spawn request still unanswered, and a
// process that does not trap dies.
TEST_F(ProcessInterop, KillDashNineOfTheErlPeerGivesNoconnectionForEveryLinkAndMonitor) {
    const Pid a1 = agent(), a2 = agent(), a3 = agent();
    ASSERT_EQ(obs().cmd(a3, tuple(atom("register"), atom("named"))), Term(true));
    const Pid p1 = puppet(), p2 = puppet(), p3 = puppet();
    ASSERT_EQ(obs().cmd(p1, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(p2, tuple(atom("trap_exit"), true)), ok());

    ASSERT_EQ(obs().cmd(p1, tuple(atom("link"), a1)), ok());
    ASSERT_EQ(obs().cmd(p1, tuple(atom("link"), a2)), ok());
    const Term p1_pid_mon = obs().cmd(p1, tuple(atom("monitor"), a1));
    const Term p1_name_mon = obs().cmd(p1, tuple(atom("monitor"), atom("named"), erl().name()));
    ASSERT_EQ(obs().cmd(p2, tuple(atom("link"), a3)), ok());
    const Term p2_mon = obs().cmd(p2, tuple(atom("monitor"), a2));
    const Term spawned = obs().cmd(p2, tuple(atom("spawn_request"), erl().name(), atom("proc_peer"), atom("agent"),
                                             list(obs().pid()), list(atom("link"), atom("monitor"))));
    ASSERT_TRUE(spawned.is_tuple(3) && spawned[1].is_pid()) << spawned << context();
    const Pid a4 = spawned[1].as_pid();
    ASSERT_EQ(obs().cmd(p3, tuple(atom("link"), a1)), ok());
    obs().self().link(a2);
    const Ref obs_mon = obs().self().monitor(a3);
    const Ref p3_mon = watch(p3);
    // Every link is in place on the BEAM side before the node goes.
    for (const Pid& from : {p1, p2, p3})
        for (const Pid& to : {a1, a2, a3}) ASSERT_TRUE(obs().sync(from, to)) << context();
    EXPECT_EQ(sorted(obs().cmd(a1, atom("links"))), sorted(list(p1, p3)));
    EXPECT_EQ(sorted(obs().cmd(a2, atom("links"))), sorted(list(p1, obs().pid())));

    // A spawn request erl cannot answer any more (it is stopped) when the connection goes.
    erl().process().signal(SIGSTOP);
    const Term in_flight = obs().ask(p1, tuple(atom("spawn_request"), erl().name(), atom("proc_peer"), atom("agent"),
                                               list(obs().pid()), list(atom("link"), atom("monitor"))));
    erl().process().signal(SIGKILL);
    const Term nc = atom("noconnection");
    EXPECT_EQ(obs().answer(in_flight), tuple(atom("error"), nc)) << "a spawn_request in flight";
    auto p1_exits = std::vector<Term>{exit_at(p1).value_or(atom("none")), exit_at(p1).value_or(atom("none"))};
    EXPECT_EQ(sorted(list_from(p1_exits)), sorted(list(exit_msg(a1, nc), exit_msg(a2, nc)))) << context();
    EXPECT_EQ(down_at(p1, p1_pid_mon), down_msg(p1_pid_mon, a1, nc));
    EXPECT_EQ(down_at(p1, p1_name_mon), down_msg(p1_name_mon, tuple(atom("named"), erl().name()), nc));
    auto p2_exits = std::vector<Term>{exit_at(p2).value_or(atom("none")), exit_at(p2).value_or(atom("none"))};
    EXPECT_EQ(sorted(list_from(p2_exits)), sorted(list(exit_msg(a3, nc), exit_msg(a4, nc))));
    EXPECT_EQ(down_at(p2, p2_mon), down_msg(p2_mon, a2, nc));
    EXPECT_EQ(down_at(p2, spawned[2]), down_msg(spawned[2], a4, nc)) << "the spawn_request's monitor";
    EXPECT_EQ(obs().down_reason(p3_mon), nc) << "a C++ process that does not trap dies of noconnection";
    EXPECT_EQ(obs().down_reason(obs_mon), nc);
    EXPECT_TRUE(obs().box().receive([&](const Term& t) { return t == exit_msg(a2, nc); }, 20s)) << "the mailbox's link";

    // Exactly once: after a round trip through each puppet, nothing else is queued.
    EXPECT_EQ(obs().cmd(p1, atom("ping")), Term(atom("pong")));
    EXPECT_EQ(obs().cmd(p2, atom("ping")), Term(atom("pong")));
    const auto extra = obs().leftovers();
    EXPECT_TRUE(extra.empty()) << "more than one signal for a link or monitor: " << list_from(extra);
}

// Node::disconnect: every link and monitor across the connection ends with noconnection on
// both sides (the erl agents report theirs over the connection erl sets up again), and links
// made afterwards work over the new connection.
TEST_F(ProcessInterop, DisconnectGivesNoconnectionOnBothSidesAndNewLinksWorkAfterwards) {
    const Pid a = agent(), w = agent(), b = agent();
    const Pid p = puppet(), q = puppet();
    for (const Pid& x : {a, b}) ASSERT_EQ(obs().cmd(x, tuple(atom("trap_exit"), true)), ok());
    for (const Pid& x : {p, q}) ASSERT_EQ(obs().cmd(x, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(a, tuple(atom("link"), p)), ok());
    const Term w_mon = obs().cmd(w, tuple(atom("monitor"), p));
    ASSERT_EQ(obs().cmd(q, tuple(atom("link"), b)), ok());
    const Term q_mon = obs().cmd(q, tuple(atom("monitor"), b));
    ASSERT_TRUE(obs().sync(a, p) && obs().sync(w, p) && obs().sync(q, b)) << context();

    node().disconnect(erl().name());
    const Term nc = atom("noconnection");
    EXPECT_EQ(exit_at(p), exit_msg(a, nc)) << context();
    EXPECT_EQ(exit_at(q), exit_msg(b, nc));
    EXPECT_EQ(down_at(q, q_mon), down_msg(q_mon, b, nc));
    EXPECT_EQ(exit_at(a), exit_msg(p, nc)) << "erl's side of a link" << context();
    EXPECT_EQ(exit_at(b), exit_msg(q, nc)) << context();
    EXPECT_EQ(down_at(w, w_mon), down_msg(w_mon, p, nc)) << "erl's monitor of a C++ process" << context();
    EXPECT_EQ(obs().cmd(a, atom("links")), list());

    ASSERT_EQ(obs().cmd(q, tuple(atom("link"), b)), ok());
    ASSERT_TRUE(obs().sync(q, b));
    EXPECT_EQ(obs().cmd(b, atom("links")), list(q));
    obs().tell(b, tuple(atom("die"), tuple(atom("after"), 1)));
    EXPECT_EQ(exit_at(q), exit_msg(b, tuple(atom("after"), 1))) << context();
}

// --- monitors -------------------------------------------------------------------------------------

TEST_F(ProcessInterop, MonitorsOfPidsAndOfNamesGiveDownWithTheExitReasonBothWays) {
    // erl watches a C++ process by pid and by {Name, Node}.
    SpawnOptions named;
    named.register_name = "watched_cpp";
    const Pid p = puppet(named);
    const Pid w = agent();
    const Term by_pid = obs().cmd(w, tuple(atom("monitor"), p));
    const Term by_name = obs().cmd(w, tuple(atom("monitor"), atom("watched_cpp"), node().name()));
    ASSERT_TRUE(by_pid.is_ref() && by_name.is_ref());
    ASSERT_TRUE(obs().sync(w, p));
    const Term cpp_reason = tuple(atom("cpp_down"), binary("why"), list(1, 2, 3));
    obs().tell(p, tuple(atom("die"), cpp_reason));
    EXPECT_EQ(down_at(w, by_pid), down_msg(by_pid, p, cpp_reason)) << context();
    EXPECT_EQ(down_at(w, by_name), down_msg(by_name, tuple(atom("watched_cpp"), node().name()), cpp_reason))
        << "a monitor by name names the process as {Name, Node}" << context();

    // C++ watches an erl process by pid and by {Name, Node}; erl lists the watcher.
    const Pid a = agent();
    ASSERT_EQ(obs().cmd(a, tuple(atom("register"), atom("watched_erl"))), Term(true));
    const Pid q = puppet();
    const Term q_pid = obs().cmd(q, tuple(atom("monitor"), a));
    const Term q_name = obs().cmd(q, tuple(atom("monitor"), atom("watched_erl"), erl().name()));
    ASSERT_TRUE(obs().sync(q, a));
    EXPECT_EQ(obs().cmd(a, atom("monitored_by")), list(q, q));
    const Term erl_reason = tuple(atom("erl_down"), 2.5);
    obs().tell(a, tuple(atom("die"), erl_reason));
    EXPECT_EQ(down_at(q, q_pid), down_msg(q_pid, a, erl_reason)) << context();
    EXPECT_EQ(down_at(q, q_name), down_msg(q_name, tuple(atom("watched_erl"), erl().name()), erl_reason));
}

// A monitor (or link) of something already gone answers at once: noproc for a dead pid or an
// unknown name on either side, noconnection for a node nobody can reach.
TEST_F(ProcessInterop, MonitorOfADeadPidOrUnknownNameGivesNoprocAtOnceBothWays) {
    // A dead C++ process and a name the C++ node does not have, monitored from erl.
    const Pid dead_cpp = puppet();
    const Ref m = watch(dead_cpp);
    obs().tell(dead_cpp, tuple(atom("die"), atom("normal")));
    ASSERT_EQ(obs().down_reason(m), Term(atom("normal")));
    const Pid w = agent();
    const Term r1 = obs().cmd(w, tuple(atom("monitor"), dead_cpp));
    EXPECT_EQ(down_at(w, r1), down_msg(r1, dead_cpp, atom("noproc"))) << context();
    const Term r2 = obs().cmd(w, tuple(atom("monitor"), atom("nobody_here"), node().name()));
    EXPECT_EQ(down_at(w, r2), down_msg(r2, tuple(atom("nobody_here"), node().name()), atom("noproc"))) << context();
    ASSERT_EQ(obs().cmd(w, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(w, tuple(atom("link"), dead_cpp)), ok());
    EXPECT_EQ(exit_at(w), exit_msg(dead_cpp, atom("noproc"))) << "erl linking to a dead C++ pid";

    // A dead erl process and an unknown erl name, monitored from C++.
    const Pid dead_erl = agent();
    const Ref m2 = watch(dead_erl);
    obs().tell(dead_erl, tuple(atom("die"), atom("normal")));
    ASSERT_EQ(obs().down_reason(m2), Term(atom("normal")));
    const Pid q = puppet();
    const Term q1 = obs().cmd(q, tuple(atom("monitor"), dead_erl));
    EXPECT_EQ(down_at(q, q1), down_msg(q1, dead_erl, atom("noproc"))) << context();
    const Term q2 = obs().cmd(q, tuple(atom("monitor"), atom("nobody_here"), erl().name()));
    EXPECT_EQ(down_at(q, q2), down_msg(q2, tuple(atom("nobody_here"), erl().name()), atom("noproc")));
    ASSERT_EQ(obs().cmd(q, tuple(atom("trap_exit"), true)), ok());
    ASSERT_EQ(obs().cmd(q, tuple(atom("link"), dead_erl)), ok());
    EXPECT_EQ(exit_at(q), exit_msg(dead_erl, atom("noproc"))) << "C++ linking to a dead erl pid";

    // A node epmd does not know: noconnection, as OTP gives.
    const Atom ghost(unique_name("ghost") + "@" + short_host());
    const Term q3 = obs().cmd(q, tuple(atom("monitor"), atom("anyone"), ghost));
    EXPECT_EQ(down_at(q, q3), down_msg(q3, tuple(atom("anyone"), ghost), atom("noconnection")));
}

// demonitor reaches erl (its process no longer lists the watcher), and demonitor with flush
// removes a 'DOWN' already queued while leaving other messages, DOWNs of other monitors
// included. The noproc DOWNs of a dead pid are sent by erl as it reads the MONITOR_P, so they
// are queued before the sync's answer arrives.
TEST_F(ProcessInterop, DemonitorRemovesTheMonitorOnTheBeamSideAndFlushDropsAQueuedDown) {
    const Pid a = agent();
    const Pid q = puppet();
    const Term mon = obs().cmd(q, tuple(atom("monitor"), a));
    ASSERT_TRUE(obs().sync(q, a));
    EXPECT_EQ(obs().cmd(a, atom("monitored_by")), list(q));
    EXPECT_EQ(obs().cmd(q, tuple(atom("demonitor"), mon, false)), Term(true));
    ASSERT_TRUE(obs().sync(q, a));
    EXPECT_EQ(obs().cmd(a, atom("monitored_by")), list()) << "DEMONITOR_P did not reach erl";

    const Pid dead = agent();
    const Ref m = watch(dead);
    obs().tell(dead, tuple(atom("die"), atom("normal")));
    ASSERT_EQ(obs().down_reason(m), Term(atom("normal")));
    ASSERT_EQ(obs().cmd(q, atom("hold")), ok());
    const Term flushed = obs().cmd(q, tuple(atom("monitor"), dead));
    const Term kept = obs().cmd(q, tuple(atom("monitor"), dead));
    ASSERT_TRUE(obs().sync(q, a));
    ASSERT_EQ(obs().cmd(q, tuple(atom("send"), q, atom("other"))), ok());
    obs().cmd(q, tuple(atom("demonitor"), flushed, true));
    EXPECT_EQ(obs().cmd(q, atom("drain")), list(down_msg(kept, dead, atom("noproc")), atom("other")))
        << "flush must drop exactly the flushed monitor's DOWN";
    ASSERT_EQ(obs().cmd(q, atom("release")), ok());
}

// --- aliases --------------------------------------------------------------------------------------

TEST_F(ProcessInterop, ErlSendsToACppAliasUntilItIsUnaliased) {
    const Pid p = puppet();
    const Pid a = agent();
    const Term alias = obs().cmd(p, atom("alias"));
    ASSERT_TRUE(alias.is_ref());
    ASSERT_EQ(obs().cmd(a, tuple(atom("send"), alias, tuple(atom("via_alias"), 1))), ok());
    EXPECT_EQ(obs().got(p), tuple(atom("via_alias"), 1)) << context();

    EXPECT_EQ(obs().cmd(p, tuple(atom("unalias"), alias)), Term(true));
    ASSERT_EQ(obs().cmd(a, tuple(atom("send"), alias, atom("dropped"))), ok());
    ASSERT_EQ(obs().cmd(a, tuple(atom("send"), p, atom("by_pid"))), ok());
    EXPECT_EQ(obs().got(p), Term(atom("by_pid"))) << "a message to an inactive alias was delivered";
}

TEST_F(ProcessInterop, CppSendsToAnErlAliasUntilErlUnaliasesIt) {
    const Pid p = puppet();
    const Pid a = agent();
    const Term alias = obs().cmd(a, atom("alias"));
    ASSERT_TRUE(alias.is_ref()) << alias;
    ASSERT_EQ(obs().cmd(p, tuple(atom("send"), alias, tuple(atom("via_alias"), 2))), ok());
    EXPECT_EQ(obs().got(a), tuple(atom("via_alias"), 2)) << context();

    EXPECT_EQ(obs().cmd(a, tuple(atom("unalias"), alias)), Term(true));
    ASSERT_EQ(obs().cmd(p, tuple(atom("send"), alias, atom("dropped"))), ok());
    ASSERT_EQ(obs().cmd(p, tuple(atom("send"), a, atom("by_pid"))), ok());
    EXPECT_EQ(obs().got(a), Term(atom("by_pid"))) << "erl delivered a message to an inactive alias";
}

// --- remote spawn ---------------------------------------------------------------------------------

TEST_F(ProcessInterop, ErlStartsExportedCppFunctionsWithSpawnSpawnLinkSpawnMonitorAndSpawnRequest) {
    const std::string n = "'" + us_ + "'";
    // spawn/4: a C++ puppet runs on the C++ node and answers erl.
    EXPECT_EQ(erl().eval("P = spawn(" + n + ", proc_peer, puppet, [self()]), T = make_ref(), "
                         "P ! {'$cmd', self(), T, ping}, "
                         "{node(P), receive {done, T, R} -> R after 20000 -> timeout end}"),
              "{" + us_ + ",pong}")
        << context();
    // spawn_monitor/4: the DOWN carries the function's exit reason.
    EXPECT_EQ(erl().eval("{P, M} = spawn_monitor(" + n + ", proc_peer, crash, [exit, {bye, [1, 2]}]), "
                         "receive {'DOWN', M, process, P, R} -> R after 20000 -> timeout end"),
              "{bye,[1,2]}")
        << context();
    // spawn_link/4: a trapping erl process gets the EXIT ...
    EXPECT_EQ(erl().eval("Self = self(), spawn(fun() -> process_flag(trap_exit, true), "
                         "P = spawn_link(" + n + ", proc_peer, crash, [exit, linked_bye]), "
                         "receive {'EXIT', P, R} -> Self ! {r, R} after 20000 -> Self ! {r, timeout} end end), "
                         "receive {r, R} -> R end"),
              "linked_bye")
        << context();
    // ... and the link holds on the C++ side too: the erl parent's exit ends the C++ child.
    EXPECT_EQ(erl().eval("Self = self(), Parent = spawn(fun() -> "
                         "P = spawn_link(" + n + ", proc_peer, puppet, [Self]), Self ! {child, P}, "
                         "receive die -> exit({parent_died, 7}) end end), "
                         "P = receive {child, C} -> C end, M = monitor(process, P), Parent ! die, "
                         "receive {'DOWN', M, process, P, R} -> R after 20000 -> timeout end"),
              "{parent_died,7}")
        << context();
    // spawn_request/5 with monitor, link and a reply tag: the reply, the BEAM-side link, the DOWN.
    EXPECT_EQ(erl().eval("Self = self(), spawn(fun() -> process_flag(trap_exit, true), "
                         "Req = spawn_request(" + n + ", proc_peer, puppet, [self()], [monitor, link, {reply_tag, t}]), "
                         "receive {t, Req, ok, P} -> "
                         "  {links, L} = process_info(self(), links), "
                         "  P ! {'$cmd', self(), x, {die, {req_bye, 3}}}, "
                         "  D = receive {'DOWN', Req, process, P, R} -> R after 20000 -> timeout end, "
                         "  E = receive {'EXIT', P, R2} -> R2 after 20000 -> timeout end, "
                         "  Self ! {r, {L =:= [P], D, E}}; "
                         "{t, Req, error, Err} -> Self ! {r, Err} after 20000 -> Self ! {r, timeout} end end), "
                         "receive {r, R} -> R end"),
              "{true,{req_bye,3},{req_bye,3}}")
        << context();
    // Options: a monitor's tag is honoured; an option no runtime knows is badopt, as BEAM says.
    EXPECT_EQ(erl().eval("Req = spawn_request(" + n + ", proc_peer, crash, [exit, tagged], [{monitor, [{tag, mytag}]}]), "
                         "receive {mytag, Req, process, _, R} -> R after 20000 -> timeout end"),
              "tagged")
        << context();
    for (const std::string& where : {n, std::string("node()")})
        EXPECT_EQ(erl().eval("Req = spawn_request(" + where + ", proc_peer, crash, [exit, x], [bogus]), "
                             "receive {spawn_reply, Req, error, E} -> E after 20000 -> timeout end"),
                  "badopt")
            << where;
}

// A crash in an exported C++ function ends its process with the reason OTP gives the same
// crash in an erl function (stack frames reduced to {M, F}: edist has no file or line), and an
// unknown function fails exactly as it does on BEAM.
TEST_F(ProcessInterop, CrashingCppFunctionExitsWithTheReasonOtpGivesTheSameCrash) {
    const std::string n = "'" + us_ + "'";
    const std::string helpers =
        "Norm = fun({E, [{M, F, _, _} | _]}) -> {E, [{M, F}]}; (R) -> R end, "
        "Run = fun(N, M, F, A) -> {P, Ref} = spawn_monitor(N, M, F, A), "
        "receive {'DOWN', Ref, process, P, R} -> R after 20000 -> timeout end end, ";
    for (const char* cls : {"error", "exit", "throw"}) {
        SCOPED_TRACE(cls);
        const std::string args = std::string("[") + cls + ", {boom, [1]}]";
        const std::string on_beam = erl().eval(helpers + "Norm(Run(node(), proc_peer, crash, " + args + "))");
        const std::string on_cpp = erl().eval(helpers + "Norm(Run(" + n + ", proc_peer, crash, " + args + "))");
        EXPECT_NE(on_beam, "timeout");
        EXPECT_EQ(on_cpp, on_beam) << context();
    }
    // Unknown module, unknown function and wrong arity, compared whole.
    for (const char* mfa : {"nomod, nofun, [1, a]", "proc_peer, nofun, []", "proc_peer, crash, [x]"}) {
        SCOPED_TRACE(mfa);
        const std::string on_beam = erl().eval(helpers + "Run(node(), " + mfa + ")");
        const std::string on_cpp = erl().eval(helpers + "Run(" + n + ", " + mfa + ")");
        EXPECT_EQ(on_beam.rfind("{undef,", 0), 0u) << on_beam;
        EXPECT_EQ(on_cpp, on_beam) << context();
    }
    // Seen through spawn_link by a trapping erl process: the same reason in the EXIT.
    EXPECT_EQ(erl().eval(helpers + "Self = self(), spawn(fun() -> process_flag(trap_exit, true), "
                         "P = spawn_link(" + n + ", proc_peer, crash, [error, badarith]), "
                         "receive {'EXIT', P, R} -> Self ! {r, Norm(R)} after 20000 -> Self ! {r, timeout} end end), "
                         "receive {r, R} -> R end"),
              "{badarith,[{proc_peer,crash}]}")
        << context();
}

TEST_F(ProcessInterop, CppSpawnRequestStartsErlProcessesWithTheLinkAndMonitorAsked) {
    const Pid p = puppet();
    ASSERT_EQ(obs().cmd(p, tuple(atom("trap_exit"), true)), ok());
    auto spawn = [&](Atom m, Atom f, Term args, Term opts) {
        return obs().cmd(p, tuple(atom("spawn_request"), erl().name(), m, f, std::move(args), std::move(opts)));
    };

    // link and monitor: both exist on the BEAM side, and both fire with the reason.
    const Term r = spawn(atom("proc_peer"), atom("agent"), list(obs().pid()), list(atom("link"), atom("monitor")));
    ASSERT_TRUE(r.is_tuple(3) && r[0].is_atom(atom("ok")) && r[1].is_pid() && r[2].is_ref()) << r << context();
    const Pid a = r[1].as_pid();
    EXPECT_EQ(a.node, erl().name());
    EXPECT_EQ(obs().cmd(a, atom("links")), list(p));
    EXPECT_EQ(obs().cmd(a, atom("monitored_by")), list(p));
    obs().tell(a, tuple(atom("die"), tuple(atom("spawned_bye"), 3)));
    EXPECT_EQ(exit_at(p), exit_msg(a, tuple(atom("spawned_bye"), 3))) << context();
    EXPECT_EQ(down_at(p, r[2]), down_msg(r[2], a, tuple(atom("spawned_bye"), 3)));

    // No options: neither.
    const Term plain = spawn(atom("proc_peer"), atom("agent"), list(obs().pid()), list());
    ASSERT_TRUE(plain.is_tuple(3) && plain[1].is_pid()) << plain;
    EXPECT_EQ(plain[2], Term(atoms::undefined));
    EXPECT_EQ(obs().cmd(plain[1].as_pid(), atom("links")), list());
    EXPECT_EQ(obs().cmd(plain[1].as_pid(), atom("monitored_by")), list());

    // An unknown function starts, then fails as OTP says.
    const Term undef = spawn(atom("nomod"), atom("nofun"), list(atom("x")), list(atom("monitor")));
    ASSERT_TRUE(undef.is_tuple(3) && undef[1].is_pid()) << undef;
    const Term expected = tuple(atom("undef"), list(tuple(atom("nomod"), atom("nofun"), list(atom("x")), list())));
    EXPECT_EQ(down_at(p, undef[2]), down_msg(undef[2], undef[1], expected)) << context();

    // link only, to a process that does not trap: it dies of the erl process's reason.
    const Pid plain_p = puppet();
    const Ref plain_mon = watch(plain_p);
    const Term linked = obs().cmd(plain_p, tuple(atom("spawn_request"), erl().name(), atom("proc_peer"), atom("agent"),
                                                 list(obs().pid()), list(atom("link"))));
    ASSERT_TRUE(linked.is_tuple(3) && linked[1].is_pid()) << linked;
    obs().tell(linked[1].as_pid(), tuple(atom("die"), atom("took_you_with_me")));
    EXPECT_EQ(obs().down_reason(plain_mon), Term(atom("took_you_with_me"))) << context();

    // A node nobody can reach: noconnection.
    const Atom ghost(unique_name("ghost") + "@" + short_host());
    EXPECT_EQ(obs().cmd(p, tuple(atom("spawn_request"), ghost, atom("m"), atom("f"), list(), list(atom("monitor")))),
              tuple(atom("error"), atom("noconnection")));
}

// A linked spawn whose requester is gone when the reply comes: the child gets the requester's
// exit, as BEAM's runtime sends it, instead of running on linked to nobody.
TEST_F(ProcessInterop, ALinkedRemoteSpawnWhoseRequesterDiedFirstGetsTheRequestersExit) {
    ASSERT_TRUE(node().ping(erl().name()));
    auto box = node().make_mailbox().value();
    const Pid box_pid = box.pid(), report = obs().pid();
    const Atom erl_name = erl().name();
    // erl is stopped: the SPAWN_REQUEST waits in its socket, and no reply can come before the
    // requester is dead (it sends the request before its first suspension, killed or not).
    erl().process().signal(SIGSTOP);
    const Pid requester = node()
                              .spawn([box_pid, report, erl_name](Self self) -> Task<> {
                                  self.send(box_pid, atom("requesting"));
                                  co_await self.spawn_request(erl_name, atom("proc_peer"), atom("agent"), list(report),
                                                              {.link = true});
                              })
                              .value();
    const Ref mon = watch(requester);
    EXPECT_EQ(box.receive(10s), Term(atom("requesting")));
    obs().self().exit(requester, atom("kill"));
    EXPECT_EQ(obs().down_reason(mon), Term(atom("killed")));
    erl().process().signal(SIGCONT);
    // The agent erl started for it dies of that exit: none is left running.
    EXPECT_EQ(erl().eval("(fun L(N) -> case [P || P <- processes(), process_info(P, current_function) == "
                         "{current_function, {proc_peer, agent, 2}}] of [] -> none_left; Ps when N == 0 -> Ps; "
                         "_ -> receive after 10 -> L(N - 1) end end end)(1000)"),
              "none_left")
        << context();
}

// --- Elixir ---------------------------------------------------------------------------------------

TEST_F(ProcessInterop, ElixirSpawnsLinksAndMonitorsProcessesOnTheCppNode) {
    if (!on_path("elixir")) GTEST_SKIP() << "elixir is not installed";
    const std::string script =
        "cpp = :\"" + us_ + "\"\n"
        "Process.flag(:trap_exit, true)\n"
        "pid = Node.spawn(cpp, :proc_peer, :puppet, [self()])\n"
        "ref = Process.monitor(pid)\n"
        "true = Process.link(pid)\n"
        "tag = make_ref()\n"
        "send(pid, {:\"$cmd\", self(), tag, :ping})\n"
        "receive do {:done, ^tag, r} -> IO.puts(\"PING #{inspect(r)}\") after 20000 -> IO.puts(\"PING timeout\") end\n"
        "send(pid, {:\"$cmd\", self(), make_ref(), {:die, {:shutdown, \"from elixir\"}}})\n"
        "receive do {:EXIT, ^pid, r} -> IO.puts(\"EXIT #{inspect(r)}\") after 20000 -> IO.puts(\"EXIT timeout\") end\n"
        "receive do {:DOWN, ^ref, :process, ^pid, r} -> IO.puts(\"DOWN #{inspect(r)}\") after 20000 -> "
        "IO.puts(\"DOWN timeout\") end\n"
        "ref2 = Process.monitor(pid)\n"
        "receive do {:DOWN, ^ref2, :process, ^pid, r} -> IO.puts(\"DEAD #{inspect(r)}\") after 20000 -> "
        "IO.puts(\"DEAD timeout\") end\n"
        "ref3 = Process.monitor({:nobody_here, cpp})\n"
        "receive do {:DOWN, ^ref3, :process, who, r} -> IO.puts(\"NONAME #{inspect(who)} #{inspect(r)}\") after 20000 -> "
        "IO.puts(\"NONAME timeout\") end\n"
        "pid3 = Node.spawn(cpp, :proc_peer, :puppet, [self()])\n"
        "ref4 = Process.monitor(pid3)\n"
        "Process.exit(pid3, :kill)\n"
        "receive do {:DOWN, ^ref4, :process, ^pid3, r} -> IO.puts(\"KILLED #{inspect(r)}\") after 20000 -> "
        "IO.puts(\"KILLED timeout\") end\n"
        "pid2 = Node.spawn_link(cpp, :proc_peer, :crash, [:error, :elixir_boom])\n"
        "receive do {:EXIT, ^pid2, r} -> IO.puts(\"CRASH #{inspect(r)}\") after 20000 -> IO.puts(\"CRASH timeout\") end\n"
        "IO.puts(\"FINISHED\")\n";
    Process elixir({"elixir", "--sname", unique_name("ex_proc") + "@" + short_host(), "--cookie", "edist_node_test",
                    "--erl", "-start_epmd false", "-e", script},
                   {"ERL_EPMD_PORT=" + std::to_string(epmd_->port())});
    EXPECT_TRUE(elixir.wait_line("PING :pong", 60s)) << elixir.transcript() << context();
    EXPECT_TRUE(elixir.wait_line("EXIT {:shutdown, \"from elixir\"}")) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("DOWN {:shutdown, \"from elixir\"}")) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("DEAD :noproc")) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("NONAME {:nobody_here, :" + us_ + "} :noproc")) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("KILLED :killed")) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("CRASH {:elixir_boom, [{:proc_peer, :crash, [:error, :elixir_boom], []}]}"))
        << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("FINISHED")) << elixir.transcript();
}
