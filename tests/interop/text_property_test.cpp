// Erlang-syntax text against the real erl, over the random terms of etf_property_test (same
// generator, same fixed seed, printed; EDIST_PROPERTY_SEED replays another):
//
//   to_string(t) is io_lib:format("~w", [T]) exactly, for terms erl can print readably
//   parse() reads erl's ~w text back to the term
//   parse(to_string(t)) == t for every term, pids, ports, refs and funs included
//   to_pretty_string(t) is io_lib:format("~tp", [T]) exactly, erl started with +pc unicode
#include "interop/erl_runner.hpp"

#include <edist/etf.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace edist;
using namespace edist::test;

constexpr int term_count = 5000;
const std::filesystem::path script = test_data("etf_property.escript");

// ~tp of each term in IN, as blobs in OUT (etf_property.escript's format), under +pc unicode:
// the printable range to_pretty_string assumes.
constexpr const char* pretty_script = R"(#!/usr/bin/env escript
%%! +pc unicode
main([In, Out]) ->
    {ok, Bin} = file:read_file(In),
    Texts = [unicode:characters_to_binary(io_lib:format("~tp", [binary_to_term(B)])) || B <- blobs(Bin)],
    ok = file:write_file(Out, [[<<(byte_size(T)):32>>, T] || T <- Texts]).
blobs(<<>>) -> [];
blobs(<<Len:32, B:Len/binary, Rest/binary>>) -> [B | blobs(Rest)].
)";

std::string clip(std::string s, std::size_t max = 800) {
    if (s.size() > max) s = s.substr(0, max) + "... (" + std::to_string(s.size()) + " chars)";
    return s;
}

// The two texts from a little before their first difference.
std::string first_difference(const std::string& erl, const std::string& ours) {
    std::size_t i = 0;
    while (i < erl.size() && i < ours.size() && erl[i] == ours[i]) ++i;
    std::size_t from = i < 60 ? 0 : i - 60;
    return "texts differ at byte " + std::to_string(i) + "\n  erl:   ..." + clip(erl.substr(from), 300) +
           "\n  edist: ..." + clip(ours.substr(from), 300);
}

// True if `pred` holds for `t` or anything inside it.
template <class Pred>
bool any_inside(const Term& t, Pred pred) {
    if (pred(t)) return true;
    switch (t.kind()) {
    case Kind::Tuple:
        for (const Term& e : t.as_tuple())
            if (any_inside(e, pred)) return true;
        return false;
    case Kind::List: {
        auto l = t.as_list();
        for (const Term& e : l)
            if (any_inside(e, pred)) return true;
        return any_inside(*l.tail, pred);
    }
    case Kind::Map:
        for (auto [k, v] : t.as_map())
            if (any_inside(k, pred) || any_inside(v, pred)) return true;
        return false;
    case Kind::Fun:
        for (const Term& e : t.as_fun().free_vars)
            if (any_inside(e, pred)) return true;
        return false;
    default: return false;
    }
}

bool ascii(Atom a) {
    for (unsigned char c : a.name())
        if (c >= 0x80) return false;
    return true;
}

// Pids, ports, refs and local funs print as #... in Erlang, which is no term syntax. And OTP 25
// prints `fun M:F/A` through erlang:fun_to_list/1, which gives the UTF-8 bytes of non-ASCII
// atoms as if each were a character (fun 'hé':f/1 comes out as "fun hÃ©:f/1"), a quirk edist
// does not copy.
bool erl_prints_readably(const Term& t) {
    return !any_inside(t, [](const Term& x) {
        auto k = x.kind();
        if (k == Kind::Export) return !ascii(x.as_export().module) || !ascii(x.as_export().function);
        return k == Kind::Pid || k == Kind::Port || k == Kind::Reference || k == Kind::Fun;
    });
}

// OTP 25 prints maps of over 32 keys in hash order.
bool has_large_map(const Term& t) {
    return any_inside(t, [](const Term& x) { return x.is_map() && x.as_map().size() > 32; });
}

class ErlText : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!erl_available()) return;
        dir_ = std::make_unique<TempDir>();
        seed_ = property_seed(20240611);
        auto terms_file = (dir_->path() / "erl.bin").string();
        auto r = run_escript(script, {"gen", "full", std::to_string(seed_), std::to_string(term_count), terms_file});
        std::cout << r.output;
        if (r.exit_code != 0) {
            setup_error_ = "erl failed to generate terms: " + r.output;
            return;
        }
        auto texts_file = (dir_->path() / "text.bin").string();
        r = run_escript(script, {"text", terms_file, texts_file});
        if (r.exit_code != 0) {
            setup_error_ = "erl failed to print terms: " + r.output;
            return;
        }
        for (auto& b : read_blobs(texts_file)) texts_.emplace_back(b.begin(), b.end());
        auto pretty_escript = dir_->path() / "pretty.escript";
        write_file(pretty_escript, std::vector<std::uint8_t>(pretty_script, pretty_script + std::strlen(pretty_script)));
        auto pretty_file = (dir_->path() / "pretty.bin").string();
        r = run_escript(pretty_escript, {terms_file, pretty_file});
        if (r.exit_code != 0) {
            setup_error_ = "erl failed to pretty-print terms: " + r.output;
            return;
        }
        for (auto& b : read_blobs(pretty_file)) pretty_texts_.emplace_back(b.begin(), b.end());
        for (auto& b : read_blobs(terms_file)) {
            auto t = etf::decode(b);
            if (!t.ok()) {
                setup_error_ = std::string("edist cannot decode an erl term (see etf_property_test): ") + t.error().what();
                return;
            }
            terms_.push_back(std::move(*t));
        }
    }
    static void TearDownTestSuite() { dir_.reset(); }

    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not on PATH; interop tests need Erlang/OTP";
        ASSERT_TRUE(setup_error_.empty()) << setup_error_;
        ASSERT_EQ(terms_.size(), std::size_t(term_count));
        ASSERT_EQ(texts_.size(), terms_.size());
        ASSERT_EQ(pretty_texts_.size(), terms_.size());
    }

    static inline std::unique_ptr<TempDir> dir_;
    static inline std::uint64_t seed_ = 0;
    static inline std::string setup_error_;
    static inline std::vector<Term> terms_;
    static inline std::vector<std::string> texts_;
    static inline std::vector<std::string> pretty_texts_;
};

TEST_F(ErlText, ToStringIsErlangTildeW) {
    std::size_t compared = 0, bad = 0;
    for (std::size_t i = 0; i < terms_.size(); ++i) {
        const Term& t = terms_[i];
        if (!erl_prints_readably(t) || has_large_map(t)) continue;
        ++compared;
        std::string ours;
        try {
            ours = to_string(t);
        } catch (const std::exception& e) {
            ours = std::string("<threw: ") + e.what() + ">";
        }
        if (ours == texts_[i]) continue;
        if (bad++ == 0) ADD_FAILURE() << "term " << i << " (seed " << seed_ << "): " << first_difference(texts_[i], ours);
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << compared << " texts differ (seed " << seed_ << ")";
    EXPECT_GE(compared, std::size_t(term_count) / 4) << "too few terms without pids, ports, refs and funs";
}

TEST_F(ErlText, ToPrettyStringIsErlangTildeTp) {
    std::size_t compared = 0, bad = 0;
    for (std::size_t i = 0; i < terms_.size(); ++i) {
        const Term& t = terms_[i];
        if (!erl_prints_readably(t) || has_large_map(t)) continue;
        ++compared;
        std::string ours = to_pretty_string(t);
        if (ours == pretty_texts_[i]) continue;
        if (bad++ == 0)
            ADD_FAILURE() << "term " << i << " (seed " << seed_ << "): " << first_difference(pretty_texts_[i], ours);
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << compared << " ~tp texts differ (seed " << seed_ << ")";
    EXPECT_GE(compared, std::size_t(term_count) / 4) << "too few terms without pids, ports, refs and funs";
}

TEST_F(ErlText, ParseReadsErlangTildeWText) {
    std::size_t compared = 0, large_maps = 0, bad = 0;
    for (std::size_t i = 0; i < terms_.size(); ++i) {
        const Term& t = terms_[i];
        if (!erl_prints_readably(t)) continue;
        ++compared;
        large_maps += has_large_map(t);
        auto parsed = parse(texts_[i]);
        if (parsed.ok() && *parsed == t) continue;
        if (bad++ == 0)
            ADD_FAILURE() << "term " << i << " (seed " << seed_ << "): erl's text " << clip(texts_[i])
                          << (parsed.ok() ? "\n  parses to " + clip(to_string(*parsed))
                                          : "\n  fails to parse: " + std::string(parsed.error().what()) +
                                                " at offset " + std::to_string(parsed.error().offset()));
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << compared << " erl texts do not parse back (seed " << seed_ << ")";
    EXPECT_GE(large_maps, 1u) << "no map of over 32 keys among the terms";
}

TEST_F(ErlText, ParseOfToStringGivesBackEveryTerm) {
    std::size_t bad = 0, with_ids = 0;
    for (std::size_t i = 0; i < terms_.size(); ++i) {
        const Term& t = terms_[i];
        with_ids += !erl_prints_readably(t);
        std::string text = to_string(t);
        auto parsed = parse(text);
        if (parsed.ok() && *parsed == t) continue;
        if (bad++ == 0)
            ADD_FAILURE() << "term " << i << " (seed " << seed_ << "): to_string gives " << clip(text)
                          << (parsed.ok() ? "\n  which parses to " + clip(to_string(*parsed))
                                          : "\n  which fails to parse: " + std::string(parsed.error().what()) +
                                                " at offset " + std::to_string(parsed.error().offset()));
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << terms_.size() << " terms do not survive to_string + parse (seed "
                       << seed_ << ")";
    EXPECT_GE(with_ids, 1u) << "no term with a pid, port, ref or fun among them";
}

} // namespace
