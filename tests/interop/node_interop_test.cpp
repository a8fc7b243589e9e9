// edist::Node against real OTP 25 and Elixir nodes: pings, messages by pid and by registered
// name, a 16 MB binary (fragments), 100,000 messages in order, wrong cookies, OTP's epmd and
// the embedded one, short and long names. Every check that can be made from the BEAM side is
// made there too (erl's echo answers, its counters, NODEUP lines it prints).
//
// Each test process runs a private OTP epmd on a free port (never 4369), erl nodes with
// -start_epmd false and ERL_EPMD_PORT pointing at it, and node names unique to the process,
// so ctest -j can run these side by side. The erl side is tests/data/node/node_peer.erl.
#include "dist/atom_slots.hpp"
#include "interop/node_support.hpp"

#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <asio.hpp>

#include <openssl/evp.h>

#include <array>
#include <atomic>
#include <random>
#include <span>
#include <thread>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;

namespace {

using Md5 = std::array<std::uint8_t, 16>;

Md5 md5(std::span<const std::uint8_t> bytes) {
    Md5 d{};
    unsigned int n = 0;
    EVP_Digest(bytes.data(), bytes.size(), d.data(), &n, EVP_md5(), nullptr);
    return d;
}

bool tagged(const Term& t, std::string_view tag, std::size_t arity) {
    return t.is_tuple(arity) && t[0].is_atom(atom(tag));
}

// Selective receive of the first {Tag, ...} tuple of that arity.
std::optional<Term> receive_tagged(Mailbox& box, std::string_view tag, std::size_t arity,
                                   std::chrono::milliseconds timeout = 20s) {
    return box.receive([&](const Term& t) { return tagged(t, tag, arity); }, timeout);
}

std::string text(const std::optional<Term>& t) { return t ? to_string(*t) : std::string("<nothing>"); }

// Has erl's echo send each message back, twice over (the second time the peer's atom cache
// holds their atoms), and checks that each comes back as sent and the connection stays up.
void expect_echoed_twice(ErlNode& erl, CppNode& cpp, Mailbox& box, std::span<const Term> messages) {
    for (int round = 0; round < 2; ++round) {
        for (const Term& m : messages) {
            box.send(atom("echo"), erl.name(), tuple(box.pid(), m));
            auto reply = receive_tagged(box, "echo", 2);
            ASSERT_TRUE(reply) << erl.transcript() << cpp.log.text();
            EXPECT_EQ((*reply)[1], m) << "round " << round;
        }
    }
    EXPECT_TRUE(erl.eval("lists:member('" + std::string(cpp->name().name()) + "', nodes(hidden))") == "true")
        << "the connection stayed up";
}

class NodeInterop : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
    }
    std::uint16_t epmd_port() const { return epmd_->port(); }

    ErlOptions erl_options(std::string_view prefix, bool long_names = false) const {
        ErlOptions o;
        o.name = unique_name(prefix);
        o.long_names = long_names;
        o.epmd_port = epmd_port();
        return o;
    }
    std::string cpp_name(std::string_view prefix, bool long_names = false) const {
        return unique_name(prefix) + "@" + (long_names ? std::string("127.0.0.1") : short_host());
    }

private:
    std::unique_ptr<OtpEpmd> epmd_;
};

} // namespace

// --- pings ----------------------------------------------------------------------------------------

TEST_F(NodeInterop, CppNodePingsErlAndGetsPong) {
    ErlNode erl(erl_options("erl_ping"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_ping"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();

    EXPECT_TRUE(cpp->ping(erl.name()));
    const std::string us(cpp->name().name());
    // The BEAM side saw a (hidden) node come up and keeps it connected.
    EXPECT_TRUE(erl.process().wait_line("NODEUP " + us)) << erl.transcript();
    EXPECT_EQ(erl.eval("lists:member('" + us + "', nodes(hidden))"), "true");
    EXPECT_EQ(erl.eval("nodes()"), "[]") << "a hidden node must not show up in nodes()";
    const auto connected = cpp->nodes();
    EXPECT_EQ(std::count(connected.begin(), connected.end(), erl.name()), 1);
}

TEST_F(NodeInterop, ErlPingsCppNodeAndGetsPong) {
    ErlNode erl(erl_options("erl_pinger"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_pinged"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    NodeEvents events(*cpp);

    const std::string us(cpp->name().name());
    EXPECT_EQ(erl.eval("net_adm:ping('" + us + "')"), "pong") << erl.transcript() << cpp.log.text();
    EXPECT_TRUE(events.wait(NodeEvent::Kind::nodeup, erl.name(), 10s));
    EXPECT_EQ(erl.eval("net_adm:ping('" + us + "')"), "pong") << "a second ping reuses the connection";
    EXPECT_EQ(events.count(NodeEvent::Kind::nodeup, erl.name()), 1u);
}

TEST_F(NodeInterop, LongNamesPingBothWays) {
    ErlNode erl(erl_options("erl_long", true));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_long", true), epmd_port(), "edist_node_test",
                [](NodeOptions& o) { o.long_names = true; });
    ASSERT_TRUE(cpp) << cpp.error();
    const std::string us(cpp->name().name());
    ASSERT_NE(us.find("@127.0.0.1"), std::string::npos) << us;

    // C++ dials erl.
    EXPECT_TRUE(cpp->ping(erl.name())) << cpp.log.text();
    EXPECT_TRUE(erl.process().wait_line("NODEUP " + us)) << erl.transcript();
    // Drop the connection; erl sees it go, then dials us.
    cpp->disconnect(erl.name());
    EXPECT_TRUE(erl.process().wait_line("NODEDOWN " + us)) << erl.transcript();
    EXPECT_EQ(erl.eval("net_adm:ping('" + us + "')"), "pong") << cpp.log.text();
    EXPECT_TRUE(erl.process().wait_line("NODEUP " + us)) << erl.transcript();
}

// --- messages -------------------------------------------------------------------------------------

TEST_F(NodeInterop, MessagesFlowBothWaysByPidAndByRegisteredName) {
    ErlNode erl(erl_options("erl_msg"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_msg"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    auto box = cpp->make_mailbox("cppbox");
    ASSERT_TRUE(box.ok()) << box.error().what();

    // C++ -> erl by {Name, Node}; erl answers to the pid it received: erl -> C++ by pid.
    box->send(atom("echo"), erl.name(), tuple(box->pid(), atom("whoami")));
    auto reply = receive_tagged(*box, "echo_pid", 2);
    ASSERT_TRUE(reply) << erl.transcript() << cpp.log.text();
    ASSERT_TRUE((*reply)[1].is_pid());
    const Pid echo = (*reply)[1].as_pid();
    EXPECT_EQ(echo.node, erl.name());

    // C++ -> erl by pid, with a term that exercises most of the external format.
    const Term payload = tuple(atom("complex"),
                               list(1, 2.5, binary("bin"), string("str"), map({{atom("a"), atom("b")}}),
                                    Term(BigInt::from_string("-123456789012345678901234567890").value()),
                                    atom("åäö"), box->pid()));
    box->send(echo, tuple(box->pid(), payload));
    reply = receive_tagged(*box, "echo", 2);
    ASSERT_TRUE(reply) << erl.transcript();
    EXPECT_EQ((*reply)[1], payload) << text(reply);

    // erl -> C++ by {Name, Node}: the registered mailbox gets it.
    const std::string us(cpp->name().name());
    EXPECT_EQ(erl.eval("{cppbox, '" + us + "'} ! {from_erl, 42}"), "{from_erl,42}");
    reply = receive_tagged(*box, "from_erl", 2);
    ASSERT_TRUE(reply) << erl.transcript();
    EXPECT_EQ((*reply)[1], Term(42));

    // A C++ node's Node::send to a name on erl without a sending mailbox still arrives.
    cpp->send(atom("echo"), erl.name(), tuple(box->pid(), atom("no_sender")));
    reply = receive_tagged(*box, "echo", 2);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)[1], Term(atom("no_sender")));
}

TEST_F(NodeInterop, ElixirExchangesMessagesByPidAndByName) {
    if (!on_path("elixir")) GTEST_SKIP() << "elixir is not installed";
    CppNode cpp(cpp_name("cpp_ex"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    auto box = cpp->make_mailbox("cppbox");
    ASSERT_TRUE(box.ok());
    const std::string us(cpp->name().name());
    const std::string ex_name = unique_name("elixir") + "@" + short_host();

    Process elixir({"elixir", "--sname", ex_name, "--cookie", "edist_node_test", "--erl", "-start_epmd false",
                    test_data("node/echo.exs").string(), us},
                   {"ERL_EPMD_PORT=" + std::to_string(epmd_port())});

    // Elixir -> C++ by registered name: send({:cppbox, :"cpp@host"}, ...).
    auto hello = receive_tagged(*box, "hello_from_elixir", 3, 30s);
    ASSERT_TRUE(hello) << elixir.transcript() << cpp.log.text();
    ASSERT_TRUE((*hello)[1].is_pid());
    const Pid ex = (*hello)[1].as_pid();
    EXPECT_EQ((*hello)[2], Term(atom(ex_name)));

    // C++ -> Elixir by pid; Elixir -> C++ by pid.
    box->send(ex, tuple(box->pid(), binary("by pid")));
    auto reply = receive_tagged(*box, "echo", 2);
    ASSERT_TRUE(reply) << elixir.transcript();
    EXPECT_EQ((*reply)[1], binary("by pid"));
    // C++ -> Elixir by {Name, Node}.
    box->send(atom("echo"), atom(ex_name), tuple(box->pid(), tuple(atom("by_name"), 7)));
    reply = receive_tagged(*box, "echo", 2);
    ASSERT_TRUE(reply) << elixir.transcript();
    EXPECT_EQ((*reply)[1], tuple(atom("by_name"), 7));
    // The Elixir side printed what it got, and from which node.
    EXPECT_TRUE(elixir.wait_line("GOT \"by pid\" from :" + us)) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("GOT {:by_name, 7} from :" + us)) << elixir.transcript();

    box->send(ex, tuple(box->pid(), atom("stop")));
    EXPECT_TRUE(box->receive([](const Term& t) { return t.is_atom(atom("stopped")); }, 20s));
}

// Messages to erl carry their atoms as references to erl's atom cache for this connection
// (DFLAG_DIST_HDR_ATOM_CACHE), the text going only with the first use of a slot: erl decodes
// each message as it was sent, however many atoms it holds, whatever their length, when two
// compete for a slot, when the message comes in fragments, and when it repeats.
TEST_F(NodeInterop, AtomCacheReferencesSentToErlDecodeAsSent) {
    ErlNode erl(erl_options("erl_acache"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_acache"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());

    std::vector<Term> many;
    for (int i = 0; i < 300; ++i) many.push_back(atom("interop_many_" + std::to_string(i)));
    const auto [a1, a2] = test::atoms_sharing_a_slot("interop_slot_");
    std::string long_text;
    for (int i = 0; i < 255; ++i) long_text += "\u00e5"; // 255 characters, 510 bytes
    const Term messages[] = {
        tuple(atom("plain"), atom("interop_one"), list(atom("interop_one"), atom("interop_two"))),
        tuple_from(many),
        tuple(a1, a2, a1, atom(long_text), a2),
        tuple(binary(std::string(200'000, 'z')), tuple_from(many), atom(long_text)),
    };
    expect_echoed_twice(erl, cpp, *box, messages);
}

// More of what the atom cache meets, each checked by erl echoing it: a message over a
// fragment without a large binary (its bytes are moved to make room for the fragment headers,
// the header's cache part in the first), the highest slots (2039-2047, which BEAM itself never
// sends from), and atoms inside pids, ports, refs, funs and exports as cache references.
TEST_F(NodeInterop, AtomCacheReferencesInFragmentsHighSlotsAndNodeNames) {
    ErlNode erl(erl_options("erl_acache2"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_acache2"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());

    std::vector<Term> high;
    for (Atom a : test::atoms_in_slots_from("interop_high_", etf::AtomCacheOut::slots - 9, 9)) high.push_back(a);
    std::vector<Term> long_list;
    for (int i = 0; i < 20'000; ++i) long_list.push_back(tuple(atom("interop_frag_" + std::to_string(i % 300)), i));
    const Atom node = atom("interop_other@host");
    const Term ids = tuple(Term(Pid{node, 1, 2, 3}), Term(Port{node, 4, 5}), Term(Ref{node, 6, 3, {7, 8, 9}}),
                           Term(Export{atom("interop_mod"), atom("interop_fun"), 2}));
    const Term messages[] = {
        tuple_from(high),
        list_from(long_list),
        ids,
        tuple(ids, list_from(long_list), tuple_from(high)),
    };
    expect_echoed_twice(erl, cpp, *box, messages);
}

TEST_F(NodeInterop, SixteenMegabyteBinaryCrossesBothWaysInFragments) {
    ErlNode erl(erl_options("erl_big"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_big"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    constexpr std::size_t size = 16 << 20;

    // C++ -> erl: erl reports the size and md5 of what arrived.
    std::vector<std::uint8_t> bytes(size);
    std::mt19937_64 rng(20240607);
    for (std::size_t i = 0; i < size; i += 8) {
        const std::uint64_t r = rng();
        std::memcpy(bytes.data() + i, &r, 8);
    }
    const Md5 sent = md5(bytes);
    box->send(atom("echo"), erl.name(), tuple(box->pid(), tuple(atom("md5"), binary(std::span(bytes)))));
    auto got = receive_tagged(*box, "md5", 3, 60s);
    ASSERT_TRUE(got) << erl.transcript() << cpp.log.text();
    EXPECT_EQ((*got)[1], Term(size));
    EXPECT_EQ((*got)[2], binary(std::span<const std::uint8_t>(sent))) << "erl's md5 differs from ours";

    // erl -> C++: erl sends fresh random bytes and their md5.
    box->send(atom("echo"), erl.name(), tuple(box->pid(), tuple(atom("big"), size)));
    got = receive_tagged(*box, "big", 3, 60s);
    ASSERT_TRUE(got) << erl.transcript() << cpp.log.text();
    ASSERT_TRUE((*got)[1].is_binary());
    const auto received = (*got)[1].as_binary();
    EXPECT_EQ(received.size(), size);
    const Md5 ours = md5(received);
    EXPECT_EQ((*got)[2], binary(std::span<const std::uint8_t>(ours))) << "what arrived differs from what erl sent";

    // The connection is still in order afterwards.
    box->send(atom("echo"), erl.name(), tuple(box->pid(), atom("after")));
    EXPECT_TRUE(receive_tagged(*box, "echo", 2));
}

TEST_F(NodeInterop, HundredThousandMessagesArriveCompleteAndInOrder) {
    ErlNode erl(erl_options("erl_many"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_many"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    auto box = cpp->make_mailbox();
    ASSERT_TRUE(box.ok());
    constexpr int n = 100'000;

    // C++ -> erl: erl's counter checks every sequence number in turn.
    box->send(atom("echo"), erl.name(), tuple(box->pid(), tuple(atom("count"), n)));
    auto counter = receive_tagged(*box, "counter", 2);
    ASSERT_TRUE(counter && (*counter)[1].is_pid()) << erl.transcript();
    const Pid to = (*counter)[1].as_pid();
    for (int i = 1; i <= n; ++i) box->send(to, tuple(atom("seq"), i));
    auto verdict = box->receive(
        [](const Term& t) { return tagged(t, "counted", 2) || tagged(t, "out_of_order", 3) || tagged(t, "stalled", 2); },
        90s);
    ASSERT_TRUE(verdict) << "no verdict from erl's counter";
    EXPECT_EQ(*verdict, tuple(atom("counted"), n));

    // erl -> C++: every {seq, I} in order, then {done, N}.
    box->send(atom("echo"), erl.name(), tuple(box->pid(), tuple(atom("blast"), n)));
    int expected = 1;
    for (;;) {
        auto m = box->receive(20s);
        ASSERT_TRUE(m) << "stalled after " << expected - 1 << " messages";
        if (tagged(*m, "done", 2)) {
            EXPECT_EQ((*m)[1], Term(n));
            break;
        }
        ASSERT_TRUE(tagged(*m, "seq", 2)) << to_string(*m);
        ASSERT_EQ((*m)[1], Term(expected)) << "out of order";
        ++expected;
    }
    EXPECT_EQ(expected - 1, n);
}

// --- refusals -------------------------------------------------------------------------------------

TEST_F(NodeInterop, WrongCookieIsRefusedOnBothSidesWithAClearLogLine) {
    ErlNode erl(erl_options("erl_cookie"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("cpp_cookie"), epmd_port(), "not_the_cookie");
    ASSERT_TRUE(cpp) << cpp.error();
    const std::string us(cpp->name().name());

    // We dial: erl rejects our digest; we say why, naming erl and the cookie.
    EXPECT_FALSE(cpp->ping(erl.name()));
    auto line = cpp.log.wait_for(erl.node());
    ASSERT_TRUE(line) << cpp.log.text();
    EXPECT_NE(line->find("cookie"), std::string::npos) << *line;
    EXPECT_TRUE(erl.process().wait_line("rejected. Invalid challenge reply")) << erl.transcript();

    // erl dials: we reject its digest; its ping says pang and our log names erl and the cookie.
    EXPECT_EQ(erl.eval("net_adm:ping('" + us + "')"), "pang");
    line = cpp.log.wait_for("connection attempt from " + erl.node());
    ASSERT_TRUE(line) << cpp.log.text();
    EXPECT_NE(line->find("cookie"), std::string::npos) << *line;

    EXPECT_TRUE(cpp->nodes().empty());
    EXPECT_EQ(erl.eval("nodes(connected)"), "[]");
}

// --- simultaneous connects -----------------------------------------------------------------------

// Both nodes dial each other at the same moment, round after round. erl's name sorts above
// ours, so when the attempts cross, erl answers ours nok and its own wins: OTP keeps what was
// queued on the losing attempt for the winning one, and so must we. Nothing sent is lost.
TEST_F(NodeInterop, SimultaneousConnectsLoseNoMessageWhicheverAttemptWins) {
    ErlNode erl(erl_options("zz_sim"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    CppNode cpp(cpp_name("aa_sim"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const std::string us(cpp->name().name());
    auto box = cpp->make_mailbox("simbox");
    ASSERT_TRUE(box.ok());
    // erl's sink answers {has, M, From} with yes once M has come (waiting up to 10 s), else no.
    ASSERT_EQ(erl.eval("register(sim_sink, spawn(fun() -> (fun L() -> receive {has, M, P} -> "
                       "receive M -> P ! yes after 10000 -> P ! no end, L() end end)() end)), ok"),
              "ok");
    NodeEvents events(*cpp);
    const int rounds = 20;
    for (int i = 0; i < rounds; ++i) {
        SCOPED_TRACE("round " + std::to_string(i));
        // Not connected: both sides have seen the last connection go.
        ASSERT_TRUE(cpp->nodes().empty());
        // A moment both sides act at, far enough ahead for erl to have read the command.
        const auto at = std::chrono::system_clock::now() + 150ms;
        const auto at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
        const std::string n = std::to_string(i);
        ASSERT_EQ(erl.eval("spawn(fun() -> receive after max(0, " + std::to_string(at_ms) +
                           " - os:system_time(millisecond)) -> ok end, {simbox, '" + us + "'} ! {from_erl, " + n +
                           "} end), ok"),
                  "ok");
        std::this_thread::sleep_until(at);
        box->send(atom("sim_sink"), erl.name(), tuple(atom("from_cpp"), i));

        EXPECT_TRUE(box->receive([&](const Term& t) { return t == tuple(atom("from_erl"), i); }, 10s))
            << cpp.log.text();
        EXPECT_EQ(erl.eval("sim_sink ! {has, {from_cpp, " + n + "}, self()}, receive R -> R after 15000 -> none end", 20s),
                  "yes")
            << cpp.log.text();
        EXPECT_TRUE(events.wait(NodeEvent::Kind::nodeup, erl.name(), 5s));

        cpp->disconnect(erl.name());
        ASSERT_TRUE(events.wait(NodeEvent::Kind::nodedown, erl.name(), 5s));
        ASSERT_TRUE(erl.process().wait_count("NODEDOWN " + us, static_cast<std::size_t>(i) + 1, 10s))
            << erl.transcript();
    }
    // The attempts did cross (else this test proved nothing about them).
    EXPECT_GT(cpp.log.count("simultaneous connect"), 0u) << cpp.log.text();
}

// The same between two edist nodes, so both halves of the rule are ours: the acceptor that
// answers ok_simultaneous hands its own attempt's queue over, the initiator answered nok keeps
// its queue for the winner.
TEST_F(NodeInterop, SimultaneousConnectsBetweenTwoCppNodesLoseNoMessage) {
    CppNode a(cpp_name("sim_a"), epmd_port()), b(cpp_name("sim_b"), epmd_port());
    ASSERT_TRUE(a) << a.error();
    ASSERT_TRUE(b) << b.error();
    auto box_a = a->make_mailbox("sim_box");
    auto box_b = b->make_mailbox("sim_box");
    ASSERT_TRUE(box_a.ok() && box_b.ok());
    NodeEvents events_a(*a), events_b(*b);
    for (int i = 0; i < 30; ++i) {
        SCOPED_TRACE("round " + std::to_string(i));
        std::atomic<int> ready{0};
        auto dial = [&](Mailbox& from, Atom peer) {
            ready.fetch_add(1);
            while (ready.load() < 2) {
            } // both threads send at the same moment
            from.send(atom("sim_box"), peer, tuple(atom("round"), i));
        };
        std::thread ta([&] { dial(*box_a, b->name()); }), tb([&] { dial(*box_b, a->name()); });
        ta.join();
        tb.join();
        const Term want = tuple(atom("round"), i);
        EXPECT_TRUE(box_a->receive([&](const Term& t) { return t == want; }, 10s)) << a.log.text();
        EXPECT_TRUE(box_b->receive([&](const Term& t) { return t == want; }, 10s)) << "--- a:\n" << a.log.text() << "--- b:\n" << b.log.text();
        ASSERT_TRUE(events_a.wait(NodeEvent::Kind::nodeup, b->name(), 5s));
        ASSERT_TRUE(events_b.wait(NodeEvent::Kind::nodeup, a->name(), 5s));
        a->disconnect(b->name());
        ASSERT_TRUE(events_a.wait(NodeEvent::Kind::nodedown, b->name(), 5s));
        ASSERT_TRUE(events_b.wait(NodeEvent::Kind::nodedown, a->name(), 5s));
    }
    EXPECT_EQ(events_a.count(NodeEvent::Kind::nodedown, b->name()), 30u) << "no nodedown for a lost attempt";
    EXPECT_GT(a.log.count("simultaneous connect") + b.log.count("simultaneous connect"), 0u)
        << "the attempts never crossed";
}

// --- epmd -----------------------------------------------------------------------------------------

TEST_F(NodeInterop, CppNodeRegistersWithOtpEpmdAndEpmdNamesListsIt) {
    CppNode cpp(cpp_name("cpp_reg"), epmd_port());
    ASSERT_TRUE(cpp) << cpp.error();
    const std::string alive(cpp->name().name().substr(0, cpp->name().name().find('@')));
    const auto r = epmd_names(epmd_port());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("name " + alive + " at port " + std::to_string(cpp->port())), std::string::npos)
        << r.output;
    EXPECT_TRUE(cpp.log.count("started one in-process") == 0) << "an epmd was running: no embedded one";

    // Stopping the node closes its registration: OTP's epmd forgets the name.
    cpp->stop();
    ErlNode erl(erl_options("erl_reg"));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    EXPECT_EQ(erl.eval("erl_epmd:port_please(\"" + alive + "\", \"127.0.0.1\")"), "noport");
}

// The embedded epmd: no epmd on the port, so the C++ node serves one; erl registers there.
TEST(NodeInteropEmbeddedEpmd, CppNodeServesEpmdToAnErlNodeAndTheyPingEachOther) {
    if (!erl_available()) GTEST_SKIP() << "erl is not installed";
    const std::uint16_t port = free_port();
    CppNode cpp(unique_name("cpp_embed") + "@" + short_host(), port);
    ASSERT_TRUE(cpp) << cpp.error();
    EXPECT_TRUE(cpp.log.wait_for("started one in-process", 1s)) << cpp.log.text();

    ErlOptions o;
    o.name = unique_name("erl_embed");
    o.epmd_port = port;
    ErlNode erl(o);
    ASSERT_TRUE(erl.ready()) << erl.transcript();

    // OTP's epmd client reads both names from our epmd.
    const auto r = epmd_names(port);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::string us(cpp->name().name());
    EXPECT_NE(r.output.find("name " + us.substr(0, us.find('@')) + " at port " + std::to_string(cpp->port())),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("name " + o.name + " at port "), std::string::npos) << r.output;

    EXPECT_EQ(erl.eval("net_adm:ping('" + us + "')"), "pong") << cpp.log.text();
    cpp->disconnect(erl.name());
    EXPECT_TRUE(erl.process().wait_line("NODEDOWN " + us)) << erl.transcript();
    EXPECT_TRUE(cpp->ping(erl.name())) << cpp.log.text();

    // A request it refuses is closed and logged, and it goes on serving.
    {
        asio::io_context io;
        asio::ip::tcp::socket s(io);
        s.connect({asio::ip::address_v4::loopback(), port});
        const std::uint8_t empty_request[2] = {0, 0};
        asio::write(s, asio::buffer(empty_request));
        std::uint8_t byte;
        asio::error_code ec;
        s.read_some(asio::buffer(&byte, 1), ec);
        EXPECT_EQ(ec, asio::error::eof) << "the embedded epmd answered an empty request";
    }
    EXPECT_TRUE(cpp.log.wait_for("epmd: invalid packet size (0)", 5s)) << cpp.log.text();
    EXPECT_EQ(epmd_names(port).exit_code, 0);
}
