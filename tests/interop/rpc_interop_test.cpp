// RPC both ways against real OTP 25 and Elixir 1.14 nodes.
//
// Serving: erl's erpc (call/4,5, send_request, multicall, cast), rpc (call/4,5, async_call with
// yield and nb_yield, multicall, cast, block_call) and rex's two request forms (gen_server's, and
// the {From, {call, M, F, A, GL}} message erl_interface clients send) reach C++ functions, and
// every way a call ends — a value, throw, error with a stack, exit, undef, a bad arity, a
// typed-argument failure, a timeout — is compared with the same call aimed at a real BEAM node
// running the same module in Erlang (stacks compared by shape, not contents).
//
// Calling: erpc::call / rpc::call from C++ into BEAM end exactly as erl's own erpc:call /
// rpc:call of the same function on the same node (compared as ~w text, stacks included), cast,
// multicall with a node down, 10,000 concurrent calls each way, output to the caller's group
// leader, and a peer killed mid-call in both directions (an erl node; `edist serve`).
//
// A private OTP epmd per test (never 4369); erl nodes run tests/data/node/node_peer.erl and
// load rpc_peer (tests/interop/rpc_support.hpp).
#include "interop/rpc_support.hpp"

#include <edist/node.hpp>
#include <edist/rpc.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <future>
#include <map>
#include <optional>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;

namespace {

const std::string cookie = "edist_node_test";

std::string edist_binary() { return std::string(EDIST_BINARY_DIR) + "/src/cli/edist"; }

Atom a(std::string_view s) { return atom(s); }

CallOptions within(std::chrono::milliseconds timeout) {
    CallOptions o;
    o.timeout = timeout;
    return o;
}

// A call both sides can make: Erlang text for erl, the same text parsed for C++.
struct Case {
    std::string module, function, args;
    int timeout_ms;
    std::string erl() const {
        return "{" + module + ", " + function + ", " + args + ", " + std::to_string(timeout_ms) + "}";
    }
};

// rpc_peer:cases() ++ timeout_cases(), plus a process killed before it can answer.
const std::vector<Case>& cpp_cases() {
    static const std::vector<Case> cases = {
        {"rpc_peer", "echo", "[{a, \"b\", <<1, 2>>, [1 | 2], #{k => v}, -1180591620717411303424}]", 10000},
        {"rpc_peer", "add", "[1267650600228229401496703205376, 1]", 10000},
        {"rpc_peer", "fail", "[error, boom]", 10000},
        {"rpc_peer", "fail", "[error, {some, reason}]", 10000},
        {"rpc_peer", "fail", "[exit, bye]", 10000},
        {"rpc_peer", "fail", "[exit, {shutdown, why}]", 10000},
        {"rpc_peer", "fail", "[throw, ball]", 10000},
        {"rpc_peer", "fail", "[throw, {'EXIT', thrown}]", 10000},
        {"rpc_peer", "double", "[21]", 10000},
        {"rpc_peer", "double", "[not_an_integer]", 10000},
        {"rpc_peer", "add", "[a, 1]", 10000},
        {"rpc_peer", "no_such_function", "[]", 10000},
        {"rpc_peer", "echo", "[too, many]", 10000},
        {"no_such_module", "f", "[1]", 10000},
        {"rpc_peer", "sleep", "[3000]", 300},
    };
    return cases;
}

Term parsed(const std::string& text) {
    auto t = parse(text);
    if (!t) throw std::runtime_error("test case does not parse: " + text);
    return *t;
}

// The chars of an io_request's put_chars, whatever form io chose.
std::string put_chars_text(const Term& req) {
    if (!req.is_tuple() || req.tuple_size() < 2 || !req[0].is_atom(a("put_chars"))) return "";
    const Term& chars = req[req.tuple_size() - 1];
    if (chars.is_binary()) return std::string(chars.as_binary_view());
    if (chars.is_list()) return chars.as_string();
    return "";
}

class RpcInterop : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
        epmd_ = std::make_unique<OtpEpmd>();
        ASSERT_TRUE(epmd_->ready()) << epmd_->transcript();
        cpp_ = std::make_unique<CppNode>(unique_name("cpp_rpc") + "@" + short_host(), epmd_->port(), cookie,
                                         [out = output_](NodeOptions& o) {
                                             o.io_output = [out](std::string_view s) { out->add(std::string(s)); };
                                         });
        ASSERT_TRUE(*cpp_) << cpp_->error();
        export_rpc_peer(node());
        cpp_atom_ = "'" + std::string(node().name().name()) + "'";
    }
    std::unique_ptr<ErlNode> start_erl(std::string_view prefix) {
        ErlOptions o;
        o.name = unique_name(prefix);
        o.cookie = cookie;
        o.epmd_port = epmd_->port();
        auto erl = std::make_unique<ErlNode>(o);
        EXPECT_TRUE(erl->ready()) << erl->transcript();
        EXPECT_EQ(load_rpc_peer(*erl, dir_.path()), "ok") << erl->transcript();
        return erl;
    }
    static std::string quoted(const ErlNode& erl) { return "'" + erl.node() + "'"; }
    Node& node() { return **cpp_; }

    // On `client`: the cases where Kind against the C++ node and against `beam` end differently.
    std::string compare(ErlNode& client, std::string_view kind, ErlNode& beam, std::string_view cases) {
        return client.eval("rpc_peer:compare(" + std::string(kind) + ", " + cpp_atom_ + ", " + quoted(beam) + ", " +
                               std::string(cases) + ")",
                           60s);
    }
    // On `client`: how one call through Kind to the C++ node ends, stacks shaped.
    std::string cpp_shape(ErlNode& client, std::string_view kind, std::string_view call) {
        return client.eval("rpc_peer:shape(rpc_peer:run(" + std::string(kind) + ", " + cpp_atom_ + ", " +
                           std::string(call) + "), " + cpp_atom_ + ")");
    }

    Watchdog watchdog_{std::chrono::minutes(3), "an rpc interop test"};
    std::unique_ptr<OtpEpmd> epmd_;
    std::shared_ptr<Lines> output_ = std::make_shared<Lines>(); // the C++ node's `user` output
    std::unique_ptr<CppNode> cpp_;
    std::string cpp_atom_;
    TempDir dir_;
};

} // namespace

// --- BEAM calls C++ ---------------------------------------------------------------------------

TEST_F(RpcInterop, ErlErpcCallsEndAsTheyDoAgainstABeamNode) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    const std::string all = "rpc_peer:cases() ++ rpc_peer:timeout_cases()";
    EXPECT_EQ(compare(*client, "erpc4", *beam, "rpc_peer:cases()"), "[]");
    EXPECT_EQ(compare(*client, "erpc5", *beam, all), "[]");
    EXPECT_EQ(compare(*client, "send_request", *beam, all), "[]");
    EXPECT_EQ(compare(*client, "erpc_multicall", *beam, all), "[]");
    for (const char* kind : {"erpc4", "erpc5", "send_request", "erpc_multicall"})
        EXPECT_EQ(compare(*client, kind, *beam, "rpc_peer:killed_cases()"), "[]") << kind;

    // What they agree on is erpc's own reporting, not an accident they share.
    EXPECT_EQ(cpp_shape(*client, "erpc4", "{rpc_peer, add, [1 bsl 100, 1], 0}"), "{return,1267650600228229401496703205377}");
    EXPECT_EQ(cpp_shape(*client, "erpc5", "{rpc_peer, fail, [throw, ball], 5000}"), "{throw,ball}");
    EXPECT_EQ(cpp_shape(*client, "erpc5", "{rpc_peer, fail, [exit, bye], 5000}"), "{exit,{exception,bye}}");
    EXPECT_EQ(cpp_shape(*client, "erpc5", "{rpc_peer, fail, [error, boom], 5000}"), "{error,{exception,boom,stack}}");
    EXPECT_EQ(cpp_shape(*client, "erpc5", "{rpc_peer, double, [x], 5000}"), "{error,{exception,badarg,stack}}");
    EXPECT_EQ(cpp_shape(*client, "erpc5", "{rpc_peer, sleep, [3000], 300}"), "{error,{erpc,timeout}}");
    // The C++ stack is the call itself, as OTP reports an undefined function's.
    EXPECT_EQ(client->eval("rpc_peer:run(erpc4, " + cpp_atom_ + ", {rpc_peer, fail, [error, boom], 0})"),
              "{error,{exception,boom,[{rpc_peer,fail,[error,boom],[]}]}}");
    EXPECT_EQ(client->eval("rpc_peer:run(erpc4, " + cpp_atom_ + ", {rpc_peer, echo, [a, b], 0})"),
              "{error,{exception,undef,[{rpc_peer,echo,[a,b],[]}]}}");
    EXPECT_EQ(client->eval("rpc_peer:run(erpc4, " + quoted(*beam) + ", {no_such_module, f, [1], 0})"),
              client->eval("rpc_peer:run(erpc4, " + cpp_atom_ + ", {no_such_module, f, [1], 0})"))
        << "undef is reported identically, stack included";
}

TEST_F(RpcInterop, ErlRpcCallsEndAsTheyDoAgainstABeamNode) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    const std::string all = "rpc_peer:cases() ++ rpc_peer:timeout_cases()";
    EXPECT_EQ(compare(*client, "rpc4", *beam, "rpc_peer:cases()"), "[]");
    EXPECT_EQ(compare(*client, "rpc5", *beam, all), "[]");
    EXPECT_EQ(compare(*client, "yield", *beam, "rpc_peer:cases()"), "[]");
    EXPECT_EQ(compare(*client, "nb_yield", *beam, all), "[]");
    EXPECT_EQ(compare(*client, "rpc_multicall", *beam, all), "[]");
    for (const char* kind : {"rpc4", "rpc5", "yield", "nb_yield", "rpc_multicall"})
        EXPECT_EQ(compare(*client, kind, *beam, "rpc_peer:killed_cases()"), "[]") << kind;

    EXPECT_EQ(cpp_shape(*client, "rpc4", "{rpc_peer, echo, [<<\"x\">>], 0}"), "<<120>>");
    EXPECT_EQ(cpp_shape(*client, "rpc5", "{rpc_peer, fail, [throw, ball], 5000}"), "ball");
    EXPECT_EQ(cpp_shape(*client, "rpc5", "{rpc_peer, fail, [throw, {'EXIT', thrown}], 5000}"),
              "{badrpc,{'EXIT',thrown}}");
    EXPECT_EQ(cpp_shape(*client, "rpc5", "{rpc_peer, fail, [exit, bye], 5000}"), "{badrpc,{'EXIT',bye}}");
    EXPECT_EQ(cpp_shape(*client, "rpc5", "{rpc_peer, fail, [error, boom], 5000}"), "{badrpc,{'EXIT',{boom,stack}}}");
    EXPECT_EQ(cpp_shape(*client, "rpc5", "{rpc_peer, double, [x], 5000}"), "{badrpc,{'EXIT',{badarg,stack}}}");
    EXPECT_EQ(cpp_shape(*client, "rpc5", "{rpc_peer, nope, [], 5000}"), "{badrpc,{'EXIT',{undef,stack}}}");
    EXPECT_EQ(cpp_shape(*client, "rpc5", "{rpc_peer, sleep, [3000], 300}"), "{badrpc,timeout}");
    EXPECT_EQ(cpp_shape(*client, "nb_yield", "{rpc_peer, add, [1, 2], 5000}"), "{value,3}");
    EXPECT_EQ(cpp_shape(*client, "rpc_multicall", "{rpc_peer, sleep, [3000], 300}"), "{[],[node]}");
}

TEST_F(RpcInterop, RexAnswersBlockCallGenServerCallsAndThePlainCNodeFormAsABeamNode) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    EXPECT_EQ(compare(*client, "rex_plain", *beam, "rpc_peer:cases()"), "[]");
    EXPECT_EQ(compare(*client, "rex_gen_call", *beam, "rpc_peer:cases() ++ rpc_peer:timeout_cases()"), "[]");
    EXPECT_EQ(compare(*client, "block4", *beam, "rpc_peer:cases()"), "[]");
    // A worker killed before it answers: rex replies {badrpc, {'EXIT', killed}}.
    EXPECT_EQ(compare(*client, "rex_plain", *beam, "rpc_peer:killed_cases()"), "[]");
    EXPECT_EQ(compare(*client, "rex_gen_call", *beam, "rpc_peer:killed_cases()"), "[]");
    // Last: a block_call that times out keeps the BEAM node's rex busy for the sleep.
    EXPECT_EQ(compare(*client, "block5", *beam, "rpc_peer:cases() ++ rpc_peer:timeout_cases()"), "[]");

    // {rex, Node} ! {self(), {call, M, F, A, GL}} is answered with {rex, Reply}.
    EXPECT_EQ(client->eval("{rex, " + cpp_atom_ + "} ! {self(), {call, rpc_peer, add, [40, 2], user}}, "
                           "receive {rex, R} -> R after 10000 -> no_reply end"),
              "42");
    EXPECT_EQ(cpp_shape(*client, "rex_plain", "{rpc_peer, fail, [error, boom], 10000}"), "{badrpc,{'EXIT',{boom,stack}}}");
    EXPECT_EQ(cpp_shape(*client, "rex_plain", "{rpc_peer, fail, [exit, bye], 10000}"), "{badrpc,{'EXIT',bye}}");
    EXPECT_EQ(cpp_shape(*client, "block5", "{rpc_peer, sleep, [3000], 300}"), "{badrpc,timeout}");
    EXPECT_EQ(cpp_shape(*client, "block4", "{rpc_peer, echo, [[1, 2]], 0}"), "[1,2]");
    // rpc's feature probe gets the answer a BEAM node gives.
    const std::string probe = "{rex, N} ! {self(), features_request}, "
                              "receive {features_reply, N, F} -> F after 10000 -> no_reply end";
    EXPECT_EQ(client->eval("N = " + cpp_atom_ + ", " + probe), "[erpc]");
    EXPECT_EQ(client->eval("N = " + quoted(*beam) + ", " + probe), "[erpc]");
}

TEST_F(RpcInterop, BadArgumentsFailInApplyWithBadargAsOnABeamNode) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    for (const char* kind : {"erpc4", "erpc5", "send_request", "rex_gen_call", "rex_plain"})
        EXPECT_EQ(compare(*client, kind, *beam, "rpc_peer:bad_arg_cases()"), "[]") << kind;
    // These raise in the client for arguments that are no list at all: the improper list only.
    for (const char* kind : {"erpc_multicall", "rpc5", "rpc_multicall"})
        EXPECT_EQ(compare(*client, kind, *beam, "[hd(rpc_peer:bad_arg_cases())]"), "[]") << kind;
    // Not {erpc, badarg} (erpc keeps that for the client's own checks), and rex answers.
    EXPECT_EQ(client->eval("rpc_peer:run(erpc4, " + cpp_atom_ + ", {rpc_peer, echo, [1 | 2], 0})"),
              "{error,{exception,badarg,[{erlang,apply,[rpc_peer,echo,[1|2]],"
              "[{error_info,#{module => erl_erts_errors}}]}]}}");
    EXPECT_EQ(cpp_shape(*client, "rex_gen_call", "{\"rpc_peer\", echo, [1], 10000}"),
              "{return,{badrpc,{'EXIT',{badarg,stack}}}}");
    EXPECT_EQ(cpp_shape(*client, "rex_plain", "{rpc_peer, 7, [1], 10000}"), "{badrpc,{'EXIT',{badarg,stack}}}");
}

// Typed exports (edist/convert.hpp): arguments as erl passes them, results as erl prints them,
// the arity from the C++ parameters, a term that does not convert is error:badarg with the
// call as its stack, and a typed coroutine.
TEST_F(RpcInterop, TypedExportsTakeAndGiveTermsAsErlWritesThem) {
    node().export_function("typed", "join", [](const std::vector<std::string>& parts, std::string_view sep) {
        std::string out;
        for (const auto& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
        return out;
    });
    node().export_function("typed", "scale", [](std::map<Atom, double> m, double k) {
        for (auto& [key, v] : m) v *= k;
        return m;
    });
    node().export_function("typed", "lookup", [](std::optional<std::int32_t> x) -> std::optional<std::pair<Atom, std::int32_t>> {
        if (!x) return std::nullopt;
        return std::pair(atom("found"), *x);
    });
    node().export_function("typed", "reverse", [](std::vector<std::uint8_t> b) {
        std::reverse(b.begin(), b.end());
        return b;
    });
    node().export_function("typed", "later", [](Self self, std::int64_t ms, Term tag) -> Task<std::tuple<Atom, Term>> {
        co_await self.sleep(std::chrono::milliseconds(ms));
        co_return std::tuple(atom("woke"), tag);
    });
    auto client = start_erl("client");
    const std::string call = "erpc:call(" + cpp_atom_ + ", typed, ";
    // A string may come as a list or a binary; text goes back as a binary.
    EXPECT_EQ(client->eval(call + "join, [[\"ab\", <<\"c\">>, \"h\\x{e9}\"], <<\", \">>])"),
              "<<97,98,44,32,99,44,32,104,195,169>>");
    EXPECT_EQ(client->eval(call + "scale, [#{a => 1.5, b => 2}, 2])"), "#{a => 3.0,b => 4.0}");
    EXPECT_EQ(client->eval(call + "lookup, [undefined])"), "undefined");
    EXPECT_EQ(client->eval(call + "lookup, [-5])"), "{found,-5}");
    EXPECT_EQ(client->eval(call + "reverse, [<<1, 2, 3>>])"), "<<3,2,1>>");
    EXPECT_EQ(client->eval(call + "later, [10, make_ref()]) =/= x"), "true");
    EXPECT_EQ(client->eval("T = make_ref(), {woke, T} =:= " + call + "later, [10, T])"), "true");
    // Terms that do not convert: badarg, the stack the call itself, as for an untyped export.
    EXPECT_EQ(client->eval("try " + call + "lookup, [1 bsl 40]) catch error:{exception, R, S} -> {R, S} end"),
              "{badarg,[{typed,lookup,[1099511627776],[]}]}");
    EXPECT_EQ(client->eval("try " + call + "join, [[a], <<>>]) catch error:{exception, R, _} -> R end"), "badarg");
    EXPECT_EQ(client->eval("try " + call + "scale, [#{\"a\" => 1}, 1]) catch error:{exception, R, _} -> R end"),
              "badarg");
    // The arity is the C++ parameter count (Self not counted).
    EXPECT_EQ(client->eval("try " + call + "later, [1]) catch error:{exception, R, _} -> R end"), "undef");
    EXPECT_EQ(client->eval("rpc:call(" + cpp_atom_ + ", typed, reverse, [<<>>])"), "<<>>");
    // void and Task<> answer ok (rpc_peer's typed sleep/1 and notify/2).
    EXPECT_EQ(client->eval("erpc:call(" + cpp_atom_ + ", rpc_peer, sleep, [1])"), "ok");
    EXPECT_EQ(client->eval("{erpc:call(" + cpp_atom_ + ", rpc_peer, notify, [self(), hi]), receive hi -> got end}"),
              "{ok,got}");
}

// What Erlang code asks any node about itself works on a C++ node: a hidden node, so its one
// connection (to the client) is hidden and nodes() is [], as on an erl started -hidden.
TEST_F(RpcInterop, ErlangInfoFunctionsAnswerOnACppNodeAsOnAHiddenNode) {
    auto client = start_erl("client");
    const std::string c = cpp_atom_;
    EXPECT_EQ(client->eval("C = " + c + ", [erpc:call(C, erlang, node, []) =:= C, erpc:call(C, erlang, nodes, []), "
                           "erpc:call(C, erlang, nodes, [hidden]) =:= [node()], "
                           "erpc:call(C, erlang, nodes, [[this, connected]]) =:= [node(), C], "
                           "erpc:call(C, erlang, nodes, [[this]]) =:= [C], "
                           "erpc:call(C, erlang, nodes, [known]) =:= [node(), C], erpc:call(C, erlang, nodes, [visible])]"),
              "[true,[],true,true,true,true,[]]")
        << "the values a hidden erl node gives (its own name after its peers')";
    EXPECT_EQ(client->eval("C = " + c + ", Rex = rpc:call(C, erlang, whereis, [rex]), "
                           "[is_pid(Rex), node(Rex) =:= C, rpc:call(C, erlang, whereis, [nobody]), "
                           "lists:member(rex, rpc:call(C, erlang, registered, [])), "
                           "lists:member(nobody, rpc:call(C, erlang, registered, [])), "
                           "rpc:call(C, erlang, is_process_alive, [Rex])]"),
              "[true,true,undefined,true,false,true]");
    EXPECT_EQ(client->eval("C = " + c + ", [erpc:call(C, erlang, apply, [rpc_peer, add, [1, 2]]), "
                           "erpc:call(C, net_kernel, get_net_ticktime, [])]"),
              "[3,60]");
    // Bad arguments are badarg, as on BEAM: an unknown node type, a pid of another node.
    EXPECT_EQ(client->eval("try erpc:call(" + c + ", erlang, nodes, [bogus]) catch error:{exception, R, _} -> R end"),
              "badarg");
    EXPECT_EQ(client->eval("try erpc:call(" + c + ", erlang, is_process_alive, [self()]) "
                           "catch error:{exception, R, _} -> R end"),
              "badarg");
    EXPECT_EQ(client->eval("try erpc:call(" + c + ", erlang, apply, [rpc_peer, nope, []]) "
                           "catch error:{exception, R, _} -> R end"),
              "undef");
}

// net_kernel's tick time functions, which rpc:multicall(net_kernel, set_net_ticktime, [T])
// calls on every node of a cluster: the same calls give a C++ node and an erl node the same
// answers, from the first change through the refusals while it is under way.
TEST_F(RpcInterop, NetKernelTicktimeCallsAnswerAsOnAnErlNode) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    const std::string answers = client->eval(
        "Try = fun(N, F, A) -> try erpc:call(N, net_kernel, F, A) catch error:{exception, R, _} -> {error, R} end "
        "end, Seq = fun(N) -> [Try(N, get_net_ticktime, []), Try(N, set_net_ticktime, [60]), "
        "Try(N, set_net_ticktime, [0]), Try(N, set_net_ticktime, [foo]), Try(N, set_net_ticktime, [8, -1]), "
        "Try(N, set_net_ticktime, [8, 30]), Try(N, get_net_ticktime, []), Try(N, set_net_ticktime, [5]), "
        "Try(N, set_net_ticktime, [60, 0])] end, {Seq(" +
        cpp_atom_ + "), Seq(" + quoted(*beam) + ")}");
    const std::string expected = "[60,unchanged,{error,function_clause},{error,function_clause},"
                                 "{error,function_clause},change_initiated,{ongoing_change_to,8},"
                                 "{ongoing_change_to,8},{ongoing_change_to,8}]";
    EXPECT_EQ(answers, "{" + expected + "," + expected + "}") << "C++ node's answers first, erl's second";
    const auto now = node().net_ticktime();
    EXPECT_EQ(now.ticktime, 8s);
    EXPECT_TRUE(now.changing);
}

TEST_F(RpcInterop, ErlCastsMulticallsAndRequestIdsReachCppFunctions) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    const std::string c = cpp_atom_, b = quoted(*beam);
    const std::string dead = unique_name("never_started") + "@" + short_host(); // an atom ~w prints bare

    EXPECT_EQ(client->eval("ok = erpc:cast(" + c + ", rpc_peer, notify, [self(), by_erpc_cast]), "
                           "receive by_erpc_cast -> got after 10000 -> none end"),
              "got");
    EXPECT_EQ(client->eval("true = rpc:cast(" + c + ", rpc_peer, notify, [self(), by_rpc_cast]), "
                           "receive by_rpc_cast -> got after 10000 -> none end"),
              "got");
    // rpc:cast's form for nodes without erpc: a gen_server cast to rex.
    EXPECT_EQ(client->eval("ok = gen_server:cast({rex, " + c + "}, {cast, rpc_peer, notify, [self(), by_rex_cast], "
                           "group_leader()}), receive by_rex_cast -> got after 10000 -> none end"),
              "got");

    // Several nodes at once, one of them unreachable.
    EXPECT_EQ(client->eval("erpc:multicall([" + c + ", " + b + ", '" + dead + "'], rpc_peer, add, [1, 2], 10000)"),
              "[{ok,3},{ok,3},{error,{erpc,noconnection}}]");
    EXPECT_EQ(client->eval("rpc:multicall([" + c + ", " + b + ", '" + dead + "'], rpc_peer, add, [1, 2], 10000)"),
              "{[3,3],[" + dead + "]}");
    EXPECT_EQ(client->eval("rpc_peer:shape(erpc:multicall([" + c + ", " + b + "], rpc_peer, fail, [error, boom]), x)"),
              "[{error,{exception,boom,stack}},{error,{exception,boom,stack}}]");

    // Request ids: wait_response, check_response, and a labelled collection.
    EXPECT_EQ(client->eval("R = erpc:send_request(" + c + ", rpc_peer, echo, [one]), erpc:wait_response(R, 10000)"),
              "{response,one}");
    EXPECT_EQ(client->eval("R = erpc:send_request(" + c + ", rpc_peer, echo, [two]), "
                           "receive Msg -> erpc:check_response(Msg, R) after 10000 -> none end"),
              "{response,two}");
    EXPECT_EQ(client->eval("C0 = erpc:reqids_new(), "
                           "C1 = erpc:send_request(" + c + ", rpc_peer, echo, [first], first, C0), "
                           "C2 = erpc:send_request(" + c + ", rpc_peer, add, [1, 1], second, C1), "
                           "{R1, L1, C3} = erpc:receive_response(C2, 10000, true), "
                           "{R2, L2, C4} = erpc:receive_response(C3, 10000, true), "
                           "{lists:sort([{L1, R1}, {L2, R2}]), erpc:reqids_size(C4)}"),
              "{[{first,first},{second,2}],0}");
}

TEST_F(RpcInterop, CppFunctionsCalledFromErlPrintThroughTheCallersGroupLeader) {
    auto client = start_erl("client");
    const std::string c = cpp_atom_;
    // erpc's SPAWN_REQUEST and rex's requests carry the caller's group leader: erl's console.
    for (const std::string via : {"erpc", "rpc", "block_call", "rex_gen_call"}) {
        const std::string line = "PRINTED via " + via;
        const std::string call =
            via == "erpc"         ? "erpc:call(" + c + ", rpc_peer, announce_sleep, [\"" + line + "\", 0], 10000)"
            : via == "rpc"        ? "rpc:call(" + c + ", rpc_peer, announce_sleep, [\"" + line + "\", 0], 10000)"
            : via == "block_call" ? "rpc:block_call(" + c + ", rpc_peer, announce_sleep, [\"" + line + "\", 0], 10000)"
                                  : "gen_server:call({rex, " + c + "}, {call, rpc_peer, announce_sleep, [\"" + line +
                                        "\", 0], group_leader()}, 10000)";
        EXPECT_EQ(client->eval(call), "ok") << via;
        EXPECT_TRUE(client->process().wait_line(line, 10s)) << client->transcript();
    }
    EXPECT_EQ(output_->count("PRINTED"), 0u) << output_->text();
    // The C-node form naming `user`: the serving node's own console, as on BEAM.
    EXPECT_EQ(client->eval("{rex, " + c + "} ! {self(), {call, rpc_peer, announce_sleep, [\"PRINTED at user\", 0], user}}, "
                           "receive {rex, R} -> R after 10000 -> no_reply end"),
              "ok");
    EXPECT_TRUE(output_->wait_for("PRINTED at user", 10s)) << output_->text();
}

TEST_F(RpcInterop, TenThousandConcurrentErpcCallsFromErlEachGetTheirOwnResult) {
    auto client = start_erl("client");
    EXPECT_EQ(client->eval("rpc_peer:flood(" + cpp_atom_ + ", 10000, 60000)", 90s), "{10000,[]}")
        << client->transcript();
    // And the C++ node still answers afterwards.
    EXPECT_EQ(client->eval("erpc:call(" + cpp_atom_ + ", rpc_peer, add, [1, 1], 10000)"), "2");
}

TEST_F(RpcInterop, ErlCallingAnEdistServeThatDiesMidCallGetsNoconnectionFromErpcAndNodedownFromRpc) {
    ASSERT_TRUE(std::filesystem::exists(edist_binary())) << "build edist_cli first: " << edist_binary();
    const std::string sname = unique_name("served");
    Process serve({edist_binary(), "serve", "--sname", sname, "--cookie", cookie, "--epmd-port",
                   std::to_string(epmd_->port())});
    ASSERT_TRUE(serve.wait_line("is up", 20s)) << serve.transcript();
    auto client = start_erl("client");
    const std::string s = "'" + sname + "@" + short_host() + "'";

    // Two calls in flight: each process is blocked in erpc:call's receive, and a later call on
    // the same connection has been answered, so both requests reached the C++ node.
    EXPECT_EQ(client->eval("S = " + s + ", Self = self(), "
                           "P1 = spawn(fun() -> Self ! {erpc_result, try erpc:call(S, edist_demo, sleep, [60000]) "
                           "                                        catch C:R -> {C, R} end} end), "
                           "P2 = spawn(fun() -> Self ! {rpc_result, rpc:call(S, edist_demo, sleep, [60000])} end), "
                           "ok = rpc_peer:await_in_call([P1, P2], 10000), "
                           "erpc:call(S, edist_demo, echo, [in_flight], 10000)"),
              "in_flight")
        << client->transcript();

    const auto killed_at = Clock::now();
    serve.signal(SIGKILL);
    EXPECT_EQ(client->eval("{receive {erpc_result, R1} -> R1 after 15000 -> no_answer end, "
                           " receive {rpc_result, R2} -> R2 after 15000 -> no_answer end}"),
              "{{error,{erpc,noconnection}},{badrpc,nodedown}}");
    EXPECT_LT(Clock::now() - killed_at, 10s) << "the callers must learn at once, not after a tick timeout";
}

TEST_F(RpcInterop, ElixirErpcAndRpcCallsReachCppFunctions) {
    if (!on_path("elixir")) GTEST_SKIP() << "elixir is not installed";
    // Elixir strings are binaries: a typed export takes and gives them as std::string.
    node().export_function("typed", "shout", [](std::string s, std::vector<std::string> tail) {
        for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (const auto& t : tail) s += " " + t;
        return s;
    });
    const std::string script =
        "n = :\"" + std::string(node().name().name()) + "\"\n"
        "catching = fn f -> try do f.() catch kind, reason -> {kind, reason} end end\n"
        "IO.puts(\"ERPC_ADD #{inspect(:erpc.call(n, :rpc_peer, :add, [1, 2]))}\")\n"
        "IO.puts(\"ERPC_ERROR #{inspect(catching.(fn -> :erpc.call(n, :rpc_peer, :fail, [:error, :boom]) end))}\")\n"
        "IO.puts(\"ERPC_EXIT #{inspect(catching.(fn -> :erpc.call(n, :rpc_peer, :fail, [:exit, :bye]) end))}\")\n"
        "IO.puts(\"ERPC_BADARG #{inspect(catching.(fn -> :erpc.call(n, :rpc_peer, :double, [:x]) end))}\")\n"
        "IO.puts(\"ERPC_TIMEOUT #{inspect(catching.(fn -> :erpc.call(n, :rpc_peer, :sleep, [3000], 300) end))}\")\n"
        "IO.puts(\"RPC_ECHO #{inspect(:rpc.call(n, :rpc_peer, :echo, [\"elixir\"]))}\")\n"
        "IO.puts(\"RPC_THROW #{inspect(:rpc.call(n, :rpc_peer, :fail, [:throw, :ball]))}\")\n"
        "IO.puts(\"RPC_EXIT #{inspect(:rpc.call(n, :rpc_peer, :fail, [:exit, :bye]))}\")\n"
        "IO.puts(\"RPC_UNDEF #{inspect(:rpc.call(n, :rpc_peer, :nope, []))}\")\n"
        "IO.puts(\"RPC_TIMEOUT #{inspect(:rpc.call(n, :rpc_peer, :sleep, [3000], 300))}\")\n"
        "IO.puts(\"TYPED #{inspect(:erpc.call(n, :typed, :shout, [\"hi\", [\"there\", ~c\"you\"]]))}\")\n";
    Process elixir({"elixir", "--sname", unique_name("ex_rpc") + "@" + short_host(), "--cookie", cookie, "--erl",
                    "-start_epmd false", "-e", script},
                   {"ERL_EPMD_PORT=" + std::to_string(epmd_->port())});
    auto line = [&](const std::string& tag) {
        auto l = elixir.wait_line(tag + " ", 60s);
        return l ? l->substr(l->find(tag) + tag.size() + 1) : "<none>\n" + elixir.transcript();
    };
    EXPECT_EQ(line("ERPC_ADD"), "3");
    EXPECT_EQ(line("ERPC_ERROR"), "{:error, {:exception, :boom, [{:rpc_peer, :fail, [:error, :boom], []}]}}");
    EXPECT_EQ(line("ERPC_EXIT"), "{:exit, {:exception, :bye}}");
    EXPECT_EQ(line("ERPC_BADARG"), "{:error, {:exception, :badarg, [{:rpc_peer, :double, [:x], []}]}}");
    EXPECT_EQ(line("ERPC_TIMEOUT"), "{:error, {:erpc, :timeout}}");
    EXPECT_EQ(line("RPC_ECHO"), "\"elixir\"");
    EXPECT_EQ(line("RPC_THROW"), ":ball");
    EXPECT_EQ(line("RPC_EXIT"), "{:badrpc, {:EXIT, :bye}}");
    EXPECT_EQ(line("RPC_UNDEF"), "{:badrpc, {:EXIT, {:undef, [{:rpc_peer, :nope, [], []}]}}}");
    EXPECT_EQ(line("RPC_TIMEOUT"), "{:badrpc, :timeout}");
    EXPECT_EQ(line("TYPED"), "\"HI there you\"") << "a charlist is a string too";
}

// --- C++ calls BEAM ---------------------------------------------------------------------------

TEST_F(RpcInterop, CppErpcCallsEndExactlyAsErlsErpcCallOfTheSameFunction) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    for (const Case& c : cpp_cases()) {
        const CallOutcome out = erpc::call(node(), beam->name(), a(c.module), a(c.function), parsed(c.args),
                                           within(std::chrono::milliseconds(c.timeout_ms)));
        EXPECT_EQ(to_string(erpc_outcome(out)), client->eval("rpc_peer:run(erpc5, " + quoted(*beam) + ", " + c.erl() + ")"))
            << c.erl();
    }
    // A process killed before it answers: exit {signal, killed}, as erpc reports it.
    const CallOutcome killed = erpc::call(node(), beam->name(), a("rpc_peer"), a("kill_self"), list(), within(10s));
    EXPECT_EQ(to_string(erpc_outcome(killed)), "{exit,{signal,killed}}");
    // Arguments that are not a list never leave the node.
    const CallOutcome bad = erpc::call(node(), beam->name(), a("rpc_peer"), a("echo"), Term(1));
    EXPECT_EQ(to_string(erpc_outcome(bad)), "{error,{erpc,badarg}}");
}

TEST_F(RpcInterop, CppRpcCallsEndExactlyAsErlsRpcCallOfTheSameFunction) {
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    for (const Case& c : cpp_cases()) {
        const Term got = rpc::call(node(), beam->name(), a(c.module), a(c.function), parsed(c.args),
                                   within(std::chrono::milliseconds(c.timeout_ms)));
        EXPECT_EQ(to_string(got), client->eval("rpc_peer:run(rpc5, " + quoted(*beam) + ", " + c.erl() + ")")) << c.erl();
    }
}

TEST_F(RpcInterop, CppRpcCallOfAProcessKilledBeforeItAnswersIsBadrpcExitKilledAsInOtp) {
    // erpc's exit:{signal, Reason} (the process died before answering) is {badrpc,
    // {'EXIT', Reason}} for rpc, as OTP 25's rpc:rpcify_exception(exit, {signal, Reason}) makes it.
    auto client = start_erl("client");
    auto beam = start_erl("beam");
    const Term got = rpc::call(node(), beam->name(), a("rpc_peer"), a("kill_self"), list(), within(10s));
    EXPECT_EQ(client->eval("rpc:call(" + quoted(*beam) + ", rpc_peer, kill_self, [])"), "{badrpc,{'EXIT',killed}}");
    EXPECT_EQ(to_string(got), "{badrpc,{'EXIT',killed}}");
}

TEST_F(RpcInterop, CppCoroutineCallThatTimesOutLeavesNoLateAnswerInTheCallersMailbox) {
    auto beam = start_erl("beam");
    const Atom b = beam->name();
    auto done = std::make_shared<std::promise<std::string>>();
    auto result = done->get_future();
    ASSERT_TRUE(node().spawn([b, done](Self self) -> Task<> {
        CallOutcome late = co_await erpc::call(self, b, a("rpc_peer"), a("sleep"), list(600), within(100ms));
        // This one ends after the first call's process has ended: a DOWN for the abandoned call,
        // had one been sent on the same connection, would already be here.
        CallOutcome next = co_await erpc::call(self, b, a("rpc_peer"), a("sleep"), list(900), within(10s));
        auto stray = co_await self.receive(0ms);
        done->set_value(to_string(erpc_outcome(late)) + " " + to_string(erpc_outcome(next)) + " " +
                        (stray ? to_string(*stray) : std::string("empty")));
    }));
    ASSERT_EQ(result.wait_for(20s), std::future_status::ready);
    EXPECT_EQ(result.get(), "{error,{erpc,timeout}} {return,ok} empty");
    // rpc::call's timeout from a plain thread.
    EXPECT_EQ(rpc::call(node(), b, a("rpc_peer"), a("sleep"), list(3000), within(100ms)),
              tuple(a("badrpc"), a("timeout")));
}

TEST_F(RpcInterop, CppCastsAndMulticallsOverTwoErlNodesOneOfThemDown) {
    auto up = start_erl("up");
    auto down = start_erl("down");
    Mailbox box = node().make_mailbox().value();
    erpc::cast(node(), up->name(), a("rpc_peer"), a("notify"), list(box.pid(), a("by_erpc_cast")));
    rpc::cast(node(), down->name(), a("rpc_peer"), a("notify"), list(box.pid(), a("by_rpc_cast")));
    for (const char* m : {"by_erpc_cast", "by_rpc_cast"}) {
        auto got = box.receive([&](const Term& t) { return t.is_atom(a(m)); }, 20s);
        EXPECT_TRUE(got) << m;
    }

    // Both connected (the casts went through); now one dies.
    NodeEvents events(node());
    down->process().signal(SIGKILL);
    ASSERT_TRUE(events.wait(NodeEvent::Kind::nodedown, down->name(), 20s));

    const std::vector<Atom> nodes = {up->name(), down->name()};
    const auto outs = erpc::multicall(node(), nodes, a("rpc_peer"), a("add"), list(1, 2), within(10s));
    ASSERT_EQ(outs.size(), 2u);
    EXPECT_EQ(to_string(erpc_outcome(outs[0])), "{return,3}");
    EXPECT_EQ(to_string(erpc_outcome(outs[1])), "{error,{erpc,noconnection}}");
    const Term rpc_multi = rpc::multicall(node(), nodes, a("rpc_peer"), a("add"), list(1, 2), within(10s));
    EXPECT_EQ(to_string(rpc_multi),
              up->eval("rpc:multicall(['" + up->node() + "', '" + down->node() + "'], rpc_peer, add, [1, 2], 10000)"));
    EXPECT_EQ(rpc_multi, tuple(list(3), list(down->name())));
    // Errors keep their place among the results.
    const auto failing = erpc::multicall(node(), nodes, a("rpc_peer"), a("fail"), list(a("throw"), a("x")));
    EXPECT_EQ(to_string(erpc_outcome(failing[0])), "{throw,x}");
    EXPECT_EQ(to_string(erpc_outcome(failing[1])), "{error,{erpc,noconnection}}");
}

// The coroutine forms, from a process: the calls run in processes of the node (this node among
// the targets too), and end as the blocking forms and erl's rpc:multicall do.
TEST_F(RpcInterop, CppCoroutineMulticallsFromAProcessEndAsErlsDo) {
    auto beam = start_erl("beam");
    const std::string dead = unique_name("never_started") + "@" + short_host();
    const std::vector<Atom> nodes = {beam->name(), a(dead), node().name()};
    std::promise<std::pair<std::vector<CallOutcome>, Term>> done;
    ASSERT_TRUE(node().spawn([&](Self self) -> Task<> {
        Task<std::vector<CallOutcome>> e = erpc::multicall(self, nodes, a("rpc_peer"), a("add"), list(1, 2), within(10s));
        std::vector<CallOutcome> outs = co_await e;
        Task<Term> r = rpc::multicall(self, nodes, a("rpc_peer"), a("fail"), list(a("throw"), a("x")), within(10s));
        Term rpc_result = co_await r;
        done.set_value({std::move(outs), std::move(rpc_result)});
    }));
    auto got = done.get_future();
    ASSERT_EQ(got.wait_for(30s), std::future_status::ready);
    auto [outs, rpc_result] = got.get();
    ASSERT_EQ(outs.size(), 3u);
    EXPECT_EQ(to_string(erpc_outcome(outs[0])), "{return,3}");
    EXPECT_EQ(to_string(erpc_outcome(outs[1])), "{error,{erpc,noconnection}}");
    EXPECT_EQ(to_string(erpc_outcome(outs[2])), "{return,3}");
    EXPECT_EQ(rpc_result, tuple(list(a("x"), a("x")), list(a(dead))));
    EXPECT_EQ(to_string(rpc_result),
              beam->eval("rpc:multicall(['" + beam->node() + "', '" + dead + "', '" + beam->node() +
                         "'], rpc_peer, fail, [throw, x], 10000)"))
        << "erl's rpc:multicall of the same calls (its own node standing in for ours)";
}

TEST_F(RpcInterop, CppRpcMulticallCountsATimedOutNodeAsBadAsRpcMulticallDoes) {
    // OTP 25's rpc:multicall (rpcmulticallify) puts a node whose call failed with
    // {erpc, timeout} or {erpc, noconnection} in BadNodes: erl gets {[], [Node]}.
    auto beam = start_erl("beam");
    const Term got = rpc::multicall(node(), {beam->name()}, a("rpc_peer"), a("sleep"), list(3000), within(300ms));
    EXPECT_EQ(to_string(got), beam->eval("rpc:multicall(['" + beam->node() + "'], rpc_peer, sleep, [3000], 300)"));
    EXPECT_EQ(got, tuple(list(), list(beam->name())));
}

TEST_F(RpcInterop, TenThousandConcurrentCppCallsToErlEachGetTheirOwnResult) {
    auto beam = start_erl("beam");
    const Atom b = beam->name();
    ASSERT_TRUE(node().ping(b));
    Mailbox box = node().make_mailbox().value();
    const Pid to = box.pid();
    constexpr int n = 10000;
    for (int i = 0; i < n; ++i) {
        // Half through erpc, half through rpc, all coroutine processes in flight together.
        auto spawned = node().spawn([to, b, i](Self self) -> Task<> {
            Term got;
            if (i % 2 == 0)
                got = erpc_outcome(co_await erpc::call(self, b, a("rpc_peer"), a("echo"), list(i), within(60s)));
            else
                got = tuple(a("return"), co_await rpc::call(self, b, a("rpc_peer"), a("echo"), list(i), within(60s)));
            self.send(to, tuple(i, got));
        });
        ASSERT_TRUE(spawned) << i;
    }
    std::vector<bool> seen(n, false);
    int right = 0;
    std::string wrong;
    const auto deadline = Clock::now() + 60s;
    for (int k = 0; k < n; ++k) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        auto msg = box.receive(std::max(left, 0ms));
        if (!msg) {
            wrong += " [only " + std::to_string(k) + " answers in time]";
            break;
        }
        const Term& m = *msg;
        const std::int64_t i = m[0].as_int64();
        if (i >= 0 && i < n && !seen[i] && m[1] == tuple(a("return"), Term(i))) {
            seen[i] = true;
            ++right;
        } else if (wrong.size() < 500) {
            wrong += " " + to_string(m);
        }
    }
    EXPECT_EQ(right, n) << wrong;
}

TEST_F(RpcInterop, CppCallOutputGoesToTheCallersGroupLeader) {
    auto beam = start_erl("beam");
    const Atom b = beam->name();
    // By default, the calling process's group leader: the node's I/O server, `user`.
    EXPECT_EQ(rpc::call(node(), b, a("io"), a("format"), list(string("printed by ~s~n"), list(string("rpc"))), within(10s)),
              Term(atoms::ok));
    EXPECT_TRUE(output_->wait_for("printed by rpc", 10s)) << output_->text();
    const CallOutcome e = erpc::call(node(), b, a("io"), a("format"), list(string("printed by ~s~n"), list(string("erpc"))),
                                     within(10s));
    EXPECT_TRUE(e.ok) << to_string(e.value);
    EXPECT_TRUE(output_->wait_for("printed by erpc", 10s)) << output_->text();
    EXPECT_EQ(beam->process().count("printed by"), 0u) << "nothing printed on the erl node itself";

    // A process whose group leader is a mailbox answering the I/O protocol.
    Mailbox gl = node().make_mailbox().value();
    const Pid leader = gl.pid();
    auto done = std::make_shared<std::promise<std::string>>();
    auto result = done->get_future();
    ASSERT_TRUE(node().spawn([b, leader, done](Self self) -> Task<> {
        self.group_leader(leader);
        CallOutcome e = co_await erpc::call(self, b, a("io"), a("put_chars"), list(string("by erpc\n")), within(10s));
        Term r = co_await rpc::call(self, b, a("io"), a("put_chars"), list(string("by rpc\n")), within(10s));
        done->set_value(to_string(erpc_outcome(e)) + " " + to_string(r));
    }));
    for (const char* text : {"by erpc\n", "by rpc\n"}) {
        auto req = gl.receive([](const Term& t) { return t.is_tuple(4) && t[0].is_atom(a("io_request")); }, 20s);
        ASSERT_TRUE(req) << "no io_request reached the group leader";
        EXPECT_EQ(put_chars_text((*req)[3]), text) << to_string(*req);
        gl.send((*req)[1].as_pid(), tuple(a("io_reply"), (*req)[2], a("ok")));
    }
    ASSERT_EQ(result.wait_for(20s), std::future_status::ready);
    EXPECT_EQ(result.get(), "{return,ok} ok");
}

TEST_F(RpcInterop, CppCallOptionsGroupLeaderReceivesTheRemoteCallsOutput) {
    // CallOptions::group_leader (rpc.hpp: "Where the remote function's output goes") travels in
    // the SPAWN_REQUEST's GroupLeader field; io:put_chars on the BEAM node must then send its
    // io_request to that pid.
    auto beam = start_erl("beam");
    const Atom b = beam->name();
    Mailbox gl = node().make_mailbox().value();
    for (bool use_erpc : {true, false}) {
        CallOptions opts = within(10s);
        opts.group_leader = gl.pid();
        auto pending = std::async(std::launch::async, [&] {
            const Term chars = string(use_erpc ? "to the mailbox by erpc\n" : "to the mailbox by rpc\n");
            if (use_erpc) return erpc_outcome(erpc::call(node(), b, a("io"), a("put_chars"), list(chars), opts));
            return tuple(a("return"), rpc::call(node(), b, a("io"), a("put_chars"), list(chars), opts));
        });
        auto req = gl.receive([](const Term& t) { return t.is_tuple(4) && t[0].is_atom(a("io_request")); }, 10s);
        ASSERT_TRUE(req) << "no io_request reached the group leader";
        EXPECT_EQ(put_chars_text((*req)[3]), use_erpc ? "to the mailbox by erpc\n" : "to the mailbox by rpc\n")
            << to_string(*req);
        gl.send((*req)[1].as_pid(), tuple(a("io_reply"), (*req)[2], a("ok")));
        ASSERT_EQ(pending.wait_for(20s), std::future_status::ready);
        EXPECT_EQ(to_string(pending.get()), "{return,ok}");
    }
}

TEST_F(RpcInterop, CppCallsToAnErlNodeKilledMidCallFailPromptlyWithNoconnection) {
    auto beam = start_erl("beam");
    const Atom b = beam->name();
    auto by_erpc = std::async(std::launch::async, [&] {
        return erpc::call(node(), b, a("rpc_peer"), a("announce_sleep"), list(string("SLEEPING erpc"), 60000));
    });
    auto by_rpc = std::async(std::launch::async, [&] {
        return rpc::call(node(), b, a("rpc_peer"), a("announce_sleep"), list(string("SLEEPING rpc"), 60000));
    });
    // The lines come through the callers' group leader, the C++ node's `user`: both calls run.
    ASSERT_TRUE(output_->wait_for("SLEEPING erpc", 20s)) << output_->text();
    ASSERT_TRUE(output_->wait_for("SLEEPING rpc", 20s)) << output_->text();

    const auto killed_at = Clock::now();
    beam->process().signal(SIGKILL);
    ASSERT_EQ(by_erpc.wait_for(10s), std::future_status::ready);
    ASSERT_EQ(by_rpc.wait_for(10s), std::future_status::ready);
    EXPECT_LT(Clock::now() - killed_at, 10s);
    EXPECT_EQ(to_string(erpc_outcome(by_erpc.get())), "{error,{erpc,noconnection}}");
    EXPECT_EQ(by_rpc.get(), tuple(a("badrpc"), a("nodedown")));
}
