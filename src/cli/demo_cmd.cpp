// `edist demo`: a tour of what works today. Terms built in C++, their ETF bytes, decoded back,
// and, when `erl` is on PATH, a round trip through a real Erlang runtime.
//
// Later steps of the tour (start a C++ node, ping a real erl) belong here as further functions
// called from run_demo, each printing its own section.
#include "command.hpp"
#include "io.hpp"
#include "subprocess.hpp"

#include <edist/etf.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
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

int run_demo(const DemoOptions& o) {
    fmt::print("edist demo: terms built in C++, encoded to the external term format (ETF),\n"
               "decoded back, then handed to a real erl and back\n\n");
    auto samples = sample_terms();
    std::size_t cpp_failures = 0;
    for (std::size_t i = 0; i < samples.size(); ++i)
        if (!show_in_cpp(i + 1, samples[i])) ++cpp_failures;

    int erl_failures = 0;
    if (o.no_erl) {
        fmt::print("Skipping the round trip through erl (--no-erl)\n\n");
    } else if (auto erl = o.erl.find('/') == std::string::npos ? find_on_path(o.erl) : fs::path(o.erl); !erl) {
        fmt::print("Skipping the round trip through erl: '{}' is not on PATH "
                   "(on Debian: apt-get install erlang-nox)\n\n",
                   o.erl);
    } else {
        erl_failures = round_trip_through_erl(*erl, samples);
        if (erl_failures < 0) return fail("the round trip through erl could not run");
    }

    if (cpp_failures + static_cast<std::size_t>(erl_failures) > 0)
        return fail(fmt::format("demo: {} C++ round trip(s) and {} erl round trip(s) failed", cpp_failures,
                                erl_failures));
    fmt::print("All {} terms survived every round trip.\n", samples.size());
    return exit_ok;
}

} // namespace

Command add_demo_command(CLI::App& root) {
    auto o = std::make_shared<DemoOptions>();
    auto* demo = root.add_subcommand("demo", "Show terms built in C++, their ETF bytes, and a round trip through erl");
    demo->add_flag("--no-erl", o->no_erl, "Do not run erl, even when it is on PATH");
    demo->add_option("--erl", o->erl, "The erl program to run")->default_val("erl");
    return {demo, [o] { return run_demo(*o); }};
}

} // namespace edist::cli
