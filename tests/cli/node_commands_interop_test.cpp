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

    // `edist ARGS...` with this suite's cookie and epmd (unless ARGS name their own), `input` on
    // stdin, stdout and stderr captured apart.
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
        cmd += " <" + shell_quote(in.string()) + " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
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
}
} // namespace
} // namespace edist::test
