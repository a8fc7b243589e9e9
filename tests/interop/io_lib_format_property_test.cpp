// io_lib::format against the real erl on random (Format, Args) pairs: a fixed seed (or
// EDIST_PROPERTY_SEED to replay another) generates a few thousand control sequences with random
// widths, precisions, pad characters and modifiers, and arguments that mostly suit them (and
// sometimes do not, so errors are compared too). erl formats each pair with
// lists:flatten(io_lib:format(F, A)) and unicode:characters_to_binary; the texts must be equal
// byte for byte, and where erl raises badarg edist must return an error.
#include "interop/erl_runner.hpp"

#include <edist/etf.hpp>
#include <edist/io_lib.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace edist;
using namespace edist::test;

constexpr int case_count = 4000;

// Formats each {Format, Args} blob; answers <<0, Utf8/binary>> or <<1>> when erl refuses.
constexpr const char* format_script = R"erl(#!/usr/bin/env escript
%%! +pc latin1
main([In, Out]) ->
    {ok, Bin} = file:read_file(In),
    Results = [format(binary_to_term(B)) || B <- blobs(Bin)],
    ok = file:write_file(Out, [[<<(byte_size(R)):32>>, R] || R <- Results]).
blobs(<<N:32, B:N/binary, Rest/binary>>) -> [B | blobs(Rest)];
blobs(<<>>) -> [].
format({F, A}) ->
    try unicode:characters_to_binary(lists:flatten(io_lib:format(F, A))) of
        B when is_binary(B) -> <<0, B/binary>>;
        _ -> <<1>>
    catch _:_ -> <<1>>
    end.
)erl";

class Gen {
public:
    explicit Gen(std::uint64_t seed) : rng_(seed) {}

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool chance(int percent) { return pick(100) < percent; }

    std::int64_t integer() {
        switch (pick(5)) {
        case 0: return pick(10);
        case 1: return pick(2000) - 1000;
        case 2: return static_cast<std::int64_t>(rng_()) >> pick(60);
        default: return pick(256);
        }
    }
    Term any_integer() {
        if (chance(10)) return Term(*BigInt::from_string(std::string(20 + pick(20), '7')));
        return Term(integer());
    }

    double real() {
        static const double specials[] = {0.0, -0.0, 0.5, 1.0, 0.1, 9.9999995, 0.05, 123.456, 1.0e-5, 99.5, 2.5};
        if (chance(30)) return specials[pick(11)];
        double m = std::uniform_real_distribution<double>(-10.0, 10.0)(rng_);
        return m * std::pow(10.0, pick(30) - 12);
    }

    std::int64_t char_code(bool unicode) {
        switch (pick(unicode ? 6 : 4)) {
        case 0: return 'a' + pick(26);
        case 1: return ' ' + pick(95);
        case 2: return "\n\t\r\"\\\x1b\x7f"[pick(7)];
        case 3: return 0xA0 + pick(96);
        case 4: return 0x3B1 + pick(20);
        default: return chance(50) ? 0x301 : 0x1F600 + pick(10); // a combining mark, an emoji
        }
    }

    Term chars(bool unicode, int max_len = 12) {
        std::vector<Term> cs;
        int n = pick(max_len);
        for (int i = 0; i < n; ++i) cs.push_back(Term(char_code(unicode)));
        return list_from(std::move(cs));
    }

    std::string utf8_of(const Term& chars_list) {
        std::string s;
        for (const Term& c : chars_list.as_list()) {
            auto cp = static_cast<std::uint32_t>(c.as_int64());
            if (cp < 0x80) {
                s += char(cp);
            } else if (cp < 0x800) {
                s += char(0xC0 | cp >> 6), s += char(0x80 | (cp & 63));
            } else if (cp < 0x10000) {
                s += char(0xE0 | cp >> 12), s += char(0x80 | (cp >> 6 & 63)), s += char(0x80 | (cp & 63));
            } else {
                s += char(0xF0 | cp >> 18), s += char(0x80 | (cp >> 12 & 63)), s += char(0x80 | (cp >> 6 & 63)),
                    s += char(0x80 | (cp & 63));
            }
        }
        return s;
    }

    Atom any_atom() {
        static const char* names[] = {"ok", "error", "a", "hello_world", "Quoted", "with space", "é", "αβ",
                                      "receive", "a@b", "x1", "", "'", "long_atom_name_for_line_breaking"};
        return Atom(names[pick(14)]);
    }

    Term binary_term() {
        switch (pick(5)) {
        case 0: return binary(utf8_of(chars(false)));
        case 1: return binary(utf8_of(chars(true)));
        case 2: {
            std::string b;
            for (int i = pick(12); i > 0; --i) b += char(pick(256));
            return binary(b);
        }
        case 3: {
            std::vector<std::uint8_t> b(1 + pick(4));
            for (auto& x : b) x = static_cast<std::uint8_t>(pick(256));
            return bitstring(b, b.size() * 8 - 1 - pick(7));
        }
        default: return binary(std::string(pick(40), char('a' + pick(26))));
        }
    }

    Term term(int depth) {
        int k = depth <= 0 ? pick(5) : pick(11);
        switch (k) {
        case 0: return any_integer();
        case 1: return Term(real());
        case 2: return Term(any_atom());
        case 3: return chars(chance(50), chance(10) ? 60 : 12);
        case 4: return binary_term();
        case 5:
        case 6: {
            std::vector<Term> es;
            for (int i = pick(chance(20) ? 25 : 6); i > 0; --i) es.push_back(term(depth - 1));
            return chance(10) ? list_from(std::move(es), term(0)) : list_from(std::move(es));
        }
        case 7:
        case 8: {
            std::vector<Term> es;
            if (chance(50)) es.push_back(Term(any_atom()));
            for (int i = pick(6); i > 0; --i) es.push_back(term(depth - 1));
            return tuple_from(std::move(es));
        }
        case 9: {
            std::vector<std::pair<Term, Term>> kv;
            // OTP 25 takes -0.0 and 0.0 for the same key and refuses a map holding both.
            for (int i = pick(5); i > 0; --i) {
                Term key = term(0);
                if (key.is_float() && key.as_double() == 0.0) key = Term(0.0);
                kv.emplace_back(key, term(depth - 1));
            }
            return map_from(std::move(kv));
        }
        default: return Term();
        }
    }

    // An io list for ~s: characters, nested lists and binaries, sometimes a binary tail.
    Term io_list(bool unicode) {
        std::vector<Term> es;
        for (int i = pick(4); i > 0; --i) {
            switch (pick(3)) {
            case 0: es.push_back(Term(char_code(unicode))); break;
            case 1: es.push_back(chars(unicode, 5)); break;
            default: es.push_back(binary_term()); break;
            }
        }
        return chance(15) ? list_from(std::move(es), binary("tail")) : list_from(std::move(es));
    }

    // One control sequence and its arguments, appended to fmt and args.
    void control(std::u32string& fmt, std::vector<Term>& args) {
        static const char32_t* controls[] = {U"c", U"tc", U"f", U"e", U"g", U"s", U"ts", U"w", U"tw", U"W",
                                             U"p", U"tp", U"lp", U"P", U"B", U"b", U"X", U"x", U"#", U"+",
                                             U"i", U"n", U"~", U"ltp"};
        std::u32string c = controls[pick(24)];
        char32_t cc = c.back();
        fmt += U'~';
        bool pretty = cc == U'p' || cc == U'P';
        if (chance(pretty ? 25 : 50)) {
            if (chance(15)) {
                fmt += U'*';
                args.push_back(Term(pick(16) - (pretty ? 0 : 4)));
            } else {
                if (!pretty && chance(25)) fmt += U'-';
                int w = pretty ? 10 + pick(70) : pick(13);
                for (char ch : std::to_string(w)) fmt += static_cast<char32_t>(ch);
            }
        }
        if (chance(40)) {
            fmt += U'.';
            bool integer_base = cc == U'B' || cc == U'b' || cc == U'X' || cc == U'x' || cc == U'#' || cc == U'+';
            int p = integer_base ? 2 + pick(35) : pick(9);
            if (chance(10)) {
                fmt += U'*';
                args.push_back(Term(p));
            } else {
                for (char ch : std::to_string(p)) fmt += static_cast<char32_t>(ch);
            }
            if (chance(40)) {
                static const char32_t pads[] = {U'0', U'*', U'x', U'é', U' ', U'α'};
                fmt += U'.';
                fmt += pads[pick(6)];
            }
        }
        fmt += c;
        bool mismatch = chance(4);
        auto arg = [&](Term t) { args.push_back(mismatch ? term(1) : std::move(t)); };
        switch (cc) {
        case U'c': arg(Term(chance(80) ? char_code(true) : integer())); break;
        case U'f':
        case U'e':
        case U'g': arg(Term(real())); break;
        case U's':
            switch (pick(4)) {
            case 0: arg(chars(c.find(U't') != std::u32string::npos, 20)); break;
            case 1: arg(binary_term()); break;
            case 2: arg(Term(any_atom())); break;
            default: arg(io_list(c.find(U't') != std::u32string::npos)); break;
            }
            break;
        case U'w':
        case U'p': arg(term(3)); break;
        case U'W':
        case U'P':
            arg(term(4));
            args.push_back(Term(pick(8) - 1));
            break;
        case U'B':
        case U'b':
        case U'#':
        case U'+': arg(any_integer()); break;
        case U'X':
        case U'x':
            arg(any_integer());
            args.push_back(chance(50) ? Term(Atom("0x")) : chars(false, 3));
            break;
        case U'i': arg(term(1)); break;
        default: break;
        }
    }

    std::pair<Term, Term> format_case() {
        std::u32string fmt;
        std::vector<Term> args;
        for (int n = 1 + pick(4); n > 0; --n) {
            for (int i = pick(6); i > 0; --i) {
                int r = pick(20);
                fmt += r == 0 ? U'\n' : r == 1 ? U'\t' : r == 2 ? U'é' : static_cast<char32_t>('a' + pick(26));
            }
            control(fmt, args);
        }
        if (chance(2)) args.push_back(Term(1)); // one argument too many
        std::vector<Term> cps;
        for (char32_t c : fmt) cps.push_back(Term(static_cast<std::int64_t>(c)));
        Term f = list_from(std::move(cps));
        if (chance(10)) {
            // A binary format is read byte by byte; keep it ASCII-free of surprises either way.
            f = binary(utf8_of(f));
        }
        return {f, list_from(std::move(args))};
    }

private:
    std::mt19937_64 rng_;
};

std::string show(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\n')
            out += "\\n";
        else
            out += static_cast<char>(c);
    }
    return out.size() > 600 ? out.substr(0, 600) + "..." : out;
}

TEST(IoLibFormatProperty, RandomFormatsMatchErlByteForByte) {
    if (!erl_available()) GTEST_SKIP() << "erl/escript not on PATH; io_lib:format cannot be compared";
    std::uint64_t seed = property_seed(20240611);
    Gen gen(seed);
    std::vector<std::pair<Term, Term>> cases;
    std::vector<Blob> blobs;
    for (int i = 0; i < case_count; ++i) {
        cases.push_back(gen.format_case());
        blobs.push_back(etf::encode(tuple(cases.back().first, cases.back().second)));
    }
    TempDir dir;
    write_file(dir / "format.escript", Blob(format_script, format_script + std::string_view(format_script).size()));
    write_blobs(dir / "in.bin", blobs);
    auto run_result = run_escript(dir / "format.escript", {(dir / "in.bin").string(), (dir / "out.bin").string()});
    ASSERT_EQ(run_result.exit_code, 0) << run_result.output;
    auto results = read_blobs(dir / "out.bin");
    ASSERT_EQ(results.size(), cases.size());

    int mismatches = 0;
    std::string first;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        auto ours = io_lib::format(cases[i].first, cases[i].second);
        const Blob& erl = results[i];
        bool erl_ok = !erl.empty() && erl[0] == 0;
        std::string erl_text = erl_ok ? std::string(erl.begin() + 1, erl.end()) : std::string();
        bool same = ours.ok() == erl_ok && (!erl_ok || *ours == erl_text);
        if (same) continue;
        ++mismatches;
        if (first.empty()) {
            first = "case " + std::to_string(i) + " (seed " + std::to_string(seed) + "): io_lib:format(" +
                    to_pretty_string(cases[i].first) + ", " + to_string(cases[i].second) + ")\n  erl:   " +
                    (erl_ok ? "\"" + show(erl_text) + "\"" : std::string("badarg")) + "\n  edist: " +
                    (ours.ok() ? "\"" + show(*ours) + "\"" : "error: " + std::string(ours.error().what()));
        }
    }
    EXPECT_EQ(mismatches, 0) << mismatches << " of " << cases.size() << " differ; the first:\n" << first;
}

} // namespace
