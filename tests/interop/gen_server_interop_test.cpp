// gen_server both ways against real OTP 25 and Elixir nodes: erl's gen_server:call / cast / sys
// and Elixir's GenServer.call / cast reach a C++ server; C++ calls an erl gen_server and gets
// the reply, timeout, noproc, the exit reason of a crash and noconnection when the node dies.
// Every outcome is also checked from the BEAM side where it shows there.
//
// A private OTP epmd per test process (never 4369); erl runs tests/data/node/node_peer.erl and
// compiles the gen_server below from a temp directory.
#include "interop/node_support.hpp"

#include <edist/gen_server.hpp>
#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <future>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;
namespace gs = edist::gen_server;

namespace {

// The BEAM-side server C++ calls. It prints CALLED lines so the test can act mid-call.
constexpr const char* gs_peer_erl = R"(-module(gs_peer).
-behaviour(gen_server).
-export([start/1, init/1, handle_call/3, handle_cast/2, handle_info/2]).
start(Name) -> gen_server:start({local, Name}, ?MODULE, [], []).
init([]) -> {ok, #{}}.
handle_call(whoami, _From, S) -> {reply, self(), S};
handle_call({sleep, Ms}, _From, S) -> io:format("CALLED sleep~n"), timer:sleep(Ms), {reply, slept, S};
handle_call({crash, R}, _From, _S) -> exit(R);
handle_call(get, _From, S) -> {reply, S, S};
handle_call(X, _From, S) -> {reply, {echo, X}, S}.
handle_cast({put, K, V}, S) -> {noreply, S#{K => V}}.
handle_info(_, S) -> {noreply, S}.
)";

// The C++ server erl and Elixir call: echoes requests, keeps what casts put, never answers
// `never`, stops with the reason in {stop, Reason}.
struct Echo : gs::Server {
    std::map<Term, Term> data;
    Task<Next> handle_call(Term req, From) override {
        if (req.is_atom(atom("never"))) co_return noreply();
        if (req.is_tuple(2) && req[0].is_atom(atom("get"))) {
            auto it = data.find(req[1]);
            co_return reply(it == data.end() ? Term(atoms::undefined) : it->second);
        }
        if (req.is_tuple(2) && req[0].is_atom(atom("stop"))) co_return stop(req[1]);
        co_return reply(req);
    }
    Task<Next> handle_cast(Term msg) override {
        if (msg.is_tuple(3) && msg[0].is_atom(atom("put"))) data[msg[1]] = msg[2];
        co_return noreply();
    }
    Term state() const override { return Term(static_cast<std::int64_t>(data.size())); }
};

class GenServerInterop : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
        cpp_ = std::make_unique<CppNode>(unique_name("cpp_gs") + "@" + short_host(), epmd_->port());
        ASSERT_TRUE(*cpp_) << cpp_->error();
        us_ = std::string((*cpp_)->name().name());
    }
    std::unique_ptr<ErlNode> start_erl() {
        ErlOptions o;
        o.name = unique_name("erl_gs");
        o.epmd_port = epmd_->port();
        auto erl = std::make_unique<ErlNode>(o);
        EXPECT_TRUE(erl->ready()) << erl->transcript();
        return erl;
    }
    // Compiles and loads gs_peer on `erl`, and starts it registered as `name`.
    void start_gs_peer(ErlNode& erl, const std::string& name) {
        const auto src = dir_ / "gs_peer.erl";
        std::ofstream(src) << gs_peer_erl;
        const std::string path = src.string();
        ASSERT_EQ(erl.eval("{ok, M, B} = compile:file(\"" + path + "\", [binary, return_errors]), "
                           "{module, M} = code:load_binary(M, \"" + path + "\", B), ok"),
                  "ok") << erl.transcript();
        ASSERT_EQ(erl.eval("element(1, gs_peer:start(" + name + "))"), "ok");
    }
    Node& node() { return **cpp_; }
    // How gen_server:call(Target, Req, Timeout) ends on `erl`: the reason of its exit when that
    // exit names this very call ({Reason, {gen_server, call, [Target, Req, Timeout]}}), else the
    // value or exit as it came.
    static std::string call_exit(ErlNode& erl, const std::string& t, const std::string& req, const std::string& timeout) {
        return erl.eval("T = " + t + ", case catch gen_server:call(T, " + req + ", " + timeout + ") of "
                        "{'EXIT', {R, {gen_server, call, [T, " + req + ", " + timeout + "]}}} -> {exit, R}; "
                        "Other -> Other end");
    }
    std::string target(const std::string& name) const { return "{" + name + ", '" + us_ + "'}"; }

    std::unique_ptr<OtpEpmd> epmd_;
    std::unique_ptr<CppNode> cpp_;
    std::string us_;
    TempDir dir_;
};

} // namespace

TEST_F(GenServerInterop, ErlCallsAndCastsACppServerRegisteredByName) {
    ASSERT_TRUE(gs::start(node(), std::make_unique<Echo>(), {.name = "echo"}).ok());
    auto erl = start_erl();
    EXPECT_EQ(erl->eval("gen_server:call(" + target("echo") + ", {hello, 1}, 5000)"), "{hello,1}") << erl->transcript();
    EXPECT_EQ(erl->eval("gen_server:cast(" + target("echo") + ", {put, k, <<\"v\">>})"), "ok");
    EXPECT_EQ(erl->eval("gen_server:call(" + target("echo") + ", {get, k})"), "<<118>>");
    // sys: state, status, suspend and resume, as an operator would use them.
    EXPECT_EQ(erl->eval("sys:get_state(" + target("echo") + ")"), "1");
    EXPECT_EQ(erl->eval("element(1, sys:get_status(" + target("echo") + "))"), "status");
    EXPECT_EQ(erl->eval("sys:suspend(" + target("echo") + ")"), "ok");
    EXPECT_EQ(call_exit(*erl, target("echo"), "ping", "200"), "{exit,timeout}") << "a suspended server answers no calls";
    EXPECT_EQ(erl->eval("sys:resume(" + target("echo") + ")"), "ok");
    EXPECT_EQ(erl->eval("gen_server:call(" + target("echo") + ", ping)"), "ping");
}

TEST_F(GenServerInterop, ErlCallsGetTimeoutNoprocAndTheServersExitReason) {
    ASSERT_TRUE(gs::start(node(), std::make_unique<Echo>(), {.name = "echo"}).ok());
    auto erl = start_erl();
    const std::string t = target("echo");
    EXPECT_EQ(call_exit(*erl, t, "never", "300"), "{exit,timeout}");
    // No name on the C++ node: the monitor answers noproc at once, even with infinity.
    EXPECT_EQ(call_exit(*erl, target("nobody"), "x", "infinity"), "{exit,noproc}");
    EXPECT_EQ(call_exit(*erl, t, "{stop, {shutdown, bye}}", "5000"), "{exit,{shutdown,bye}}");
    EXPECT_FALSE(node().whereis(atom("echo")));
}

TEST_F(GenServerInterop, ErlStopsACppServerWithGenServerStop) {
    ASSERT_TRUE(gs::start(node(), std::make_unique<Echo>(), {.name = "echo"}).ok());
    auto erl = start_erl();
    EXPECT_EQ(erl->eval("gen_server:stop(" + target("echo") + ", normal, 5000)"), "ok") << erl->transcript();
    EXPECT_FALSE(node().whereis(atom("echo")));
}

TEST_F(GenServerInterop, ElixirGenServerCallAndCastReachACppServer) {
    if (!on_path("elixir")) GTEST_SKIP() << "elixir is not installed";
    ASSERT_TRUE(gs::start(node(), std::make_unique<Echo>(), {.name = "echo"}).ok());
    const std::string script =
        "t = {:echo, :\"" + us_ + "\"}\n"
        "IO.puts(\"CALL #{inspect(GenServer.call(t, {:hi, [1, 2]}))}\")\n"
        "GenServer.cast(t, {:put, :ex, \"elixir\"})\n"
        "IO.puts(\"GET #{inspect(GenServer.call(t, {:get, :ex}, 5000))}\")\n"
        "r = try do GenServer.call(t, :never, 200) catch :exit, {r, _} -> r end\n"
        "IO.puts(\"EXIT #{inspect(r)}\")\n";
    Process elixir({"elixir", "--sname", unique_name("ex_gs") + "@" + short_host(), "--cookie", "edist_node_test",
                    "--erl", "-start_epmd false", "-e", script},
                   {"ERL_EPMD_PORT=" + std::to_string(epmd_->port())});
    EXPECT_TRUE(elixir.wait_line("CALL {:hi, [1, 2]}", 60s)) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("GET \"elixir\"")) << elixir.transcript();
    EXPECT_TRUE(elixir.wait_line("EXIT :timeout")) << elixir.transcript();
}

TEST_F(GenServerInterop, CppCallsAnErlGenServerByNameAndByPid) {
    auto erl = start_erl();
    start_gs_peer(*erl, "peer");
    gs::ServerRef peer{atom("peer"), erl->name()};
    auto r = gs::call(node(), peer, atom("hello"));
    ASSERT_TRUE(r.ok()) << r.error().message() << erl->transcript();
    EXPECT_EQ(*r, tuple(atom("echo"), atom("hello")));
    auto pid = gs::call(node(), peer, atom("whoami"));
    ASSERT_TRUE(pid.ok() && pid->is_pid());
    EXPECT_EQ(*gs::call(node(), pid->as_pid(), list(1, 2)), tuple(atom("echo"), list(1, 2)));
    gs::cast(node(), peer, tuple(atom("put"), atom("k"), 7));
    EXPECT_EQ(*gs::call(node(), pid->as_pid(), atom("get")), map({{atom("k"), 7}}));
    EXPECT_EQ(erl->eval("sys:get_state(peer)"), "#{k => 7}") << "the cast reached erl's handle_cast";
}

TEST_F(GenServerInterop, CppCallToErlTimesOutAndTheLateReplyIsDropped) {
    auto erl = start_erl();
    start_gs_peer(*erl, "peer");
    auto box = node().make_mailbox().value();
    gs::ServerRef peer{atom("peer"), erl->name()};
    auto r = gs::call(box, peer, tuple(atom("sleep"), 500), 100ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, Term(atoms::timeout));
    // The next call is answered after the late reply was sent; that one went to a dead alias.
    EXPECT_EQ(*gs::call(box, peer, atom("after")), tuple(atom("echo"), atom("after")));
    EXPECT_EQ(box.queued(), 0u);
}

TEST_F(GenServerInterop, CppCallToAMissingErlNameIsNoproc) {
    auto erl = start_erl();
    auto r = gs::call(node(), {atom("nobody"), erl->name()}, atom("x"), 5s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, Term(atoms::noproc));
}

TEST_F(GenServerInterop, CppCallGetsTheExitReasonWhenTheErlServerCrashes) {
    auto erl = start_erl();
    start_gs_peer(*erl, "peer");
    auto r = gs::call(node(), {atom("peer"), erl->name()}, tuple(atom("crash"), tuple(atom("bad"), 42)), 5s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, tuple(atom("bad"), 42));
    EXPECT_EQ(erl->eval("whereis(peer)"), "undefined");
}

TEST_F(GenServerInterop, CppCallGetsNoconnectionWhenTheErlNodeDiesMidCall) {
    auto erl = start_erl();
    start_gs_peer(*erl, "peer");
    const Atom erl_name = erl->name();
    auto pending = std::async(std::launch::async, [&] {
        return gs::call(node(), {atom("peer"), erl_name}, tuple(atom("sleep"), 60000), 60s);
    });
    ASSERT_TRUE(erl->process().wait_line("CALLED sleep")) << erl->transcript();
    erl->process().signal(SIGKILL);
    auto r = pending.get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, Term(atoms::noconnection));
    EXPECT_EQ(r.error().exit_reason()[0], tuple(atom("nodedown"), erl_name)) << "what gen_server:call exits with";
}
