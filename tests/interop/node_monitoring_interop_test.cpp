// Node monitoring against a real OTP 25 node: the nodeup/nodedown events of the C++ API come in
// the order and with the reasons net_kernel:monitor_nodes gives, connect() returns once the
// subscribers have heard of the node (as net_kernel:connect_node), erl sees the reasons an erl
// peer would cause, and a restarted C++ node does not take messages sent to its predecessor.
//
// One erl node (tests/data/node/node_peer.erl, which prints "NODEDOWN <node> <reason>") and a
// private OTP epmd serve every test of the suite; each test starts its own C++ node.
#include "interop/node_support.hpp"

#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <thread>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;

namespace {

// Every event one subscriber is told, in the order it is told them.
class EventOrder {
public:
    explicit EventOrder(Node& node) : node_(node) {
        id_ = node.monitor_nodes([state = state_](const NodeEvent& e) {
            {
                std::lock_guard lock(state->mutex);
                state->seen.push_back(std::string(e.kind == NodeEvent::Kind::nodeup ? "nodeup" : "nodedown") + " " +
                                      std::string(e.node.name()) +
                                      (e.kind == NodeEvent::Kind::nodedown ? " " + to_string(e.reason) : ""));
            }
            state->cv.notify_all();
        });
    }
    ~EventOrder() { node_.unmonitor_nodes(id_); }
    EventOrder(const EventOrder&) = delete;
    EventOrder& operator=(const EventOrder&) = delete;

    // The events so far, once there are at least `n` (or the timeout passed).
    std::vector<std::string> wait(std::size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(state_->mutex);
        state_->cv.wait_for(lock, timeout, [&] { return state_->seen.size() >= n; });
        return state_->seen;
    }

private:
    struct State {
        std::mutex mutex;
        std::condition_variable cv;
        std::vector<std::string> seen;
    };
    Node& node_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
    std::uint64_t id_ = 0;
};

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += "  " + s + "\n";
    return out;
}

class NodeMonitoring : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!erl_available()) return;
        epmd_ = new OtpEpmd();
        if (!epmd_->ready()) return;
        ErlOptions o;
        o.name = unique_name("erl_mon");
        o.epmd_port = epmd_->port();
        erl_ = new ErlNode(o);
        // The command loop's process takes what tests send to `tester` on the erl node.
        if (erl_->ready()) erl_->eval("register(tester, self())");
    }
    static void TearDownTestSuite() {
        delete erl_;
        delete epmd_;
        erl_ = nullptr;
        epmd_ = nullptr;
    }
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        ASSERT_TRUE(epmd_ && epmd_->ready()) << (epmd_ ? epmd_->transcript() : "");
        ASSERT_TRUE(erl_ && erl_->ready()) << (erl_ ? erl_->transcript() : "");
    }
    static ErlNode& erl() { return *erl_; }
    static std::uint16_t epmd_port() { return epmd_->port(); }
    static std::string cpp_name(std::string_view prefix) { return unique_name(prefix) + "@" + short_host(); }

private:
    static inline OtpEpmd* epmd_ = nullptr;
    static inline ErlNode* erl_ = nullptr;
};

} // namespace

// A subscriber that refuses some nodes disconnects them from its nodeup callback. The others
// must still hear nodeup first and nodedown after it, as net_kernel's subscribers always do;
// a nodedown before the nodeup would leave them believing the node is up.
TEST_F(NodeMonitoring, ANodeupCallbackThatDisconnectsIsFollowedByTheNodedownNeverPrecededByIt) {
    CppNode cpp(cpp_name("cpp_refuse"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const Atom peer = erl().name();
    Node& node = *cpp;
    const auto refuse = cpp->monitor_nodes([&node, peer](const NodeEvent& e) {
        if (e.kind == NodeEvent::Kind::nodeup && e.node == peer) node.disconnect(e.node);
    });
    EventOrder order(*cpp); // told after the refusing callback
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    box->monitor_nodes(true);

    cpp->connect(peer); // up, then refused: true or false, whichever it saw
    const auto seen = order.wait(2, 10s);
    const std::string us(cpp->name().name());
    ASSERT_EQ(seen.size(), 2u) << joined(seen) << cpp.log.text();
    EXPECT_EQ(seen[0], "nodeup " + erl().node()) << joined(seen);
    EXPECT_EQ(seen[1], "nodedown " + erl().node() + " disconnect") << joined(seen);
    // The mailbox subscriber gets the same two, in the same order.
    EXPECT_EQ(box->receive(5s), std::optional<Term>(tuple(atom("nodeup"), peer)));
    EXPECT_EQ(box->receive(5s), std::optional<Term>(tuple(atom("nodedown"), peer)));
    EXPECT_TRUE(erl().process().wait_line("NODEDOWN " + us + " connection_closed")) << erl().transcript();
    cpp->unmonitor_nodes(refuse);
}

// net_kernel sends nodeup to its subscribers before it answers connect_node (and nodedown
// before disconnect_node returns): a process that monitors nodes and connects finds the nodeup
// already in its mailbox. Here a slow first subscriber holds the announcement back.
TEST_F(NodeMonitoring, ConnectReturnsOnceEveryNodeupSubscriberHasBeenTold) {
    CppNode cpp(cpp_name("cpp_told"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const Atom peer = erl().name();
    // A subscriber that takes its time (it writes to a slow disk, say); not synchronisation.
    const auto slow = cpp->monitor_nodes([](const NodeEvent& e) {
        if (e.kind == NodeEvent::Kind::nodeup) std::this_thread::sleep_for(200ms);
    });
    NodeEvents events(*cpp);
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    box->monitor_nodes(true);

    ASSERT_TRUE(cpp->connect(peer)) << cpp.log.text();
    EXPECT_EQ(events.count(NodeEvent::Kind::nodeup, peer), 1u) << "connect() returned before nodeup was delivered";
    EXPECT_EQ(box->receive(0ms), std::optional<Term>(tuple(atom("nodeup"), peer)));

    cpp->disconnect(peer);
    EXPECT_EQ(events.count(NodeEvent::Kind::nodedown, peer), 1u) << "disconnect() returned before nodedown";
    EXPECT_EQ(box->receive(0ms), std::optional<Term>(tuple(atom("nodedown"), peer)));
    cpp->unmonitor_nodes(slow);
}

// The reasons each side reports, for each way a connection ends, are the ones two erl nodes
// report to each other (checked against erl <-> erl on OTP 25): the side that disconnects says
// `disconnect`, the other `connection_closed`; a stopped node is `connection_closed` to its
// peers and `net_kernel_terminated` to its own subscribers, as when net_kernel stops; and
// erlang:monitor_node/2 on it afterwards gives {nodedown, Node} at once (it left epmd).
TEST_F(NodeMonitoring, EachWayAConnectionEndsGivesBothSidesTheReasonsTwoErlNodesGive) {
    CppNode cpp(cpp_name("cpp_why"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const Atom peer = erl().name();
    const std::string us(cpp->name().name());
    EventOrder order(*cpp);

    // The C++ side disconnects; erl's erlang:monitor_node/2 fires too.
    ASSERT_TRUE(cpp->connect(peer)) << cpp.log.text();
    ASSERT_TRUE(erl().process().wait_line("NODEUP " + us));
    EXPECT_EQ(erl().eval("erlang:monitor_node('" + us + "', true)"), "true");
    cpp->disconnect(peer);
    EXPECT_TRUE(erl().process().wait_line("NODEDOWN " + us + " connection_closed")) << erl().transcript();
    EXPECT_EQ(erl().eval("receive {nodedown, N} -> N after 5000 -> none end"), us);

    // erl disconnects.
    ASSERT_TRUE(cpp->connect(peer)) << cpp.log.text();
    ASSERT_TRUE(erl().process().wait_line("NODEUP " + us));
    EXPECT_EQ(erl().eval("erlang:disconnect_node('" + us + "')"), "true");
    EXPECT_TRUE(erl().process().wait_line("NODEDOWN " + us + " disconnect")) << erl().transcript();

    // erl connects, and the C++ node stops.
    EXPECT_EQ(erl().eval("net_adm:ping('" + us + "')"), "pong");
    ASSERT_TRUE(erl().process().wait_line("NODEUP " + us));
    ASSERT_EQ(order.wait(5, 10s).size(), 5u);
    cpp->stop();
    EXPECT_TRUE(erl().process().wait_line("NODEDOWN " + us + " connection_closed")) << erl().transcript();
    EXPECT_EQ(erl().eval("erlang:monitor_node('" + us + "', true), "
                         "receive {nodedown, N} -> N after 5000 -> none end"),
              us);

    // On the stopping node itself, as when net_kernel stops: net_kernel_terminated.
    const auto seen = order.wait(6, 10s);
    const std::string e = erl().node();
    EXPECT_EQ(seen, (std::vector<std::string>{"nodeup " + e, "nodedown " + e + " disconnect", "nodeup " + e,
                                              "nodedown " + e + " connection_closed", "nodeup " + e,
                                              "nodedown " + e + " net_kernel_terminated"}))
        << joined(seen);
}

// Node::stop() is the C++ node's init:stop(): what it sent before stopping reaches the peer
// (checked on OTP 25: a message sent just before init:stop() arrives; before halt() it may not).
// A megabyte of it is still queued when stop() is called, most of it not yet written.
TEST_F(NodeMonitoring, WhatANodeSentBeforeStopReachesThePeerAsWithInitStop) {
    CppNode cpp(cpp_name("cpp_last"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const Atom peer = erl().name();
    const std::string us(cpp->name().name());
    ASSERT_TRUE(cpp->connect(peer)) << cpp.log.text();
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    const Term chunk = binary(std::vector<std::uint8_t>(64 * 1024, 7));
    for (int i = 0; i < 16; ++i) box->send(atom("tester"), peer, tuple(atom("chunk"), i, chunk));
    box->send(atom("tester"), peer, tuple(atom("last_words"), atom(us)));
    cpp->stop();
    EXPECT_TRUE(erl().process().wait_line("NODEDOWN " + us + " connection_closed")) << erl().transcript();
    // Whatever erl got came before the connection closed: no waiting for more.
    EXPECT_EQ(erl().eval("Chunks = fun Chunks(N) -> receive {chunk, N, B} when byte_size(B) =:= 65536 -> "
                         "Chunks(N + 1) after 0 -> N end end, "
                         "{Chunks(0), receive {last_words, '" + us + "'} -> yes after 0 -> no end}"),
              "{16,yes}");
}

// A node that restarts under the same name gets a new creation; pids of the old incarnation
// name nothing any more, even where the new one reuses their numbers. OTP drops messages sent to
// them and answers monitors with noproc, and so does the restarted C++ node.
TEST_F(NodeMonitoring, MessagesToPidsOfAnEarlierIncarnationAreDroppedAndTheNewOnesWork) {
    const std::string name = cpp_name("cpp_again");
    auto hand_pid_to_erl = [&](Mailbox& box, const std::string& key) {
        box.send(atom("tester"), erl().name(), tuple(atom("pid"), box.pid()));
        return erl().eval("receive {pid, P} -> put(" + key + ", P), node(P) after 5000 -> none end");
    };
    std::uint32_t first_creation = 0, first_id = 0;
    {
        CppNode first(name, epmd_port());
        ASSERT_TRUE(first) << first.error();
        auto box = first->make_mailbox();
        ASSERT_TRUE(box.ok());
        ASSERT_EQ(hand_pid_to_erl(*box, "old"), name);
        first_creation = first->creation();
        first_id = box->pid().id;
    }
    ASSERT_TRUE(erl().process().wait_line("NODEDOWN " + name + " connection_closed")) << erl().transcript();

    CppNode second(name, epmd_port());
    ASSERT_TRUE(second) << second.error();
    auto box = second->make_mailbox();
    ASSERT_TRUE(box.ok());
    EXPECT_NE(second->creation(), first_creation) << "epmd gave the new incarnation the old creation";
    // The point of the test: the new mailbox has the old one's number, only the creation differs.
    ASSERT_EQ(box->pid().id, first_id);
    ASSERT_EQ(hand_pid_to_erl(*box, "new"), name);

    // One sender, one connection: had `stale` been delivered, it would come before `fresh`.
    EXPECT_EQ(erl().eval("get(old) ! stale, get(new) ! fresh, get(old) =/= get(new)"), "true");
    EXPECT_EQ(box->receive(5s), std::optional<Term>(atom("fresh")));
    EXPECT_EQ(box->queued(), 0u);
    EXPECT_EQ(erl().eval("R = erlang:monitor(process, get(old)), "
                         "receive {'DOWN', R, process, _, Why} -> Why after 5000 -> none end"),
              "noproc");
    EXPECT_EQ(erl().eval("R2 = erlang:monitor(process, get(new)), erlang:demonitor(R2, [flush, info])"), "true");
}

// A peer that restarts while this node still holds its old connection (the old one went
// silent: SIGSTOP here, a dead host or a cut cable in life) connects again under the same
// name; the handshake answers `alive`, the new incarnation says so, and the old connection
// goes. As on OTP 25 (checked erl <-> erl): subscribers hear nodedown with reason wait_pending,
// then nodeup, and every link and then every monitor through the old connection ends with
// noconnection.
//
// The new erl must reach us while the old one still holds its epmd name, so it runs
// epmd-less (-erl_epmd_port, the port we listen on) on its own loopback address.
TEST_F(NodeMonitoring, APeerRestartedBehindASilentConnectionReplacesItAndItsLinksAndMonitorsEnd) {
    const std::uint16_t port = free_port();
    CppNode cpp(unique_name("cpp_held") + "@127.0.0.1", epmd_port(), "edist_node_test", [&](NodeOptions& o) {
        o.long_names = true;
        o.listen_port = port;
        o.listen_address = "127.0.0.1";
    });
    ASSERT_TRUE(cpp) << cpp.error();
    EventOrder order(*cpp);
    ErlOptions o;
    o.name = unique_name("erl_again");
    o.long_names = true;
    o.host = "127.0.0.2";
    o.epmd_port = epmd_port();
    ErlNode old_erl(o);
    ASSERT_TRUE(old_erl.ready()) << old_erl.transcript();
    const Atom peer = old_erl.name();

    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    box->self().trap_exit(true);
    ASSERT_TRUE(cpp->ping(peer)) << cpp.log.text();
    box->send(atom("echo"), peer, tuple(box->pid(), atom("whoami")));
    auto who = box->receive(10s);
    ASSERT_TRUE(who && who->is_tuple(2) && (*who)[1].is_pid()) << (who ? to_string(*who) : "nothing");
    const Pid old_echo = (*who)[1].as_pid();
    box->self().link(old_echo);
    const Ref mon = box->self().monitor(old_echo);
    box->monitor_nodes(true);

    old_erl.process().signal(SIGSTOP);
    o.epmd_port = free_port(); // no epmd there: the new erl asks none
    o.args = {"-erl_epmd_port", std::to_string(port), "-kernel", "inet_dist_use_interface", "{127,0,0,2}"};
    ErlNode new_erl(o);
    ASSERT_TRUE(new_erl.ready()) << new_erl.transcript();
    EXPECT_EQ(new_erl.eval("net_adm:ping('" + std::string(cpp->name().name()) + "')"), "pong")
        << new_erl.transcript() << cpp.log.text();

    const auto seen = order.wait(3, 10s);
    const std::string p(peer.name());
    EXPECT_EQ(seen, (std::vector<std::string>{"nodeup " + p, "nodedown " + p + " wait_pending", "nodeup " + p}))
        << joined(seen) << cpp.log.text();
    // Links first, then monitors, as BEAM fires them when a connection is lost (erl <-> erl on
    // OTP 25 gives every EXIT before any DOWN).
    auto exit_or_down = [](const Term& t) {
        return (t.is_tuple(3) && t[0].is_atom(atom("EXIT"))) || (t.is_tuple(5) && t[0].is_atom(atom("DOWN")));
    };
    EXPECT_EQ(box->receive(exit_or_down, 5s), std::optional<Term>(tuple(atom("EXIT"), old_echo, atom("noconnection"))));
    EXPECT_EQ(box->receive(exit_or_down, 5s),
              std::optional<Term>(tuple(atom("DOWN"), mon, atom("process"), old_echo, atom("noconnection"))));
    // What is left: the mailbox subscriber's two messages, in order.
    EXPECT_EQ(box->receive(5s), std::optional<Term>(tuple(atom("nodedown"), peer)));
    EXPECT_EQ(box->receive(5s), std::optional<Term>(tuple(atom("nodeup"), peer)));

    // The new incarnation is served.
    box->send(atom("echo"), peer, tuple(box->pid(), atom("hi")));
    EXPECT_EQ(box->receive(10s), std::optional<Term>(tuple(atom("echo"), atom("hi"))));
}

// erlang:monitor_node/2 from C++: monitoring a node that is not connected connects it, every
// monitor sends its own {nodedown, Node} when the connection ends and monitor_node(N, false)
// takes one away (OTP's BIF, checked on erl <-> erl); a node that cannot be reached is down at
// once, and this node's own name never is.
TEST_F(NodeMonitoring, MonitorNodeConnectsAndEachMonitorGetsItsOwnNodedown) {
    CppNode cpp(cpp_name("cpp_mon_node"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const Atom peer = erl().name();
    NodeEvents events(*cpp);
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    const Self self = box->self();

    self.monitor_node(peer, true); // not connected: this connects
    ASSERT_TRUE(cpp->connect(peer)) << cpp.log.text();
    EXPECT_EQ(events.count(NodeEvent::Kind::nodeup, peer), 1u);
    self.monitor_node(peer, true);
    self.monitor_node(peer, true);
    self.monitor_node(peer, false); // two left
    self.monitor_node(cpp->name(), true); // never down
    cpp->disconnect(peer);
    const Term down = tuple(atom("nodedown"), peer);
    EXPECT_EQ(box->receive(0ms), std::optional<Term>(down));
    EXPECT_EQ(box->receive(0ms), std::optional<Term>(down));
    EXPECT_EQ(box->queued(), 0u) << "the monitor taken away, or this node's own, sent a nodedown";

    // The monitors went with the connection: a new one and its end send nothing more.
    ASSERT_TRUE(cpp->connect(peer)) << cpp.log.text();
    cpp->disconnect(peer);
    EXPECT_EQ(box->queued(), 0u);

    const Atom nowhere = atom(unique_name("nobody") + "@" + short_host());
    self.monitor_node(nowhere, true);
    EXPECT_EQ(box->receive(10s), std::optional<Term>(tuple(atom("nodedown"), nowhere)));
}
