// `edist demo`: a tour of what works today. Terms built in C++, their ETF bytes, decoded back,
// and, when `erl` is on PATH, a round trip through a real Erlang runtime, then a C++ node and
// an erl node in one cluster: pings, messages and erpc calls both ways.
//
// Each step of the tour is a function called from run_demo, printing its own section.
#include "command.hpp"
#include "io.hpp"
#include "serve_demo_module.hpp"
#include "subprocess.hpp"

#include <edist/etf.hpp>
#include <edist/node.hpp>
#include <edist/rpc.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <asio.hpp>
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace edist::cli {

namespace {

namespace fs = std::filesystem;

struct DemoOptions {
    bool no_erl = false;
    std::string erl = "erl";
};

struct Sample {
    std::string what;
    Term term;
    std::vector<std::uint8_t> etf; // filled by show_in_cpp
};

std::vector<Sample> sample_terms() {
    using namespace edist::literals;
    Atom node = atom("demo@localhost");
    BigInt two_to_the_100 = *BigInt::from_string("1267650600228229401496703205376");
    Ref ref{node, 1, 3, {0x2a, 0x1234, 0xabcdef}};

    std::vector<Sample> s;
    s.push_back({"a tuple", tuple("ok"_a, 42, -1.5, string("hello")), {}});
    s.push_back({"a map",
                 map({{"name"_a, binary("edist")}, {"version"_a, tuple(0, 1, 0)}, {1, "one"_a}}),
                 {}});
    s.push_back({"bignums: 2^100 and -(2^100)", list(Term(two_to_the_100), Term(-two_to_the_100)), {}});
    s.push_back({"a unicode atom", Term(atom("ünïcödé_原子")), {}});
    s.push_back({"a binary", binary(std::vector<std::uint8_t>{'b', 'y', 't', 'e', 's', 0, 255}), {}});
    s.push_back({"an improper list", list_from({Term(1), Term(2), Term(3)}, "tail"_a), {}});
    s.push_back({"a pid and a reference", tuple(Pid{node, 42, 0, 1}, ref), {}});
    return s;
}

std::string single_line(std::string s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == '\n' || c == '\r' || ((c == ' ' || c == '\t') && space)) {
            if (!space) out += ' ';
            space = true;
            continue;
        }
        space = c == ' ';
        out += c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

constexpr std::string_view indent = "             ";

// Encodes, shows the bytes, decodes them back. True when the decoded term equals the original.
bool show_in_cpp(std::size_t n, Sample& s) {
    fmt::print("{}. {}\n", n, s.what);
    PrettyOptions pretty;
    pretty.indent = indent.size();
    fmt::print("   C++ term  {}\n", to_pretty_string(s.term, pretty));
    s.etf = etf::encode(s.term);
    fmt::print("   ETF       {} ({} bytes)\n", hex_dump(s.etf, 20, indent), s.etf.size());
    auto back = etf::decode(s.etf);
    if (!back) {
        fmt::print("   decoded   FAILED: {}\n\n", back.error().what());
        return false;
    }
    bool equal = *back == s.term;
    fmt::print("   decoded   {}\n   {}\n\n", to_pretty_string(*back, pretty),
               equal ? "ok        decoded term == original" : "FAILED    decoded term differs from the original");
    return equal;
}

// What the erl side runs: for each name N in the plain arguments, read Dir/N.etf,
// binary_to_term it, write its ~tp text to N.txt and term_to_binary of it to N.back.etf (or the
// error to N.err), so nothing has to be parsed out of erl's stdout.
constexpr const char* erl_script = R"ERL(
[Dir | Names] = init:get_plain_arguments(),
ok = file:write_file(filename:join(Dir, "otp_release"), erlang:system_info(otp_release)),
lists:foreach(
  fun(Name) ->
      Base = filename:join(Dir, Name),
      try
          {ok, Bin} = file:read_file(Base ++ ".etf"),
          Term = binary_to_term(Bin),
          ok = file:write_file(Base ++ ".txt", unicode:characters_to_binary(io_lib:format("~tp", [Term]))),
          ok = file:write_file(Base ++ ".back.etf", term_to_binary(Term))
      catch Class:Reason ->
          file:write_file(Base ++ ".err", io_lib:format("~p:~p", [Class, Reason]))
      end
  end, Names),
halt(0).
)ERL";

std::optional<std::string> read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Returns the number of terms that failed the round trip, or -1 if erl could not be run.
int round_trip_through_erl(const fs::path& erl, const std::vector<Sample>& samples) {
    TempDir dir("edist-demo");
    std::vector<std::string> argv{erl.string(), "-noshell", "-eval", erl_script, "-extra", dir.path().string()};
    for (std::size_t i = 0; i < samples.size(); ++i) {
        std::string name = std::to_string(i + 1);
        std::string error;
        if (!write_all((dir.path() / (name + ".etf")).string(), samples[i].etf, error)) {
            fmt::print("   cannot prepare the files for erl: {}\n", error);
            return -1;
        }
        argv.push_back(name);
    }

    auto r = run_process(argv, std::chrono::seconds(60));
    if (!r.started || r.timed_out || r.exit_code != 0) {
        fmt::print("   erl failed ({}):\n{}\n",
                   !r.started ? "could not start" : r.timed_out ? "timed out" : fmt::format("exit code {}", r.exit_code),
                   r.output);
        return -1;
    }
    auto release = read_text(dir.path() / "otp_release");
    fmt::print("Through a real Erlang runtime ({}, OTP {}): binary_to_term, print with ~p,\n"
               "term_to_binary back, decode in C++\n\n",
               erl.string(), release.value_or("?"));

    int failures = 0;
    int different_bytes = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const Sample& s = samples[i];
        fs::path base = dir.path() / std::to_string(i + 1);
        fmt::print("{}. {}\n", i + 1, s.what);
        if (auto err = read_text(base.string() + ".err")) {
            fmt::print("   FAILED    erl could not take the bytes: {}\n\n", *err);
            ++failures;
            continue;
        }
        fmt::print("   erl ~p    {}\n", single_line(read_text(base.string() + ".txt").value_or("?")));
        std::string error;
        auto back_bytes = read_all(base.string() + ".back.etf", error);
        if (!back_bytes) {
            fmt::print("   FAILED    {}\n\n", error);
            ++failures;
            continue;
        }
        auto back = etf::decode(*back_bytes);
        if (!back) {
            fmt::print("   FAILED    edist cannot decode erl's term_to_binary: {}\n", back.error().what());
            ++failures;
        } else if (*back != s.term) {
            fmt::print("   FAILED    erl's term_to_binary decodes to {}\n", to_string(*back));
            ++failures;
        } else {
            bool same_bytes = *back_bytes == s.etf;
            if (!same_bytes) ++different_bytes;
            fmt::print("   ok        erl's term_to_binary decodes in C++ to an equal term{}\n",
                       same_bytes ? ", byte for byte what edist encoded" : " (erl's bytes differ*)");
        }
        fmt::print("\n");
    }
    if (different_bytes > 0)
        fmt::print("* Equal terms may be encoded differently: OTP 25 and older write atoms as ATOM_EXT,\n"
                   "  edist writes SMALL_ATOM_UTF8_EXT as OTP 26 and later do. Both read either.\n\n");
    return failures;
}

// The erl side of the cluster demo. It pings the C++ node (named in the plain arguments), says
// hello to its `demo` mailbox, then does what the C++ side asks. It never outlives the demo: it
// halts when the C++ node goes away (monitor_node) or stays silent for 30 s.
constexpr const char* erl_node_script = R"ERL(
[CppText] = init:get_plain_arguments(),
Cpp = list_to_atom(CppText),
case net_adm:ping(Cpp) of pong -> ok; pang -> halt(2) end,
erlang:monitor_node(Cpp, true),
{demo, Cpp} ! {hello_from_erl, self(), pong, list_to_binary(erlang:system_info(otp_release))},
Loop = fun Loop() ->
    receive
        {From, echo_back, Msg} ->
            From ! {erl_got, Msg}, Loop();
        {From, call_cpp, M, F, A} ->
            R = try {ok, erpc:call(Cpp, M, F, A, 5000)} catch C:E -> {C, E} end,
            From ! {erpc_result, R}, Loop();
        {From, stop} ->
            From ! stopping, init:stop();
        {nodedown, Cpp} -> halt(3)
    after 30000 -> halt(4)
    end
end,
Loop().
)ERL";

// A port nobody listens on now, for the demo's private epmd (never the shared 4369).
std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    return a.local_endpoint().port();
}

std::string random_cookie() {
    std::random_device rd;
    std::string c = "EDISTDEMO";
    for (int i = 0; i < 16; ++i) c += static_cast<char>('A' + rd() % 26);
    return c;
}

// Runs erl on a thread, so the C++ side can talk to it meanwhile; joined on destruction.
class ErlThread {
public:
    explicit ErlThread(std::vector<std::string> argv)
        : thread_([this, argv = std::move(argv)] { result_ = run_process(argv, std::chrono::seconds(90)); }) {}
    ~ErlThread() { join(); }
    const ProcessResult& join() {
        if (thread_.joinable()) thread_.join();
        return result_;
    }

private:
    ProcessResult result_;
    std::thread thread_;
};

std::string pretty_line(const Term& t) { return to_pretty_string(t, {.line_length = 1000}); }

// Returns true when every step worked.
bool cluster_with_erl(const fs::path& erl) {
    using namespace std::chrono_literals;
    fmt::print("A C++ node and a real erl node in one cluster\n\n");
    const std::uint16_t epmd_port = free_port();
    const std::string cookie = random_cookie();
    NodeOptions opts;
    opts.name = fmt::format("edist_demo_{}", ::getpid());
    opts.cookie = cookie;
    opts.epmd_port = epmd_port; // nothing listens there: the node embeds an epmd
    opts.log = [](LogLevel, std::string_view) {}; // each step reports its own outcome
    auto started = Node::start(std::move(opts));
    if (!started) {
        fmt::print("   FAILED    cannot start the C++ node: {}\n\n", started.error().what());
        return false;
    }
    std::shared_ptr<Node> node = *started;
    struct Stop {
        std::shared_ptr<Node> n;
        ~Stop() { n->stop(); }
    } stop_node{node};
    export_demo_module(*node);
    auto box = node->make_mailbox("demo");
    if (!box) {
        fmt::print("   FAILED    cannot register the mailbox demo: {}\n\n", box.error().what());
        return false;
    }
    const std::string cpp_name = to_string(Term(node->name()));
    fmt::print("   C++ node  {} (embedded epmd on port {}, a random cookie)\n", cpp_name, epmd_port);

    const std::string erl_short = fmt::format("erl_demo_{}", ::getpid());
    ErlThread erl_run({erl.string(), "-noshell", "-sname", erl_short, "-setcookie", cookie, "-epmd_port",
                       std::to_string(epmd_port), "-start_epmd", "false", "-eval", erl_node_script, "-extra",
                       node->name().str()});
    auto erl_failed = [&](std::string_view what) {
        fmt::print("   FAILED    {}\n", what);
        node->stop(); // erl sees nodedown and halts
        const auto& r = erl_run.join();
        if (!r.output.empty()) fmt::print("   erl said:\n{}\n", r.output);
        return false;
    };

    // 1. erl starts, pings the C++ node and sends a hello to its registered mailbox.
    auto hello = box->receive([](const Term& m) { return m.is_tuple(4) && m[0].is_atom(atom("hello_from_erl")); }, 60s);
    if (!hello) return erl_failed("no hello from the erl node within 60 s");
    const Pid erl_pid = (*hello)[1].as_pid();
    const Atom erl_node = erl_pid.node;
    const std::string erl_name = to_string(Term(erl_node));
    fmt::print("   erl node  {} (OTP {})\n\n", erl_name, std::string((*hello)[3].as_binary_view()));
    fmt::print("   erl -> C++   net_adm:ping({}) = pong\n", cpp_name);
    fmt::print("   erl -> C++   {{demo, {}}} ! Msg; the C++ mailbox received {}\n", cpp_name, pretty_line(*hello));

    // 2. The C++ node pings back.
    const bool pong = node->ping(erl_node, 10s);
    fmt::print("   C++ -> erl   node->ping({}) = {}\n", erl_name, pong ? "pong" : "pang");
    if (!pong) return erl_failed("the C++ node could not ping erl");

    // 3. A message from C++ to the erl process, which confirms it.
    Term msg = tuple(atom("hello_from_cpp"), list(1, 2, 3), binary("bytes"));
    box->send(erl_pid, tuple(box->pid(), atom("echo_back"), msg));
    auto got = box->receive([](const Term& m) { return m.is_tuple(2) && m[0].is_atom(atom("erl_got")); }, 10s);
    if (!got) return erl_failed("erl did not confirm the C++ message within 10 s");
    fmt::print("   C++ -> erl   box.send({}, {}); erl answered {}\n", to_string(Term(erl_pid)), pretty_line(msg),
               pretty_line(*got));

    // 4. erl calls a function exported by the C++ node.
    box->send(erl_pid, tuple(box->pid(), atom("call_cpp"), atom("edist_demo"), atom("add"),
                             list(*BigInt::from_string("1180591620717411303424"), 1)));
    auto called = box->receive([](const Term& m) { return m.is_tuple(2) && m[0].is_atom(atom("erpc_result")); }, 10s);
    if (!called) return erl_failed("erl's erpc call into C++ did not finish within 10 s");
    const Term& outcome = (*called)[1];
    fmt::print("   erl -> C++   erpc:call({}, edist_demo, add, [1 bsl 70, 1]) = {}  (added in C++)\n", cpp_name,
               outcome.is_tuple(2) && outcome[0].is_atom(atoms::ok) ? to_string(outcome[1]) : "FAILED " + to_string(outcome));
    if (!outcome.is_tuple(2) || !outcome[0].is_atom(atoms::ok)) return erl_failed("erl's erpc call into C++ failed");

    // 5. C++ calls a function of the erl node.
    CallOptions copts;
    copts.timeout = 10s;
    auto out = erpc::call(*node, erl_node, atom("lists"), atom("reverse"), list(string("edist")), copts);
    fmt::print("   C++ -> erl   erpc::call({}, lists, reverse, [\"edist\"]) = {}\n", erl_name,
               out.ok ? to_pretty_string(out.value) : "FAILED " + to_string(rpc::rpcify(out)));
    if (!out.ok) return erl_failed("the C++ erpc call into erl failed");

    // 6. erl shuts down with init:stop().
    box->send(erl_pid, tuple(box->pid(), atom("stop")));
    if (!box->receive([](const Term& m) { return m.is_atom(atom("stopping")); }, 10s))
        return erl_failed("erl did not acknowledge the stop request within 10 s");
    const auto& r = erl_run.join();
    if (!r.started || r.timed_out || r.exit_code != 0)
        return erl_failed(fmt::format("erl did not stop cleanly ({})", r.timed_out ? "timed out" : fmt::format("exit code {}", r.exit_code)));
    fmt::print("   erl          init:stop() -> the erl node stopped cleanly (exit status 0)\n\n");
    return true;
}

int run_demo(const DemoOptions& o) {
    fmt::print("edist demo: terms built in C++, encoded to the external term format (ETF),\n"
               "decoded back, then handed to a real erl and back\n\n");
    auto samples = sample_terms();
    std::size_t cpp_failures = 0;
    for (std::size_t i = 0; i < samples.size(); ++i)
        if (!show_in_cpp(i + 1, samples[i])) ++cpp_failures;

    int erl_failures = 0;
    bool cluster_ok = true;
    if (o.no_erl) {
        fmt::print("Skipping the round trip through erl and the cluster with erl (--no-erl)\n\n");
    } else if (auto erl = o.erl.find('/') == std::string::npos ? find_on_path(o.erl) : fs::path(o.erl); !erl) {
        fmt::print("Skipping the round trip through erl: '{}' is not on PATH "
                   "(on Debian: apt-get install erlang-nox)\n\n",
                   o.erl);
    } else {
        erl_failures = round_trip_through_erl(*erl, samples);
        if (erl_failures < 0) return fail("the round trip through erl could not run");
        cluster_ok = cluster_with_erl(*erl);
    }

    if (cpp_failures + static_cast<std::size_t>(erl_failures) > 0)
        return fail(fmt::format("demo: {} C++ round trip(s) and {} erl round trip(s) failed", cpp_failures,
                                erl_failures));
    if (!cluster_ok) return fail("demo: the C++ node and the erl node could not do every step (see FAILED above)");
    fmt::print("All {} terms survived every round trip.\n", samples.size());
    return exit_ok;
}

} // namespace

Command add_demo_command(CLI::App& root) {
    auto o = std::make_shared<DemoOptions>();
    auto* demo = root.add_subcommand("demo", "A tour: terms and their ETF bytes through erl, then a C++ node and an erl node pinging, messaging and calling each other");
    demo->add_flag("--no-erl", o->no_erl, "Do not run erl, even when it is on PATH");
    demo->add_option("--erl", o->erl, "The erl program to run")->default_val("erl");
    return {demo, [o] { return run_demo(*o); }};
}

} // namespace edist::cli
