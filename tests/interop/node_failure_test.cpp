// edist::Node when a real erl peer fails or races: kill -9 gives nodedown at once, SIGSTOP
// gives nodedown within OTP's net_ticktime bounds (and an idle live peer is never dropped),
// also after erl changed the tick time cluster-wide, and simultaneous connects from both sides end with exactly one connection.
//
// Private OTP epmd per test process, unique names, erl side in tests/data/node/node_peer.erl.
#include "interop/node_support.hpp"

#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <iostream>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;

namespace {

bool tagged(const Term& t, std::string_view tag, std::size_t arity) {
    return t.is_tuple(arity) && t[0].is_atom(atom(tag));
}

std::optional<Term> receive_tagged(Mailbox& box, std::string_view tag, std::size_t arity,
                                   std::chrono::milliseconds timeout = 20s) {
    return box.receive([&](const Term& t) { return tagged(t, tag, arity); }, timeout);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class NodeFailure : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
    }
    std::uint16_t epmd_port() const { return epmd_->port(); }
    ErlOptions erl_options(std::string name) const {
        ErlOptions o;
        o.name = std::move(name);
        o.epmd_port = epmd_port();
        return o;
    }

private:
    std::unique_ptr<OtpEpmd> epmd_;
};

} // namespace

TEST_F(NodeFailure, KillDashNineOfErlGivesNodedownAtOnce) {
    ErlNode erl(erl_options(unique_name("erl_kill")));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(unique_name("cpp_kill") + "@" + short_host(), epmd_port()); // default 60 s ticktime
    ASSERT_TRUE(cpp) << cpp.error();
    NodeEvents events(*cpp);
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    box->monitor_nodes(true);
    ASSERT_TRUE(cpp->ping(erl.name())) << cpp.log.text();
    ASSERT_TRUE(box->receive([&](const Term& t) { return t == tuple(atom("nodeup"), erl.name()); }, 5s));

    const auto killed = Clock::now();
    erl.process().signal(SIGKILL);
    auto down = events.wait(NodeEvent::Kind::nodedown, erl.name(), 10s);
    ASSERT_TRUE(down) << "no nodedown after kill -9" << cpp.log.text();
    EXPECT_LT(down->at - killed, 2s) << "took " << seconds(down->at - killed) << " s; the socket closed at once";
    EXPECT_EQ(down->event.reason, Term(atom("connection_closed"))) << to_string(down->event.reason);
    // Mailbox::monitor_nodes delivers the same as a message.
    EXPECT_TRUE(box->receive([&](const Term& t) { return t == tuple(atom("nodedown"), erl.name()); }, 5s));
    EXPECT_TRUE(cpp->nodes().empty());
    // The log says the connection went.
    EXPECT_TRUE(cpp.log.wait_for(std::string(erl.name().name()) + " closed the connection", 2s)) << cpp.log.text();
}

// OTP's rule (kernel app doc): with net_ticktime T and intensity 4, an unresponsive peer is
// declared down between 3/4 T and 5/4 T after it stopped answering.
TEST_F(NodeFailure, SigstopOfErlGivesNodedownWithinTickBoundsAndAnIdlePeerIsKept) {
    constexpr auto ticktime = 4s;
    ErlOptions o = erl_options(unique_name("erl_stop"));
    o.args = {"-kernel", "net_ticktime", "4"};
    ErlNode erl(o);
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(unique_name("cpp_stop") + "@" + short_host(), epmd_port(), "edist_node_test",
                [&](NodeOptions& n) { n.net_ticktime = ticktime; });
    ASSERT_TRUE(cpp) << cpp.error();
    NodeEvents events(*cpp);
    const std::string us(cpp->name().name());
    ASSERT_TRUE(cpp->ping(erl.name())) << cpp.log.text();
    ASSERT_TRUE(erl.process().wait_line("NODEUP " + us));

    // Idle for longer than net_ticktime: ticks keep it up on both sides.
    EXPECT_FALSE(events.wait(NodeEvent::Kind::nodedown, erl.name(), ticktime * 3 / 2))
        << "an idle but live peer was dropped: " << cpp.log.text();
    EXPECT_EQ(erl.process().count("NODEDOWN " + us), 0u) << "erl dropped us while idle: " << erl.transcript();
    EXPECT_EQ(erl.eval("lists:member('" + us + "', nodes(hidden))"), "true");

    const auto stopped = Clock::now();
    erl.process().signal(SIGSTOP);
    auto down = events.wait(NodeEvent::Kind::nodedown, erl.name(), ticktime * 3);
    const auto resumed_at = Clock::now();
    erl.process().signal(SIGCONT);
    ASSERT_TRUE(down) << "no nodedown " << seconds(resumed_at - stopped) << " s after SIGSTOP\n" << cpp.log.text();
    const auto took = down->at - stopped;
    EXPECT_GE(took, ticktime * 3 / 4 - 300ms) << "dropped after only " << seconds(took) << " s";
    EXPECT_LE(took, ticktime * 5 / 4 + 1500ms) << "dropped only after " << seconds(took) << " s";
    EXPECT_EQ(down->event.reason, Term(atom("net_tick_timeout"))) << to_string(down->event.reason);
    EXPECT_TRUE(cpp.log.wait_for("net_ticktime", 1s)) << cpp.log.text();

    // Resumed, erl learns the connection is gone, and the two can connect again.
    EXPECT_TRUE(erl.process().wait_line("NODEDOWN " + us)) << erl.transcript();
    EXPECT_TRUE(cpp->ping(erl.name())) << cpp.log.text();
}

// The tick time changed cluster-wide from erl, as OTP documents it (rpc:multicall(net_kernel,
// set_net_ticktime, [T])), from 60 s to 4 s with no transition: the C++ node ticks at once as
// often as erl's new 4 s needs, so an idle connection survives (it ticked every 15 s before),
// and it notices a stopped erl within the new bounds (it would wait 45-75 s before).
TEST_F(NodeFailure, ATicktimeChangedClusterWideFromErlTakesEffectOnTheCppNode) {
    constexpr auto ticktime = 4s;
    ErlNode erl(erl_options(unique_name("erl_tt"))); // net_ticktime 60, as both start
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(unique_name("cpp_tt") + "@" + short_host(), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    NodeEvents events(*cpp);
    const std::string us(cpp->name().name());
    ASSERT_TRUE(cpp->ping(erl.name())) << cpp.log.text();
    ASSERT_TRUE(erl.process().wait_line("NODEUP " + us));

    EXPECT_EQ(erl.eval("rpc:multicall([node(), '" + us + "'], net_kernel, set_net_ticktime, [4, 0])"),
              "{[change_initiated,change_initiated],[]}");
    EXPECT_EQ(cpp->net_ticktime().ticktime, ticktime);
    EXPECT_FALSE(cpp->net_ticktime().changing);

    // Idle for longer than the new tick time: ticks keep it up on both sides.
    EXPECT_FALSE(events.wait(NodeEvent::Kind::nodedown, erl.name(), ticktime * 3 / 2))
        << "an idle but live peer was dropped: " << cpp.log.text();
    EXPECT_EQ(erl.process().count("NODEDOWN " + us), 0u) << "erl dropped us while idle: " << erl.transcript();

    const auto stopped = Clock::now();
    erl.process().signal(SIGSTOP);
    auto down = events.wait(NodeEvent::Kind::nodedown, erl.name(), ticktime * 3);
    erl.process().signal(SIGCONT);
    ASSERT_TRUE(down) << "no nodedown within " << seconds(ticktime * 3) << " s of SIGSTOP\n" << cpp.log.text();
    const auto took = down->at - stopped;
    EXPECT_GE(took, ticktime * 3 / 4 - 300ms) << "dropped after only " << seconds(took) << " s";
    EXPECT_LE(took, ticktime * 5 / 4 + 1500ms) << "dropped only after " << seconds(took) << " s";
    EXPECT_EQ(down->event.reason, Term(atom("net_tick_timeout"))) << to_string(down->event.reason);
}

// Both sides dial each other at the same instant (erl spins to an agreed microsecond, then
// net_kernel:connect_node; we spin to it and Node::connect). Names alternate between sorting
// before and after erl's, so both outcomes of the name comparison are exercised.
TEST_F(NodeFailure, SimultaneousConnectEndsWithExactlyOneConnectionAndMessagesFlow) {
    // A deadlock in the connection manager must fail this test, not hang the binary.
    Watchdog watchdog(45s, "NodeFailure.SimultaneousConnect... is stuck: a Node call or the node's "
                           "teardown deadlocked");
    ErlNode erl(erl_options(unique_name("m_sim")));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    int simultaneous_seen = 0, erl_said_false = 0;
    constexpr int rounds = 20;
    for (int round = 0; round < rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::string prefix = round % 2 ? "z_sim" : "a_sim"; // after / before "m_sim"
        CppNode cpp(unique_name(prefix) + "@" + short_host(), epmd_port());
        ASSERT_TRUE(cpp) << cpp.error();
        NodeEvents events(*cpp);
        auto box = cpp->make_mailbox("cppbox");
        ASSERT_TRUE(box.ok());
        const std::string us(cpp->name().name());

        // Spread the two starts by a few hundred microseconds either way.
        const auto at = std::chrono::system_clock::now() + 200ms;
        const auto at_us = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
        const long erl_offset_us = (round / 2 % 5 - 2) * 250;
        const int cmd = erl.eval_async("node_peer:connect_at('" + us + "', " + std::to_string(at_us + erl_offset_us) + ")");
        while (std::chrono::system_clock::now() < at) {
        }
        const bool connected = cpp->connect(erl.name());
        const std::string erl_connected = erl.result(cmd);

        // Node::connect, like net_kernel:connect_node, is true once a connection is up, whichever
        // side's attempt won.
        EXPECT_TRUE(connected) << cpp.log.text();
        // erl's own connect_node can answer false when our nok reaches its attempt before our
        // attempt reaches erl (an OTP race, not ours); what must hold is the outcome below.
        if (erl_connected != "true") ++erl_said_false;
        ASSERT_TRUE(erl_connected == "true" || erl_connected == "false") << erl_connected << erl.transcript();
        // Messages flow both ways on the connection that won.
        box->send(atom("echo"), erl.name(), tuple(box->pid(), tuple(atom("round"), round)));
        auto echo = receive_tagged(*box, "echo", 2);
        EXPECT_TRUE(echo) << cpp.log.text() << erl.transcript();
        EXPECT_EQ(erl.eval("{cppbox, '" + us + "'} ! {from_erl, " + std::to_string(round) + "}"),
                  "{from_erl," + std::to_string(round) + "}");
        auto from_erl = receive_tagged(*box, "from_erl", 2);
        EXPECT_TRUE(from_erl) << cpp.log.text() << erl.transcript();

        // Exactly one connection, seen once from each side, and nothing went down.
        EXPECT_TRUE(erl.process().wait_line("NODEUP " + us)) << erl.transcript();
        EXPECT_EQ(erl.eval("length([N || N <- nodes(connected), N =:= '" + us + "'])"), "1");
        EXPECT_EQ(erl.process().count("NODEUP " + us), 1u) << erl.transcript();
        EXPECT_EQ(erl.process().count("NODEDOWN " + us), 0u) << erl.transcript();
        const auto nodes = cpp->nodes();
        EXPECT_EQ(std::count(nodes.begin(), nodes.end(), erl.name()), 1);
        EXPECT_EQ(events.count(NodeEvent::Kind::nodeup, erl.name()), 1u) << cpp.log.text();
        EXPECT_EQ(events.count(NodeEvent::Kind::nodedown, erl.name()), 0u) << cpp.log.text();
        if (cpp.log.count("simultaneous") + cpp.log.count("nok") > 0) ++simultaneous_seen;

        cpp->stop();
        EXPECT_TRUE(erl.process().wait_line("NODEDOWN " + us)) << erl.transcript();
        if (HasFatalFailure()) return;
    }
    // Not asserted (timing decides), but reported: how many rounds really crossed.
    std::cout << "[          ] " << simultaneous_seen << " of " << rounds
              << " rounds crossed handshakes (nok / ok_simultaneous); erl's connect_node said false in "
              << erl_said_false << "\n";
    RecordProperty("crossed_rounds", simultaneous_seen);
    RecordProperty("erl_connect_node_false", erl_said_false);
}

// Every send to an unreachable node tries to connect again, as BEAM's auto-connect does; the
// log warns about the first failure and notes the repeats at info level.
TEST_F(NodeFailure, RepeatedFailuresToReachANodeWarnOnceAMinute) {
    CppNode cpp(unique_name("cpp_unreach") + "@" + short_host(), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const Atom ghost(unique_name("ghost") + "@" + short_host());
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(cpp->connect(ghost, 10s));
    const std::string g(ghost.name());
    EXPECT_EQ(cpp.log.count("warning: "), 1u) << cpp.log.text();
    EXPECT_EQ(cpp.log.count("info: epmd does not know " + g), 2u) << cpp.log.text();
}
