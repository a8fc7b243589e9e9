// The `edist` node commands against real OTP 25: OTP's epmd and erl nodes on private epmd
// ports. Each test runs the built binary as a user would and checks its output and exit status.
#include "interop/node_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace edist::test {
namespace {

using namespace std::chrono_literals;

const std::string cookie = "edist_cli_node_test";

std::string edist_binary() { return std::string(EDIST_BINARY_DIR) + "/src/cli/edist"; }

// `edist ARGS...`, each argument quoted; stdout and stderr together.
RunResult edist(const std::vector<std::string>& args) {
    std::string cmd = shell_quote(edist_binary());
    for (const auto& a : args) cmd += " " + shell_quote(a);
    return run(cmd);
}

// Node commands with this test's cookie and epmd.
RunResult edist_node(std::vector<std::string> args, std::uint16_t epmd_port) {
    args.insert(args.end(), {"--cookie", cookie, "--epmd-port", std::to_string(epmd_port)});
    return edist(args);
}

// `edist epmd -port P -daemon ...`, killed with `edist epmd -port P -kill` when the test ends.
// The daemon runs with -relaxed_command_check so the kill works with names still registered.
class EdistEpmdDaemon {
public:
    explicit EdistEpmdDaemon(std::uint16_t port) : port_(port) {
        started_ = edist({"epmd", "-port", std::to_string(port), "-daemon", "-relaxed_command_check"});
    }
    ~EdistEpmdDaemon() { kill(); }
    RunResult kill() {
        if (killed_) return {};
        killed_ = true;
        return edist({"epmd", "-port", std::to_string(port_), "-kill"});
    }
    const RunResult& started() const { return started_; }

private:
    std::uint16_t port_;
    RunResult started_;
    bool killed_ = false;
};

class CliNodeTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not on PATH";
        ASSERT_TRUE(std::filesystem::exists(edist_binary())) << "build edist_cli first: " << edist_binary();
    }
    Watchdog watchdog{std::chrono::minutes(3), "a CLI node test"};
};

ErlOptions erl_options(std::string_view prefix, std::uint16_t epmd_port) {
    ErlOptions o;
    o.name = unique_name(prefix);
    o.cookie = cookie;
    o.epmd_port = epmd_port;
    return o;
}

TEST_F(CliNodeTest, EpmdDaemonServesErlAndOtpsEpmdClientAndDiesOnKill) {
    const std::uint16_t port = free_port();
    EdistEpmdDaemon daemon(port);
    ASSERT_EQ(daemon.started().exit_code, 0) << daemon.started().output;

    ErlNode erl(erl_options("erl_on_edist_epmd", port));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    const std::string short_name = erl.node().substr(0, erl.node().find('@'));

    auto otp = epmd_names(port);
    EXPECT_EQ(otp.exit_code, 0) << otp.output;
    EXPECT_NE(otp.output.find("epmd: up and running on port " + std::to_string(port) + " with data:\n"),
              std::string::npos) << otp.output;
    EXPECT_NE(otp.output.find("name " + short_name + " at port "), std::string::npos) << otp.output;
    // erl found the node through the same epmd.
    EXPECT_EQ(erl.eval("{ok, Names} = net_adm:names(\"localhost\"), lists:keymember(\"" + short_name + "\", 1, Names)"),
              "true");

    auto killed = daemon.kill();
    EXPECT_EQ(killed.exit_code, 0) << killed.output;
    EXPECT_EQ(killed.output, "Killed\n");
    auto after = epmd_names(port);
    EXPECT_EQ(after.exit_code, 1) << after.output;
    EXPECT_NE(after.output.find("Cannot connect to local epmd"), std::string::npos) << after.output;
}

TEST_F(CliNodeTest, NamesAndEpmdClientPrintExactlyWhatOtpsEpmdPrints) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready()) << epmd.transcript();
    ErlNode a(erl_options("names_a", epmd.port()));
    ErlNode b(erl_options("names_b", epmd.port()));
    ASSERT_TRUE(a.ready() && b.ready()) << a.transcript() << b.transcript();
    const std::string port = std::to_string(epmd.port());

    auto otp = epmd_names(epmd.port());
    ASSERT_EQ(otp.exit_code, 0) << otp.output;
    auto names = edist({"names", "--epmd-port", port});
    EXPECT_EQ(names.exit_code, 0);
    EXPECT_EQ(names.output, otp.output);
    auto names_host = edist({"names", "localhost", "--epmd-port", port});
    EXPECT_EQ(names_host.output, otp.output);
    // As every node command: the wait can be infinity (the client's timer used to overflow).
    auto names_forever = edist({"names", "--epmd-port", port, "--timeout", "infinity"});
    EXPECT_EQ(names_forever.exit_code, 0) << names_forever.output;
    EXPECT_EQ(names_forever.output, otp.output);
    auto epmd_client = edist({"epmd", "-port", port, "-names"});
    EXPECT_EQ(epmd_client.exit_code, 0);
    EXPECT_EQ(epmd_client.output, otp.output);

    // OTP's epmd (not relaxed) refuses a kill while names are registered; both clients say so alike.
    auto otp_kill = run("epmd -port " + port + " -kill");
    auto edist_kill = edist({"epmd", "-port", port, "-kill"});
    EXPECT_EQ(edist_kill.exit_code, otp_kill.exit_code);
    EXPECT_EQ(edist_kill.output, otp_kill.output);
    EXPECT_EQ(edist_kill.output, "Killing not allowed - living nodes in database.\n");

    auto nobody = edist({"names", "--epmd-port", std::to_string(free_port())});
    EXPECT_EQ(nobody.exit_code, 1);
    EXPECT_EQ(nobody.output.rfind("edist: names: ", 0), 0u) << nobody.output;
}

TEST_F(CliNodeTest, EpmdRejectsABadCommandLineWithUsageStatus) {
    EXPECT_EQ(edist({"epmd", "-bogus"}).exit_code, 2);
    EXPECT_EQ(edist({"epmd", "-port"}).exit_code, 2);
    EXPECT_EQ(edist({"epmd", "-names", "-kill"}).exit_code, 2);
    auto help = edist({"epmd", "-help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.output.find("-relaxed_command_check"), std::string::npos);
}

TEST_F(CliNodeTest, PingPrintsPongOrPangWithTheExitStatus) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready());
    ErlNode erl(erl_options("ping_target", epmd.port()));
    ASSERT_TRUE(erl.ready()) << erl.transcript();

    auto pong = edist_node({"ping", erl.node()}, epmd.port());
    EXPECT_EQ(pong.exit_code, 0) << pong.output;
    EXPECT_EQ(pong.output, "pong\n");
    // Without a host, this host's short name is added, as erl does.
    auto short_form = edist_node({"ping", erl.node().substr(0, erl.node().find('@'))}, epmd.port());
    EXPECT_EQ(short_form.output, "pong\n");

    auto missing = edist_node({"ping", "nobody_here@" + short_host()}, epmd.port());
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.output, "pang\n");

    auto wrong_cookie = edist({"ping", erl.node(), "--cookie", "not_the_cookie", "--epmd-port",
                               std::to_string(epmd.port())});
    EXPECT_EQ(wrong_cookie.exit_code, 1);
    EXPECT_EQ(wrong_cookie.output, "pang\n");
}

TEST_F(CliNodeTest, SendDeliversATermToARegisteredErlProcess) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready());
    ErlNode erl(erl_options("send_target", epmd.port()));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    ASSERT_EQ(erl.eval("register(inbox, spawn(fun() -> receive M -> io:format(\"GOT ~w~n\", [M]) end end))"),
              "true");

    auto sent = edist_node({"send", erl.node(), "inbox", "{hello, [1,2,3], <<\"x\">>, 12345678901234567890}"},
                           epmd.port());
    EXPECT_EQ(sent.exit_code, 0) << sent.output;
    EXPECT_TRUE(erl.process().wait_line("GOT {hello,[1,2,3],<<120>>,12345678901234567890}", 20s))
        << erl.transcript();

    auto bad_term = edist_node({"send", erl.node(), "inbox", "{unclosed"}, epmd.port());
    EXPECT_EQ(bad_term.exit_code, 1);
    EXPECT_EQ(bad_term.output.rfind("edist: send: TERM", 0), 0u) << bad_term.output;

    auto unreachable = edist_node({"send", "nobody_here@" + short_host(), "inbox", "hi", "--timeout", "5"}, epmd.port());
    EXPECT_EQ(unreachable.exit_code, 1);
    EXPECT_NE(unreachable.output.find("cannot connect"), std::string::npos) << unreachable.output;

    EXPECT_EQ(edist({"send", erl.node()}).exit_code, 2); // NAME and TERM missing
}

// `edist serve` as an erl user meets it: the echo process and every edist_demo function.
TEST_F(CliNodeTest, ServeOffersEchoAndEdistDemoToErl) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready());
    const std::string sname = unique_name("served");
    // A tick time other than the default (and longer than erl's 60 s, so that the connection
    // stays up however long the test is idle).
    Process serve({edist_binary(), "serve", "--sname", sname, "--cookie", cookie, "--epmd-port",
                   std::to_string(epmd.port()), "--net-ticktime", "120"});
    ASSERT_TRUE(serve.wait_line("is up", 20s)) << serve.transcript();
    ErlNode erl(erl_options("serve_client", epmd.port()));
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    const std::string s = "'" + sname + "@" + short_host() + "'";

    EXPECT_EQ(erl.eval("net_adm:ping(" + s + ")"), "pong");
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, echo, [{a, \"b\", <<1>>, 2.5}])"), "{a,[98],<<1>>,2.5}");
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, add, [1 bsl 100, 1])"), "1267650600228229401496703205377");
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, add, [-(1 bsl 70), 5])"), "-1180591620717411303419");
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, add, [a, 1])").rfind("{badrpc,{'EXIT',{badarith,", 0), 0u);

    // fail/2: rpc:call's {badrpc, ...} for error and exit, the thrown value for throw, and erpc's
    // own wrapping: error:{exception, Reason, Stack}, exit:{exception, Reason}, throw:Value.
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, fail, [error, boom])").rfind("{badrpc,{'EXIT',{boom,", 0), 0u);
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, fail, [exit, bye])"), "{badrpc,{'EXIT',bye}}");
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, fail, [throw, ball])"), "ball");
    EXPECT_EQ(erl.eval("try erpc:call(" + s + ", edist_demo, fail, [error, boom]) catch C:R -> {C, R} end")
                  .rfind("{error,{exception,boom,[{edist_demo,fail,", 0),
              0u);
    EXPECT_EQ(erl.eval("try erpc:call(" + s + ", edist_demo, fail, [exit, bye]) catch C:R -> {C, R} end"),
              "{exit,{exception,bye}}");
    EXPECT_EQ(erl.eval("try erpc:call(" + s + ", edist_demo, fail, [throw, ball]) catch C:R -> {C, R} end"),
              "{throw,ball}");

    EXPECT_EQ(erl.eval("T0 = erlang:monotonic_time(millisecond), ok = rpc:call(" + s +
                       ", edist_demo, sleep, [200]), erlang:monotonic_time(millisecond) - T0 >= 200"),
              "true");
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, sleep, [200], 50)"), "{badrpc,timeout}");

    // loop/0 as a process: echoes until stop, then ends normally.
    EXPECT_EQ(erl.eval("P = spawn(" + s + ", edist_demo, loop, []), Ref = monitor(process, P), "
                       "P ! {self(), hi}, P ! {self(), {two, 2}}, "
                       "R1 = receive hi -> hi after 10000 -> timeout end, "
                       "R2 = receive {two, 2} -> two after 10000 -> timeout end, "
                       "P ! stop, "
                       "R3 = receive {'DOWN', Ref, process, P, Why} -> Why after 10000 -> timeout end, "
                       "{R1, R2, R3}"),
              "{hi,two,normal}");

    // print/2 writes through the caller's group leader: this erl's console.
    EXPECT_EQ(erl.eval("rpc:call(" + s + ", edist_demo, print, [\"printed by C++: ~p and ~s~n\", [{x, 42}, \"text\"]])"),
              "ok");
    EXPECT_TRUE(erl.process().wait_line("printed by C++: {x,42} and text", 10s)) << erl.transcript();

    // The registered echo: {Pid, Term} comes back as Term, and gen_server:call answers.
    EXPECT_EQ(erl.eval("{echo, " + s + "} ! {self(), {ping, <<\"pong\">>}}, receive M -> M after 10000 -> timeout end"),
              "{ping,<<112,111,110,103>>}");
    EXPECT_EQ(erl.eval("gen_server:call({echo, " + s + "}, {any, [term]}, 10000)"), "{any,[term]}");
    EXPECT_EQ(erl.eval("gen_server:call({echo, " + s + "}, again)"), "again");

    EXPECT_EQ(erl.eval("rpc:call(" + s + ", net_kernel, get_net_ticktime, [])"), "120");

    // The CLI's own client commands work against the served node too.
    auto call = edist_node({"call", sname, "edist_demo", "add", "[40, 2]"}, epmd.port());
    EXPECT_EQ(call.exit_code, 0) << call.output;
    EXPECT_EQ(call.output, "42\n");
}

// epmd-less, as erl -erl_epmd_port P: the client commands reach an erl listening on P of its
// host, and `edist serve` listens on its port and answers them, with no epmd anywhere (the
// epmd ports given point at nothing).
TEST_F(CliNodeTest, ErlEpmdPortReachesErlAndServeWithoutEpmd) {
    const std::uint16_t p = free_port();
    const std::uint16_t nothing = free_port();
    ErlOptions o = erl_options("epmdless_erl", nothing);
    o.long_names = true;
    o.host = "127.0.0.2";
    o.args = {"-erl_epmd_port", std::to_string(p), "-kernel", "inet_dist_use_interface", "{127,0,0,2}"};
    ErlNode erl(o);
    ASSERT_TRUE(erl.ready()) << erl.transcript();

    auto pong = edist({"ping", erl.node(), "--cookie", cookie, "--erl-epmd-port", std::to_string(p)});
    EXPECT_EQ(pong.exit_code, 0) << pong.output;
    EXPECT_EQ(pong.output, "pong\n");
    auto via_epmd = edist({"ping", erl.node(), "--cookie", cookie, "--epmd-port", std::to_string(nothing), "--timeout", "3"});
    EXPECT_EQ(via_epmd.output, "pang\n") << "erl is registered nowhere: only its port finds it";
    auto called = edist({"call", erl.node(), "erlang", "node", "[]", "--cookie", cookie, "--erl-epmd-port", std::to_string(p)});
    EXPECT_EQ(called.exit_code, 0) << called.output;
    EXPECT_EQ(called.output, "'" + erl.node() + "'\n");
    auto both = edist({"ping", erl.node(), "--epmd-port", "4369", "--erl-epmd-port", std::to_string(p)});
    EXPECT_EQ(both.exit_code, 2) << "the two ways of finding a node exclude each other: " << both.output;

    const std::uint16_t q = free_port();
    const std::string served = unique_name("epmdless_srv") + "@127.0.0.3";
    Process serve({edist_binary(), "serve", "--name", served, "--cookie", cookie, "--erl-epmd-port", std::to_string(q)},
                  {"ERL_EPMD_PORT=" + std::to_string(nothing)});
    ASSERT_TRUE(serve.wait_line("(distribution port " + std::to_string(q) + ")", 20s)) << serve.transcript();
    auto call = edist({"call", served, "edist_demo", "add", "[40, 2]", "--cookie", cookie, "--erl-epmd-port", std::to_string(q)});
    EXPECT_EQ(call.exit_code, 0) << call.output;
    EXPECT_EQ(call.output, "42\n");
}

TEST_F(CliNodeTest, CallPrintsTheResultOrFailsWithAClearMessage) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready());
    ErlNode erl(erl_options("call_target", epmd.port()));
    ASSERT_TRUE(erl.ready()) << erl.transcript();

    auto reversed = edist_node({"call", erl.node(), "lists", "reverse", "[[1,2,3]]"}, epmd.port());
    EXPECT_EQ(reversed.exit_code, 0) << reversed.output;
    EXPECT_EQ(reversed.output, "[3,2,1]\n");
    auto node = edist_node({"call", erl.node(), "erlang", "node"}, epmd.port()); // ARGS defaults to []
    EXPECT_EQ(node.output, erl.node() + "\n");
    auto text = edist_node({"call", erl.node(), "string", "uppercase", "[\"edist\"]"}, epmd.port());
    EXPECT_EQ(text.output, "\"EDIST\"\n");

    auto undef = edist_node({"call", erl.node(), "lists", "no_such_function", "[]"}, epmd.port());
    EXPECT_EQ(undef.exit_code, 1);
    EXPECT_EQ(undef.output.rfind("edist: call: lists:no_such_function/0 raised error:undef", 0), 0u) << undef.output;

    auto exited = edist_node({"call", erl.node(), "erlang", "exit", "[{shutdown, why}]"}, epmd.port());
    EXPECT_EQ(exited.exit_code, 1);
    EXPECT_NE(exited.output.find("raised exit:{shutdown,why}"), std::string::npos) << exited.output;

    auto slow = edist_node({"call", erl.node(), "timer", "sleep", "[10000]", "--timeout", "0.5"}, epmd.port());
    EXPECT_EQ(slow.exit_code, 1);
    EXPECT_NE(slow.output.find("edist: call: timeout"), std::string::npos) << slow.output;
    // infinity waits as long as it takes (it used to overflow the connect deadline); 0 is refused.
    auto unbounded = edist_node({"call", erl.node(), "timer", "sleep", "[300]", "--timeout", "infinity"}, epmd.port());
    EXPECT_EQ(unbounded.exit_code, 0) << unbounded.output;
    EXPECT_EQ(unbounded.output, "ok\n");
    auto zero = edist_node({"call", erl.node(), "erlang", "node", "[]", "--timeout", "0"}, epmd.port());
    EXPECT_EQ(zero.exit_code, 2) << zero.output;
    EXPECT_NE(zero.output.find("not a positive number of seconds (at most 1e9) or infinity: 0"), std::string::npos) << zero.output;

    auto unreachable = edist_node({"call", "nobody_here@" + short_host(), "erlang", "node", "[]"}, epmd.port());
    EXPECT_EQ(unreachable.exit_code, 1);
    EXPECT_NE(unreachable.output.find("cannot connect to 'nobody_here@"), std::string::npos) << unreachable.output;

    auto not_a_list = edist_node({"call", erl.node(), "erlang", "node", "{1,2}"}, epmd.port());
    EXPECT_EQ(not_a_list.exit_code, 1);
    EXPECT_NE(not_a_list.output.find("ARGS must be a list"), std::string::npos) << not_a_list.output;

    EXPECT_EQ(edist({"call", erl.node()}).exit_code, 2);
}

TEST_F(CliNodeTest, EvalHasTheBeamNodeEvaluateAndPrintsTheValue) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready());
    ErlNode erl(erl_options("eval_target", epmd.port()));
    ASSERT_TRUE(erl.ready()) << erl.transcript();

    auto value = edist_node({"eval", erl.node(), "X = 6, Y = 7, X * Y."}, epmd.port());
    EXPECT_EQ(value.exit_code, 0) << value.output;
    EXPECT_EQ(value.output, "42\n");
    auto no_dot = edist_node({"eval", erl.node(), "lists:seq(1, 3)"}, epmd.port());
    EXPECT_EQ(no_dot.output, "[1,2,3]\n");
    // Evaluated on the BEAM node: node() is erl's; io:format output comes back here.
    auto where = edist_node({"eval", erl.node(), "io:format(\"from erl~n\"), node()."}, epmd.port());
    EXPECT_EQ(where.output, "from erl\n" + erl.node() + "\n");

    auto badarith = edist_node({"eval", erl.node(), "1 / 0."}, epmd.port());
    EXPECT_EQ(badarith.exit_code, 1);
    EXPECT_NE(badarith.output.find("raised error:badarith"), std::string::npos) << badarith.output;

    auto syntax = edist_node({"eval", erl.node(), "foo(."}, epmd.port());
    EXPECT_EQ(syntax.exit_code, 1);
    EXPECT_EQ(syntax.output.rfind("edist: eval: syntax error: ", 0), 0u) << syntax.output;

    auto slow = edist_node({"eval", erl.node(), "timer:sleep(10000).", "--timeout", "0.5"}, epmd.port());
    EXPECT_EQ(slow.exit_code, 1);
    EXPECT_NE(slow.output.find("timeout"), std::string::npos) << slow.output;

    auto unreachable = edist_node({"eval", "nobody_here@" + short_host(), "1."}, epmd.port());
    EXPECT_EQ(unreachable.exit_code, 1);
    EXPECT_NE(unreachable.output.find("cannot connect"), std::string::npos) << unreachable.output;
}

TEST_F(CliNodeTest, DemoRunsACppNodeAndAnErlNodeTogether) {
    auto demo = edist({"demo"});
    EXPECT_EQ(demo.exit_code, 0) << demo.output;
    for (const char* line : {"A C++ node and a real erl node in one cluster", "erl -> C++   net_adm:ping(",
                             ") = pong", "C++ -> erl   node->ping(", "erl answered {erl_got,",
                             "= 1180591620717411303425  (added in C++)", "lists, reverse, [\"edist\"]) = \"tside\"",
                             "the erl node stopped cleanly (exit status 0)", "All 7 terms survived every round trip."})
        EXPECT_NE(demo.output.find(line), std::string::npos) << "missing: " << line << "\n" << demo.output;
}

TEST_F(CliNodeTest, EveryNodeCommandHasHelp) {
    for (const char* cmd : {"ping", "send", "call", "eval", "serve", "names", "epmd", "demo"}) {
        auto help = edist({cmd, "--help"});
        EXPECT_EQ(help.exit_code, 0) << cmd << ": " << help.output;
        EXPECT_FALSE(help.output.empty()) << cmd;
    }
}

} // namespace
} // namespace edist::test
