// `edist call`, `eval` and `send` as an Erlang engineer uses them next to erl_call: the
// built binary against one real erl node (and an `edist serve`) on a private OTP epmd, stdout
// and stderr read apart, so "one line on stderr, nothing on stdout" is checked as such.
#include "interop/node_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace edist::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string cookie = "edist_node_commands_test";

std::string edist_binary() { return std::string(EDIST_BINARY_DIR) + "/src/cli/edist"; }

struct Outcome {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// One erl node and its epmd for the whole suite: starting erl is the slow part.
class NodeCommands : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!erl_available() || !fs::exists(edist_binary())) return;
        epmd = std::make_unique<OtpEpmd>();
        if (!epmd->ready()) return;
        ErlOptions o;
        o.name = unique_name("node_commands");
        o.cookie = cookie;
        o.epmd_port = epmd->port();
        erl = std::make_unique<ErlNode>(o);
    }
    static void TearDownTestSuite() {
        erl.reset();
        epmd.reset();
    }
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not on PATH";
        ASSERT_TRUE(fs::exists(edist_binary())) << "build edist_cli first: " << edist_binary();
        ASSERT_TRUE(epmd && epmd->ready()) << (epmd ? epmd->transcript() : "");
        ASSERT_TRUE(erl->ready()) << erl->transcript();
    }

    static constexpr const char* closed_stdin = "\x04<closed>";
    // `edist ARGS...` with this suite's cookie and epmd (unless ARGS name their own), `input` on
    // stdin (none at all for `closed_stdin`), stdout and stderr captured apart.
    Outcome edist(std::vector<std::string> args, const std::string& input = "") {
        const bool own_cookie = std::find(args.begin(), args.end(), "--cookie") != args.end();
        const bool own_epmd = std::find(args.begin(), args.end(), "--epmd-port") != args.end() ||
                              std::find(args.begin(), args.end(), "--erl-epmd-port") != args.end() ||
                              std::find(args.begin(), args.end(), "--address") != args.end();
        if (!own_cookie) args.insert(args.end(), {"--cookie", cookie});
        if (!own_epmd) args.insert(args.end(), {"--epmd-port", std::to_string(epmd->port())});
        TempDir dir;
        const fs::path in = dir.path() / "in", out = dir.path() / "out", err = dir.path() / "err";
        std::ofstream(in, std::ios::binary) << input;
        std::string cmd = shell_quote(edist_binary());
        for (const auto& a : args) cmd += " " + shell_quote(a);
        cmd += (input == closed_stdin ? std::string(" <&-") : " <" + shell_quote(in.string())) + " >" +
               shell_quote(out.string()) + " 2>" + shell_quote(err.string());
        Outcome r;
        const int status = std::system(cmd.c_str());
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }
    static std::string slurp(const fs::path& p) {
        std::ifstream f(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(f), {});
    }
    const std::string& node() const { return erl->node(); }

    static std::unique_ptr<OtpEpmd> epmd;
    static std::unique_ptr<ErlNode> erl;
    Watchdog watchdog{std::chrono::minutes(2), "a node command test"};
};

std::unique_ptr<OtpEpmd> NodeCommands::epmd;
std::unique_ptr<ErlNode> NodeCommands::erl;

// A failure is one line on stderr, "edist: ...", nothing on stdout, status 1.
::testing::AssertionResult one_line_failure(const Outcome& r) {
    if (r.exit_code != 1) return ::testing::AssertionFailure() << "status " << r.exit_code << ": " << r.err;
    if (!r.out.empty()) return ::testing::AssertionFailure() << "stdout: " << r.out;
    if (r.err.rfind("edist: ", 0) != 0 || r.err.find('\n') != r.err.size() - 1)
        return ::testing::AssertionFailure() << "not one edist: line: " << r.err;
    return ::testing::AssertionSuccess();
}

// erl_call -e reads the expressions from stdin; `-` does that here.
TEST_F(NodeCommands, EvalReadsTheExpressionsFromStdinGivenADash) {
    auto r = edist({"eval", node(), "-"}, "L = lists:seq(1, 3),\nlists:sum(L).\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "6\n");
    EXPECT_TRUE(one_line_failure(edist({"eval", node(), "-"}, " \n")));
    auto not_utf8 = edist({"eval", node(), "-"}, "\"\xff\".");
    EXPECT_TRUE(one_line_failure(not_utf8));
    EXPECT_EQ(not_utf8.err.rfind("edist: eval: EXPRESSIONS: ", 0), 0u) << not_utf8.err;
    EXPECT_NE(not_utf8.err.find("invalid UTF-8"), std::string::npos) << not_utf8.err;
}

// As in the shell, each form sees the bindings of the forms before it; a trailing comment does
// not swallow the final dot.
TEST_F(NodeCommands, EvalCarriesBindingsFromFormToForm) {
    auto r = edist({"eval", node(), "X = 6. Y = 7.\nX * Y."});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "42\n");
    auto commented = edist({"eval", node(), "X = 2. X + 1 % the answer"});
    EXPECT_EQ(commented.out, "3\n") << commented.err;
    // A syntax error is reported in the form it is in, as written.
    auto syntax = edist({"eval", node(), "X = .\nY = 1."});
    EXPECT_EQ(syntax.err, "edist: eval: syntax error: line 1: syntax error before: '.'\n");
    auto unbound = edist({"eval", node(), "X = 1. Y."});
    EXPECT_TRUE(one_line_failure(unbound));
    EXPECT_NE(unbound.err.find("raised error:{unbound_var,'Y'}"), std::string::npos) << unbound.err;
}

// A C++ node runs functions but has no erl_eval: say so instead of a bare undef.
TEST_F(NodeCommands, EvalOnACppNodeSaysOnlyABeamNodeEvaluates) {
    const std::string sname = unique_name("served");
    Process serve({edist_binary(), "serve", "--sname", sname, "--cookie", cookie, "--epmd-port",
                   std::to_string(epmd->port())});
    ASSERT_TRUE(serve.wait_line("is up", 20s)) << serve.transcript();
    auto r = edist({"eval", sname, "1 + 1."});
    EXPECT_TRUE(one_line_failure(r));
    EXPECT_NE(r.err.find("eval: undef: '" + sname + "@" + short_host() + "' has no erl_scan:string/1; only a BEAM node"),
              std::string::npos)
        << r.err;
}

// Why a connection failed, in the words of the layer that failed: epmd does not know the name,
// no epmd answers, or the peer refused our cookie.
TEST_F(NodeCommands, ConnectFailuresSayWhy) {
    auto unknown = edist({"call", "nobody_here", "erlang", "node"});
    EXPECT_TRUE(one_line_failure(unknown));
    EXPECT_NE(unknown.err.find("call: noconnection: cannot connect to 'nobody_here@" + short_host() +
                               "': epmd does not know nobody_here@"),
              std::string::npos)
        << unknown.err;

    auto no_epmd = edist({"eval", node(), "1.", "--epmd-port", std::to_string(free_port())});
    EXPECT_TRUE(one_line_failure(no_epmd));
    EXPECT_NE(no_epmd.err.find("eval: noconnection: cannot connect to '" + node() + "': cannot look"), std::string::npos)
        << no_epmd.err;
    EXPECT_NE(no_epmd.err.find("Connection refused"), std::string::npos) << no_epmd.err;

    auto cookie = edist({"send", node(), "nobody", "hi", "--cookie", "not_the_cookie"});
    EXPECT_TRUE(one_line_failure(cookie));
    EXPECT_NE(cookie.err.find("send: noconnection: cannot connect to '" + node() + "': handshake"), std::string::npos)
        << cookie.err;
    EXPECT_NE(cookie.err.find("cookie differs"), std::string::npos) << cookie.err;

    // A long-names node cannot reach a short host name (OTP's inet_tcp_dist refuses it before
    // connecting); the line says so once, not as a handshake failure.
    auto mode = edist({"call", node(), "erlang", "node", "--name", "probe@" + short_host() + ".local"});
    EXPECT_TRUE(one_line_failure(mode));
    EXPECT_EQ(mode.err, "edist: call: noconnection: cannot connect to '" + node() +
                            "': this node uses long names (-name), and host '" + short_host() +
                            "' does not fit them\n");
}

// As `edist term encode -`: a term too big or awkward for the command line comes on stdin.
TEST_F(NodeCommands, CallAndSendReadTheirTermFromStdinGivenADash) {
    auto called = edist({"call", node(), "lists", "reverse", "-"}, "[[1, 2,\n 3]].\n");
    EXPECT_EQ(called.exit_code, 0) << called.err;
    EXPECT_EQ(called.out, "[3,2,1]\n");

    const std::string inbox = unique_name("inbox");
    ASSERT_EQ(erl->eval("register(" + inbox + ", spawn(fun() -> receive M -> io:format(\"GOT ~w~n\", [M]) end end))"),
              "true");
    auto sent = edist({"send", node(), inbox, "-"}, "{from_stdin, <<\"x\">>}");
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    EXPECT_TRUE(erl->process().wait_line("GOT {from_stdin,<<120>>}", 20s)) << erl->transcript();
}

// erl_call -address [HOST:]PORT: straight to the node's distribution port, no epmd asked; the
// handshake still checks that the node there is the one named.
TEST_F(NodeCommands, AddressDialsTheNodesPortWithoutEpmd) {
    auto names = epmd_names(epmd->port());
    const std::string short_name = node().substr(0, node().find('@'));
    const auto at = names.output.find("name " + short_name + " at port ");
    ASSERT_NE(at, std::string::npos) << names.output;
    const std::string port = std::to_string(std::stoi(names.output.substr(at + 14 + short_name.size())));

    auto with_host = edist({"call", node(), "erlang", "node", "--address", "127.0.0.1:" + port});
    EXPECT_EQ(with_host.exit_code, 0) << with_host.err;
    EXPECT_EQ(with_host.out, node() + "\n");
    auto port_only = edist({"eval", short_name, "node().", "--address", port});
    EXPECT_EQ(port_only.out, node() + "\n") << port_only.err;

    auto misnamed = edist({"call", "someone_else", "erlang", "node", "--address", port});
    EXPECT_TRUE(one_line_failure(misnamed));
    EXPECT_NE(misnamed.err.find("but the node there is '" + node() + "'"), std::string::npos) << misnamed.err;

    EXPECT_EQ(edist({"ping", node(), "--address", "0"}).exit_code, 2);
    EXPECT_EQ(edist({"ping", node(), "--address", "host:"}).exit_code, 2);
    EXPECT_EQ(edist({"ping", node(), "--address", port, "--epmd-port", "4369"}).exit_code, 2);
}

// erl_call shows an error's stacktrace; the one line names where it was raised, as the shell
// does, unless that is the function called or erl_eval itself.
TEST_F(NodeCommands, ErrorsSayWhichFunctionRaisedThem) {
    auto deeper = edist({"call", node(), "erlang", "apply", "[lists, nth, [0, []]]"});
    EXPECT_TRUE(one_line_failure(deeper));
    EXPECT_EQ(deeper.err, "edist: call: erlang:apply/3 raised error:function_clause in lists:nth/2\n");
    auto in_eval = edist({"eval", node(), "N = 0, lists:nth(N, [])."});
    EXPECT_EQ(in_eval.err, "edist: eval: the expression raised error:function_clause in lists:nth/2\n");
    auto undefined = edist({"eval", node(), "no_such_module:f(1)."});
    EXPECT_EQ(undefined.err, "edist: eval: the expression raised error:undef in no_such_module:f/1\n");

    auto itself = edist({"call", node(), "lists", "no_such_function", "[]"});
    EXPECT_EQ(itself.err, "edist: call: lists:no_such_function/0 raised error:undef\n");
    auto badmatch = edist({"eval", node(), "1 = 2."});
    EXPECT_EQ(badmatch.err, "edist: eval: the expression raised error:{badmatch,2}\n");
}

// A closed stdin is end of file for the remote io:get_line, not the node's first socket (which
// used to take descriptor 0, so the read waited on the connection's bytes).
TEST_F(NodeCommands, ClosedStdinIsEndOfFileForTheRemoteReader) {
    auto r = edist({"eval", node(), "io:get_line(\"p> \").", "--timeout", "5"}, closed_stdin);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "p> eof\n");
}

// A node that does not answer (stopped here) is a timeout, named as such.
TEST_F(NodeCommands, AConnectionThatDoesNotCompleteSaysItTimedOut) {
    ErlOptions o;
    o.name = unique_name("stopped");
    o.cookie = cookie;
    o.epmd_port = epmd->port();
    ErlNode stopped(o);
    ASSERT_TRUE(stopped.ready()) << stopped.transcript();
    stopped.process().signal(SIGSTOP);
    auto r = edist({"call", stopped.node(), "erlang", "node", "--timeout", "0.5"});
    stopped.process().signal(SIGCONT);
    EXPECT_TRUE(one_line_failure(r));
    EXPECT_EQ(r.err, "edist: call: noconnection: '" + stopped.node() + "' did not complete the connection within 0.5 s\n");
}

} // namespace
} // namespace edist::test
