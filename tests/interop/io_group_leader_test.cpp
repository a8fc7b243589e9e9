// Group-leader I/O across nodes: BEAM processes whose group leader is the C++ node's I/O
// server print exactly what BEAM would print, and a C++ process spawned from erl prints on
// the erl side through erl's group leader. A bad format fails in C++ with the reason
// io:format raises in Erlang (badarg), whichever side the group leader is on.
#include "interop/node_support.hpp"

#include <edist/exports.hpp>
#include <edist/io.hpp>
#include <edist/node.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

using namespace edist;
using namespace edist::test;

namespace {

// Output written by the C++ node's I/O server, waited on by content.
struct Captured {
    std::mutex mutex;
    std::condition_variable cv;
    std::string text;
    bool wait_for_size(std::size_t n, std::chrono::seconds timeout) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, timeout, [&] { return text.size() >= n; });
    }
};

// Over twenty directives, with widths, precisions, padding and unicode.
const char* const formats_and_args =
    "[{\"~p~n\", [{a, [1,2,3], <<\"bin\">>, #{k => v}}]},"
    " {\"~w~n\", [[1.5, -0.0, 1 bsl 70, 'Q a', \"str\"]]},"
    " {\"~s|~10s|~-10s|~.3s~n\", [\"abc\", \"right\", \"left\", \"truncated\"]},"
    " {\"~ts~n\", [<<\"h\\303\\251llo \\342\\202\\254\"/utf8>>]},"
    " {\"~tp~n\", [[<<\"caf\\303\\251\"/utf8>>, \"x\"]]},"
    " {\"~b ~.16b ~8.2.0b ~#x ~.8X~n\", [255, 255, 5, 255, 255, \"0o\"]},"
    " {\"~e ~.3e ~f ~.2f ~10.3f|~-10.1f|~n\", [3.14159, 2.5e-7, 1.0, 2.675, -1.5, 9.99]},"
    " {\"~g ~.3g ~g~n\", [0.000123, 123456.0, 1.0e20]},"
    " {\"~c~c~5c|~-3c|~n\", [$a, 8364, $z, $q]},"
    " {\"~i~w ~~ ~*c ~-*.*f~n\", [ignored, kept, 3, $x, 8, 2, 1.0]},"
    " {\"~P ~W~n\", [[1,[2,[3,[4,[5]]]]], 4, {a,{b,{c,{d}}}}, 3]},"
    " {\"~.16+ ~#~n\", [255, -10]},"
    " {\"~15p|~n\", [{nested, [1,2]}]}]";

} // namespace

TEST(IoGroupLeader, BeamProcessesPrintThroughTheCppIoServerExactlyAsBeamWould) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready());
    auto captured = std::make_shared<Captured>();
    CppNode cpp(unique_name("gl_cpp"), epmd.port(), "edist_node_test", [captured](NodeOptions& o) {
        o.io_output = [captured](std::string_view s) {
            std::lock_guard lock(captured->mutex);
            captured->text += s;
            captured->cv.notify_all();
        };
    });
    ASSERT_TRUE(cpp) << cpp.error();
    ErlNode erl({.name = unique_name("gl_erl"), .epmd_port = epmd.port()});
    ASSERT_TRUE(erl.ready()) << erl.transcript();

    // The test asks the C++ node for its I/O server's pid through an exported function.
    cpp->export_function("gl_test", "user", 0, [](Self self, Args) -> Task<Term> {
        co_return Term(*self.node().whereis(atom("user")));
    });
    const std::string cpp_node = "'" + std::string(cpp->name().name()) + "'";
    // erl: the expected text as BEAM formats it (io_lib:format), hex-encoded for the trip back.
    std::string expected_hex = erl.eval("L = " + std::string(formats_and_args) +
                                        ", binary:encode_hex(unicode:characters_to_binary("
                                        "[io_lib:format(F, A) || {F, A} <- L]))");
    auto parsed = parse(expected_hex);
    ASSERT_TRUE(parsed.ok() && parsed->is_binary()) << expected_hex << erl.transcript();
    std::string hex(parsed->as_binary_view());
    std::string expected;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        expected += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    ASSERT_FALSE(expected.empty());

    // The same formats printed by an erl process whose group leader is the C++ I/O server.
    std::string printed = erl.eval("L2 = " + std::string(formats_and_args) + ", UserPid = erpc:call(" + cpp_node +
                                   ", gl_test, user, []), Self = self(),"
                                   " P = spawn(fun() -> group_leader(UserPid, self()),"
                                   " [ok = io:format(F, A) || {F, A} <- L2], Self ! {done, self()} end),"
                                   " receive {done, P} -> done after 20000 -> timeout end");
    ASSERT_EQ(printed, "done") << erl.transcript();
    ASSERT_TRUE(captured->wait_for_size(expected.size(), std::chrono::seconds(20)));
    std::lock_guard lock(captured->mutex);
    EXPECT_EQ(captured->text, expected);
}

TEST(IoGroupLeader, ABadFormatFailsWithBadargAsIoFormatRaises) {
    OtpEpmd epmd;
    ASSERT_TRUE(epmd.ready());
    CppNode cpp(unique_name("gl_bad"), epmd.port(), "edist_node_test",
                [](NodeOptions& o) { o.io_output = [](std::string_view) {}; });
    ASSERT_TRUE(cpp) << cpp.error();
    ErlNode erl({.name = unique_name("gl_bad_erl"), .epmd_port = epmd.port()});
    ASSERT_TRUE(erl.ready()) << erl.transcript();
    // gl_test:print(Format, Args): io::format through the caller's group leader, raising
    // error:Reason on failure, as edist_demo:print does.
    cpp->export_function("gl_test", "print", 2, [](Self self, Args args) -> Task<Term> {
        const std::string format = args[0].as_string();
        const Term fmt_args = args[1];
        auto r = co_await io::format(self, format, fmt_args);
        if (!r) raise_error(Term(r.error().reason()));
        co_return Term(atoms::ok);
    });
    cpp->export_function("gl_test", "user", 0, [](Self self, Args) -> Task<Term> {
        co_return Term(*self.node().whereis(atom("user")));
    });
    const std::string cpp_node = "'" + std::string(cpp->name().name()) + "'";
    // For each bad format: what io:format raises in erl, what the C++ function raises when its
    // group leader is erl's (the erpc caller's), and when it is the C++ node's own I/O server.
    const std::string result = erl.eval(
        "Bad = [{\"~p~n\", []}, {\"~p~n\", [1, 2]}, {\"~q~n\", [1]}],"
        " Io = fun(F, A) -> try io:format(F, A) catch C:E -> {C, E} end end,"
        " Cpp = fun(F, A) -> try erpc:call(" + cpp_node + ", gl_test, print, [F, A])"
        "                    catch error:{exception, E, _} -> {error, E}; C:E -> {C, E} end end,"
        " UserPid = erpc:call(" + cpp_node + ", gl_test, user, []), Self = self(),"
        " P = spawn(fun() -> group_leader(UserPid, self()), Self ! {self(), [Cpp(F, A) || {F, A} <- Bad]} end),"
        " OnCpp = receive {P, L} -> L after 20000 -> timeout end,"
        " [{Io(F, A), Cpp(F, A)} || {F, A} <- Bad] ++ [OnCpp]");
    EXPECT_EQ(result, "[{{error,badarg},{error,badarg}},{{error,badarg},{error,badarg}},{{error,badarg},{error,badarg}},"
                      "[{error,badarg},{error,badarg},{error,badarg}]]")
        << erl.transcript();
}
