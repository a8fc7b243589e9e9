// edist text: to_string (~w), to_pretty_string (~tp), parse and operator<<.
// Expected strings were printed by erl 25 (OTP 25.2); the Erlang expression is in the comment.
// Pretty-printing expectations come from an escript run with `+pc unicode`.
#include <edist/etf.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace edist;
using namespace edist::literals;
using namespace std::literals;

namespace {

Term big(std::string_view decimal) { return Term(*BigInt::from_string(decimal)); }

Term parsed(std::string_view text) {
    auto r = parse(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().what());
    return r.ok() ? *r : Term(atom("parse_failed"));
}

std::string parse_error(std::string_view text) {
    auto r = parse(text);
    if (r.ok()) return "parsed as " + to_string(*r);
    EXPECT_EQ(r.error().reason(), atoms::badarg);
    return r.error().what();
}

Term sample_fun() {
    FunData f;
    f.arity = 2;
    for (std::size_t i = 0; i < f.uniq.size(); ++i) f.uniq[i] = static_cast<std::uint8_t>(i * 17);
    f.index = 3;
    f.module = atom("my_mod");
    f.old_index = Term(3);
    f.old_uniq = Term(98765432);
    f.pid = Term(Pid{atom("a@host"), 80, 0, 1700000000});
    f.free_vars = {Term(1), string("x"), Term(atom("y"))};
    return fun(std::move(f));
}

// ---------------------------------------------------------------------------------------------
// to_string: exactly what io_lib:format("~w", [T]) gives.

TEST(ToString, IntegersIncludingBignums) {
    EXPECT_EQ(to_string(Term(0)), "0");
    EXPECT_EQ(to_string(Term(-5)), "-5");
    EXPECT_EQ(to_string(Term(std::numeric_limits<std::int64_t>::min())), "-9223372036854775808");
    // 1 bsl 100, -(1 bsl 70)
    EXPECT_EQ(to_string(big("1267650600228229401496703205376")), "1267650600228229401496703205376");
    EXPECT_EQ(to_string(big("-1180591620717411303424")), "-1180591620717411303424");
}

TEST(ToString, FloatsAreShortestRoundTripWithErlangsNotationChoice) {
    // io_lib:format("~w", [F]) for each F.
    const std::pair<double, const char*> cases[] = {
        {0.1, "0.1"},
        {1.0, "1.0"},
        {1.0e100, "1.0e100"},
        {1.0e-10, "1.0e-10"},
        {123456789.0, "123456789.0"},
        {1.0e15, "1.0e15"},
        {1000000.0, "1.0e6"},
        {100.0, "100.0"},
        {0.0001, "0.0001"},
        {1.0e-5, "1.0e-5"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {1.2345678901234568e16, "1.2345678901234568e16"},
        {5.0e-324, "5.0e-324"},
        {10000.0, "1.0e4"},
        {1200.0, "1.2e3"},
        {0.00012, "1.2e-4"},
        {0.001, "0.001"},
        {123456.0, "123456.0"},
        {1.7976931348623157e308, "1.7976931348623157e308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {-1.5, "-1.5"},
        // Around 2^53 = 9007199254740992: below it the plain form may win, from it on never.
        {1234567890123456.0, "1234567890123456.0"},
        {9007199254740991.0, "9007199254740991.0"},
        {9007199254740992.0, "9.007199254740992e15"},
        {1000000000000001.0, "1000000000000001.0"},
    };
    for (auto [d, text] : cases) EXPECT_EQ(to_string(Term(d)), text) << text;
}

TEST(ToString, AtomsAreQuotedExactlyWhenErlQuotesThem) {
    // io_lib:format("~w", [A])
    const std::pair<const char*, const char*> cases[] = {
        {"ok", "ok"},
        {"a@b", "a@b"},
        {"a_B@9", "a_B@9"},
        {"maybe", "maybe"}, // reserved only with the maybe_expr feature, off in OTP 25
        {"else", "else"},
        {"cond", "'cond'"},
        {"let", "'let'"},
        {"after", "'after'"},
        {"andalso", "'andalso'"},
        {"receive", "'receive'"},
        {"Ok", "'Ok'"},
        {"_a", "'_a'"},
        {"a.b", "'a.b'"},
        {"a b", "'a b'"},
        {"", "''"},
        {"a\nb", "'a\\nb'"},
        {"\x01", "'\\001'"},
        {"\x7f", "'\\d'"},
        {"\\", "'\\\\'"},
        {"'", "'\\''"},
        {"\"", "'\"'"},
        {"\a\b\t\n\v\f\r\x1b \0", nullptr}, // see below: embedded NUL
        {"\xc3\xa9" "a", "\xc3\xa9" "a"},       // list_to_atom([233,97]): Latin-1 lower case
        {"\xc3\x9f", "\xc3\x9f"},               // [223] sharp s is lower case
        {"\xc3\x80", "'\xc3\x80'"},             // [192] upper case start
        {"a\xc3\x97", "'a\xc3\x97'"},           // [97,215] multiplication sign
        {"a\xc3\xbf", "a\xc3\xbf"},             // [97,255]
        {"\xc2\xaa", "'\xc2\xaa'"},             // [170] not a letter to erl_scan
        {"a\xc2\xa0", "'a\xc2\xa0'"},           // [97,160] nbsp printed as itself
        {"a\xc2\x80", "'a\\200'"},              // [97,128]
        {"a\xce\xb1", "'a\\x{3B1}'"},           // [97,945]
        {"a\xf0\x9f\x98\x80", "'a\\x{1F600}'"}, // [97,16#1F600]
    };
    for (auto [name, text] : cases) {
        if (!text) continue;
        EXPECT_EQ(to_string(Term(atom(name))), text) << name;
    }
    // list_to_atom([7,8,9,10,11,12,13,27,32,0])
    EXPECT_EQ(to_string(Term(atom(std::string_view("\a\b\t\n\v\f\r\x1b \0", 10)))), "'\\007\\b\\t\\n\\v\\f\\r\\e \\000'");
}

TEST(ToString, ListsStringsAndImproperLists) {
    EXPECT_EQ(to_string(Term()), "[]");
    EXPECT_EQ(to_string(string("hi")), "[104,105]"); // ~w never prints strings
    EXPECT_EQ(to_string(list_from({Term(1)}, Term(2))), "[1|2]");
    EXPECT_EQ(to_string(list_from({Term(1), Term(2)}, Term(3))), "[1,2|3]");
    EXPECT_EQ(to_string(list(Term()) ), "[[]]");
    EXPECT_EQ(to_string(list_from({Term(atom("a"))}, Term(atom("b")))), "[a|b]");
}

TEST(ToString, BinariesAndBitStrings) {
    EXPECT_EQ(to_string(binary("")), "<<>>");
    EXPECT_EQ(to_string(binary("abc")), "<<97,98,99>>");
    const std::uint8_t b[] = {1, 2, 3 << 3};
    EXPECT_EQ(to_string(bitstring(b, 21)), "<<1,2,3:5>>"); // <<1,2,3:5>>
    const std::uint8_t c[] = {3 << 6};
    EXPECT_EQ(to_string(bitstring(c, 2)), "<<3:2>>"); // <<3:2>>
}

TEST(ToString, TuplesMapsAndExternalFuns) {
    EXPECT_EQ(to_string(tuple_from({})), "{}");
    EXPECT_EQ(to_string(tuple(atom("a"), string("b"), binary("c"))), "{a,[98],<<99>>}");
    EXPECT_EQ(to_string(map({})), "#{}");
    // #{1 => a, a => 1, {x} => "s"}
    EXPECT_EQ(to_string(map({{Term(1), atom("a")}, {atom("a"), Term(1)}, {tuple(atom("x")), string("s")}})),
              "#{1 => a,a => 1,{x} => [115]}");
    EXPECT_EQ(to_string(Term(Export{atom("lists"), atom("map"), 2})), "fun lists:map/2");
    EXPECT_EQ(to_string(Term(Export{atom("erlang"), atom("+"), 2})), "fun erlang:'+'/2");
    EXPECT_EQ(to_string(Term(Export{atom("A"), atom("b c"), 0})), "fun 'A':'b c'/0");
}

TEST(ToString, PidsPortsRefsAndLocalFunsUseEdistNotation) {
    EXPECT_EQ(to_string(Term(Pid{atom("a@host"), 80, 0, 3})), "#Pid<'a@host'.80.0.3>");
    EXPECT_EQ(to_string(Term(Port{atom("a@host"), 1ull << 40, 7})), "#Port<'a@host'.1099511627776.7>");
    Ref r{atom("n@h"), 5, 3, {1, 2, 3}};
    EXPECT_EQ(to_string(Term(r)), "#Ref<'n@h'.5.1.2.3>");
    Term f = sample_fun();
    std::vector<std::uint8_t> bytes;
    etf::encode_to(bytes, f);
    std::string hex;
    for (auto byte : bytes) {
        char buf[3];
        std::snprintf(buf, sizeof buf, "%02X", byte);
        hex += buf;
    }
    EXPECT_EQ(to_string(f), "#Fun<my_mod.3.98765432." + hex + ">");
}

TEST(ToString, StreamOperatorPrintsToString) {
    std::ostringstream os;
    os << tuple(atom("ok"), Term(1.0));
    EXPECT_EQ(os.str(), "{ok,1.0}");
}

TEST(ToString, MillionDeepListPrintsWithoutRecursion) {
    Term t;
    for (int i = 0; i < 1'000'000; ++i) t = list(std::move(t));
    std::string s = to_string(t);
    ASSERT_EQ(s.size(), 2'000'002u);
    EXPECT_EQ(s.substr(0, 3), "[[[");
    EXPECT_EQ(s.substr(s.size() - 3), "]]]");
    ParseOptions deep;
    deep.max_depth = 2'000'000;
    auto back = parse(s, deep);
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_TRUE(*back == t);
    EXPECT_FALSE(parse(s).ok()); // default max_depth is 10,000
}

// ---------------------------------------------------------------------------------------------
// to_pretty_string: ~tp with the Unicode printable range.

TEST(PrettyString, PrintableListsAndBinariesAsText) {
    EXPECT_EQ(to_pretty_string(string("hi")), "\"hi\"");
    EXPECT_EQ(to_pretty_string(string("a\nb\xce\xb1")), "\"a\\nb\xce\xb1\"");
    EXPECT_EQ(to_pretty_string(string("\"'\\")), "\"\\\"'\\\\\"");
    EXPECT_EQ(to_pretty_string(list(Term(7), Term(8))), "[7,8]"); // \a is not printable
    EXPECT_EQ(to_pretty_string(list(Term(127))), "[127]");
    EXPECT_EQ(to_pretty_string(Term()), "[]");
    EXPECT_EQ(to_pretty_string(binary("abc")), "<<\"abc\">>");
    EXPECT_EQ(to_pretty_string(binary("\xce\xb1")), "<<\"\xce\xb1\"/utf8>>");
    EXPECT_EQ(to_pretty_string(binary("\xff")), "<<\"\xc3\xbf\">>");             // Latin-1 text
    EXPECT_EQ(to_pretty_string(binary("\xff\xce\xb1")), "<<\"\xc3\xbf\xc3\x8e\xc2\xb1\">>");
    EXPECT_EQ(to_pretty_string(binary(std::string_view("a\0", 2))), "<<97,0>>");
    EXPECT_EQ(to_pretty_string(Term(atom("a\xce\xb1"))), "'a\xce\xb1'"); // ~tp keeps Unicode
    EXPECT_EQ(to_pretty_string(tuple(atom("a"), string("b"), binary("c"))), "{a,\"b\",<<\"c\">>}");
}

Term seq(int from, int to) {
    std::vector<Term> v;
    for (int i = from; i <= to; ++i) v.emplace_back(i);
    return list_from(std::move(v));
}

TEST(PrettyString, LongListsFillLinesUpToColumn78) {
    // lists:seq(1,60)
    EXPECT_EQ(to_pretty_string(seq(1, 60)),
              "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,\n"
              " 29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,\n"
              " 54,55,56,57,58,59,60]");
}

TEST(PrettyString, NonAtomicElementsGoOnePerLine) {
    std::vector<Term> v;
    for (char c = 'a'; c <= 'n'; ++c) v.push_back(tuple(atom(std::string(1, c)), Term(c - 'a' + 1)));
    std::string expected = "[{a,1},\n {b,2},\n {c,3},\n {d,4},\n {e,5},\n {f,6},\n {g,7},\n {h,8},\n {i,9},\n"
                           " {j,10},\n {k,11},\n {l,12},\n {m,13},\n {n,14}]";
    EXPECT_EQ(to_pretty_string(list_from(v)), expected);
}

TEST(PrettyString, TaggedTuplesAlignAfterTheTag) {
    // {error,{badmatch,lists:seq(1,40)},[{m,f,1,[{file,"foo.erl"},{line,12}]},{m,g,2,[...]}]}
    Term frames = list(tuple(atom("m"), atom("f"), Term(1),
                             list(tuple(atom("file"), string("foo.erl")), tuple(atom("line"), Term(12)))),
                       tuple(atom("m"), atom("g"), Term(2),
                             list(tuple(atom("file"), string("bar.erl")), tuple(atom("line"), Term(14)))));
    Term t = tuple(atom("error"), tuple(atom("badmatch"), seq(1, 40)), frames);
    EXPECT_EQ(to_pretty_string(t),
              "{error,{badmatch,[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,\n"
              "                  24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40]},\n"
              "       [{m,f,1,[{file,\"foo.erl\"},{line,12}]},\n"
              "        {m,g,2,[{file,\"bar.erl\"},{line,14}]}]}");
}

TEST(PrettyString, MapsFillAtomicPairsAndBreakLongValues) {
    // maps:from_list([{list_to_atom("key" ++ integer_to_list(I)), I} || I <- lists:seq(1,12)])
    std::vector<std::pair<Term, Term>> pairs;
    for (int i = 1; i <= 12; ++i) pairs.emplace_back(atom("key" + std::to_string(i)), Term(i));
    EXPECT_EQ(to_pretty_string(map_from(pairs)),
              "#{key1 => 1,key10 => 10,key11 => 11,key12 => 12,key2 => 2,key3 => 3,key4 => 4,\n"
              "  key5 => 5,key6 => 6,key7 => 7,key8 => 8,key9 => 9}");
    // #{a => {x,y}, b => [1,2], c => 3, d => "str", e => lists:duplicate(40,1)}
    Term m = map({{atom("a"), tuple(atom("x"), atom("y"))},
                  {atom("b"), list(Term(1), Term(2))},
                  {atom("c"), Term(3)},
                  {atom("d"), string("str")},
                  {atom("e"), list_from(std::vector<Term>(40, Term(1)))}});
    EXPECT_EQ(to_pretty_string(m),
              "#{a => {x,y},\n"
              "  b => [1,2],\n"
              "  c => 3,d => \"str\",\n"
              "  e =>\n"
              "      [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,\n"
              "       1,1,1,1,1]}");
}

TEST(PrettyString, ShortTermsStayOnOneLineAndIndentIsHonoured) {
    EXPECT_EQ(to_pretty_string(seq(1, 26)), to_string(seq(1, 26)));
    // io_lib_pretty:print(lists:seq(1,12), [{line_length,20}])
    PrettyOptions narrow;
    narrow.line_length = 20;
    EXPECT_EQ(to_pretty_string(seq(1, 12), narrow), "[1,2,3,4,5,6,7,8,\n 9,10,11,12]");
    // io_lib:format("~s~tp", ["abcdefghij", lists:seq(1,60)]), without the prefix
    PrettyOptions indented;
    indented.indent = 10;
    EXPECT_EQ(to_pretty_string(seq(1, 60), indented),
              "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,\n"
              "           26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,\n"
              "           48,49,50,51,52,53,54,55,56,57,58,59,60]");
}

TEST(PrettyString, DeepTermsDoNotOverflowTheStack) {
    Term t = Term(1);
    for (int i = 0; i < 200'000; ++i) t = tuple(atom("node"), std::move(t), seq(1, 3));
    std::string s = to_pretty_string(t);
    EXPECT_GT(s.size(), 200'000u * 10);
}

// ---------------------------------------------------------------------------------------------
// parse: Erlang term literals.

TEST(Parse, AtomsBareAndQuotedWithEscapes) {
    EXPECT_EQ(parsed("ok"), Term(atom("ok")));
    EXPECT_EQ(parsed("a@b_C1"), Term(atom("a@b_C1")));
    EXPECT_EQ(parsed("'hello world'"), Term(atom("hello world")));
    EXPECT_EQ(parsed("'a\\nb\\'\\\\'"), Term(atom("a\nb'\\")));
    EXPECT_EQ(parsed("'\\x{3b1}'"), Term(atom("\xce\xb1")));
    EXPECT_EQ(parsed("'\\^?'"), Term(atom("\x1f")));   // '\^?' is '\037' in erl
    EXPECT_EQ(parsed("'\\101\\1'"), Term(atom("A\x01")));
    EXPECT_EQ(parsed("\xc3\xa9t\xc3\xa9"), Term(atom("\xc3\xa9t\xc3\xa9"))); // été is bare in erl
    EXPECT_EQ(parsed("maybe"), Term(atom("maybe")));
    EXPECT_EQ(parsed("true"), Term(true));
}

TEST(Parse, IntegersInAllErlangForms) {
    EXPECT_EQ(parsed("42"), Term(42));
    EXPECT_EQ(parsed("-42"), Term(-42));
    EXPECT_EQ(parsed("- 5"), Term(-5)); // erl_parse:parse_term accepts the space
    EXPECT_EQ(parsed("+5"), Term(5));
    EXPECT_EQ(parsed("16#FF"), Term(255));
    EXPECT_EQ(parsed("16#ff_FF"), Term(65535));
    EXPECT_EQ(parsed("2#101"), Term(5));
    EXPECT_EQ(parsed("36#zz"), Term(1295));
    EXPECT_EQ(parsed("-16#F"), Term(-15));
    EXPECT_EQ(parsed("1_000_000"), Term(1000000));
    EXPECT_EQ(parsed("$a"), Term(97));
    EXPECT_EQ(parsed("$\\n"), Term(10));
    EXPECT_EQ(parsed("$ "), Term(32));
    EXPECT_EQ(parsed("$\\^a"), Term(1));
    EXPECT_EQ(parsed("$\xce\xb1"), Term(945));
    EXPECT_EQ(parsed("-$a"), Term(-97));
    EXPECT_EQ(parsed("9223372036854775807"), Term(std::numeric_limits<std::int64_t>::max()));
    EXPECT_EQ(parsed("-9223372036854775808"), Term(std::numeric_limits<std::int64_t>::min()));
    EXPECT_EQ(parsed("1267650600228229401496703205376"), big("1267650600228229401496703205376"));
    EXPECT_EQ(parsed("16#10000000000000000"), big("18446744073709551616"));
}

TEST(Parse, Floats) {
    EXPECT_EQ(parsed("1.0e10"), Term(1.0e10));
    EXPECT_EQ(parsed("1.0e-5"), Term(1.0e-5));
    EXPECT_EQ(parsed("1.0E+3"), Term(1000.0));
    EXPECT_EQ(parsed("-0.0"), Term(-0.0));
    EXPECT_EQ(parsed("1_0.0_1e1_0"), Term(1.001e11));
    EXPECT_EQ(parsed("2.4703282292062328e-324"), Term(5.0e-324));
    EXPECT_EQ(parsed("1.0e-400"), Term(0.0)); // erl reads an underflow as 0.0
    EXPECT_NE(parse_error("1.0e400").find("float out of range at offset 0"), std::string::npos);
}

TEST(Parse, StringsAreCodePointListsAndAdjacentOnesJoin) {
    EXPECT_EQ(parsed("\"hi\""), string("hi"));
    EXPECT_EQ(parsed("\"\""), Term());
    EXPECT_EQ(parsed("\"a\" \"b\"\n\"c\""), string("abc"));
    EXPECT_EQ(parsed("\"\\x41\\x{3b1}\\s\\z\\1234\""), string("A\xce\xb1 zS4"));
    EXPECT_EQ(parsed("\"\xce\xb1\""), list(Term(945)));
}

TEST(Parse, BinariesAndBitStrings) {
    EXPECT_EQ(parsed("<<>>"), binary(""));
    EXPECT_EQ(parsed("<<1,2,3>>"), binary("\x01\x02\x03"));
    EXPECT_EQ(parsed("<<\"text\">>"), binary("text"));
    EXPECT_EQ(parsed("<<\"\xce\xb1\"/utf8>>"), binary("\xce\xb1"));
    EXPECT_EQ(parsed("<<\"\\x{3b1}\">>"), binary("\xb1")); // like erl: the low 8 bits
    EXPECT_EQ(parsed("<<\"a\"/utf8,1>>"), binary("a\x01"));
    EXPECT_EQ(parsed("<<300,-1>>"), binary("\x2c\xff"));
    EXPECT_EQ(parsed("<<1:4,2:4>>"), binary("\x12"));
    EXPECT_EQ(parsed("<<945/utf8>>"), binary("\xce\xb1"));
    const std::uint8_t b[] = {1, 2, 3 << 3};
    EXPECT_EQ(parsed("<<1,2,3:5>>"), bitstring(b, 21));
    EXPECT_NE(parse_error("<<1.5>>").find("an integer segment needs an integer in the binary segment at offset 2"),
              std::string::npos);
}

// Expected bytes below are what erl 25's erl_parse:parse_term gives for the same text.
TEST(Parse, BinarySegmentsOfEveryTypeAreBuiltAsErlBuildsThem) {
    EXPECT_EQ(parsed("<<1:16/little>>"), binary(std::string_view("\x01\x00", 2)));
    EXPECT_EQ(parsed("<<1:16/native>>"), binary(std::string_view("\x01\x00", 2))); // x86, arm: little
    EXPECT_EQ(parsed("<<1:8/big>>"), binary("\x01"));
    EXPECT_EQ(parsed("<<1/signed>>"), binary("\x01"));
    EXPECT_EQ(parsed("<<1:2/unit:4>>"), binary("\x01"));
    EXPECT_EQ(parsed("<<1:2/integer-unit:4>>"), binary("\x01"));
    EXPECT_EQ(parsed("<<1:16#10>>"), binary(std::string_view("\x00\x01", 2)));
    EXPECT_EQ(parsed("<<1 : 3 / little - unit : 8>>"), binary(std::string_view("\x01\x00\x00", 3)));
    const std::uint8_t abc_le[] = {0xBC, 0xA0};
    EXPECT_EQ(parsed("<<16#ABC:12/little>>"), bitstring(abc_le, 12)); // whole bytes first, then the top bits
    EXPECT_EQ(parsed("<<1/float>>"), binary("\x3f\xf0\0\0\0\0\0\0"sv));
    EXPECT_EQ(parsed("<<1.0/float>>"), binary("\x3f\xf0\0\0\0\0\0\0"sv));
    EXPECT_EQ(parsed("<<1.0/float-native>>"), binary("\0\0\0\0\0\0\xf0\x3f"sv));
    EXPECT_EQ(parsed("<<1.5:32/float-little>>"), binary("\0\0\xc0\x3f"sv));
    EXPECT_EQ(parsed("<<1.5:16/float>>"), binary("\x3e\0"sv));
    EXPECT_EQ(parsed("<<1.0e-5:16/float>>"), binary("\0\xa8"sv));      // a subnormal half
    EXPECT_EQ(parsed("<<70000.0:16/float>>"), binary("\x7c\0"sv));     // too large: infinity
    EXPECT_EQ(parsed("<<1.0e300:32/float>>"), binary("\x7f\x80\0\0"sv)); // likewise
    EXPECT_EQ(parsed("<<\"a\":8>>"), binary("a"));
    EXPECT_EQ(parsed("<<\"a\":16>>"), binary("\0a"sv));
    EXPECT_EQ(parsed("<<\"ab\"/utf16>>"), binary("\0a\0b"sv));
    EXPECT_EQ(parsed("<<945/utf16-little>>"), binary("\xb1\x03"sv));
    EXPECT_EQ(parsed("<<16#1F600/utf16>>"), binary("\xd8\x3d\xde\x00"sv));
    EXPECT_EQ(parsed("<<945/utf32>>"), binary("\0\0\x03\xb1"sv));
    EXPECT_EQ(parsed("<<945/little-utf32>>"), binary("\xb1\x03\0\0"sv));
    EXPECT_EQ(parsed("<<1/utf8-little>>"), binary("\x01"));
    EXPECT_EQ(parsed("<< <<1>>/binary >>"), binary("\x01"));
    EXPECT_EQ(parsed("<< <<1,2>>:1/binary >>"), binary("\x01"));
    const std::uint8_t four[] = {0x10};
    EXPECT_EQ(parsed("<< <<1:4>>/bits >>"), bitstring(four, 4));
    EXPECT_EQ(parsed("<<(1)>>"), binary("\x01"));
    EXPECT_EQ(parsed("<<(-1)>>"), binary("\xff"));
    EXPECT_EQ(parsed("<<(\"a\"):16>>"), binary("\0a"sv)); // still a string literal in parentheses
}

TEST(Parse, BinarySegmentsErlRefusesAreErrorsWithTheirOffset) {
    const std::pair<const char*, const char*> cases[] = {
        {"<<1, 1:8/float>>", "a float segment must be 16, 32 or 64 bits, not 8 in the binary segment at offset 5"},
        {"<<1:8/utf8>>", "a utf8 segment takes no size and no unit in the binary segment at offset 2"},
        {"<<1:(-8)>>", "a segment size cannot be negative at offset 4"},
        {"<<1:-8>>", "expected a segment size at offset 4"},
        {"<<1/unit:8>>", "a unit needs a size in the binary segment at offset 2"},
        {"<<1:8/big-little>>", "conflicting endianness in a segment type list at offset 10"},
        {"<<1:8/foo>>", "unknown segment type 'foo' at offset 6"},
        {"<<\"ab\"/binary>>", "a binary segment needs a binary or a bit string in the binary segment at offset 2"},
        {"<< <<1:4>>/binary >>",
         "the bit string's size is not a multiple of the unit 8 in the binary segment at offset 3"},
        {"<<16#D800/utf16>>", "55296 is not a Unicode code point in the binary segment at offset 2"},
        {"<<(1 bsl 2)>>", "expected ')' at offset 5"},
        {"<<0:99999999999>>", "binary too large in the binary segment at offset 2"},
    };
    for (auto [text, message] : cases) EXPECT_EQ(parse_error(text), message) << text;
    EXPECT_NE(parse_error("<< <<0:30000000>>/binary, <<0:30000000>>/binary >>").find("binary too large"),
              std::string::npos); // copies count against the same budget
}

TEST(Parse, ParenthesesAroundATermAreTheTermItself) {
    EXPECT_EQ(parsed("(1)"), Term(1));
    EXPECT_EQ(parsed("((a))"), Term(atom("a")));
    EXPECT_EQ(parsed("{(a)}"), tuple(atom("a")));
    EXPECT_EQ(parsed("[1,(2)]"), list(Term(1), Term(2)));
    EXPECT_EQ(parsed("#{(a) => ([])}"), map({{atom("a"), Term()}}));
    EXPECT_EQ(parsed("-(5)"), Term(-5));
    EXPECT_EQ(parsed("- ( (5) )"), Term(-5));
    EXPECT_EQ(parsed("+(1.5)"), Term(1.5));
    EXPECT_EQ(parse_error("-(-1)"), "a sign must be followed by a number at offset 0"); // as erl: bad term
    EXPECT_EQ(parse_error("-(a)"), "a sign must be followed by a number at offset 0");
    EXPECT_EQ(parse_error("()"), "unexpected ')' at offset 1");
    EXPECT_EQ(parse_error("(1"), "expected ')' at offset 2");
    std::string deep(20, '(');
    deep += "1" + std::string(20, ')');
    ParseOptions shallow;
    shallow.max_depth = 10;
    EXPECT_FALSE(parse(deep, shallow).ok()); // parentheses nest on the explicit stack
    EXPECT_EQ(parsed(deep), Term(1));
}

TEST(Parse, AMapMayHaveWhiteSpaceAfterItsHash) {
    EXPECT_EQ(parsed("# {a=>1}"), map({{atom("a"), Term(1)}}));
    EXPECT_EQ(parsed("#%c\n{}"), map({}));
}

TEST(Parse, AnArityIsAnyIntegerLiteral) {
    EXPECT_EQ(parsed("fun lists:map/16#2"), Term(Export{atom("lists"), atom("map"), 2}));
    EXPECT_EQ(parsed("fun lists:map/ 1_0"), Term(Export{atom("lists"), atom("map"), 10}));
    EXPECT_EQ(parse_error("fun lists:map/256"), "arity must be an integer from 0 to 255 at offset 14");
    EXPECT_EQ(parse_error("fun lists:map/2.0"), "arity must be an integer from 0 to 255 at offset 14");
    EXPECT_EQ(parse_error("fun lists:map/$a"), "expected an arity at offset 14");
}

TEST(Parse, Latin1WhiteSpaceSeparatesTokensAsInErlScan) {
    EXPECT_EQ(parsed("\xc2\xa0" "a"), Term(atom("a")));                   // U+00A0
    EXPECT_EQ(parsed("[\xc2\x85" "1,\xc2\x80" "2]"), list(Term(1), Term(2))); // U+0085, U+0080
    EXPECT_EQ(parsed("$\xc2\xa0"), Term(160)); // a character literal, not white space
    EXPECT_EQ(parse_error("\xc2\xa1" "a"), "unexpected 0xC2 at offset 0"); // U+00A1 is not white space
}

TEST(Parse, SurrogatesAndNonCharactersAreIllegalAsInErlScan) {
    EXPECT_EQ(parse_error("$\\x{D800}"), "illegal character U+D800 at offset 1");
    EXPECT_EQ(parse_error("\"a\\x{DFFF}\""), "illegal character U+DFFF at offset 2");
    EXPECT_EQ(parse_error("'\\x{FFFE}'"), "illegal character U+FFFE at offset 1");
    EXPECT_EQ(parse_error("\"\xef\xbf\xbf\""), "illegal character U+FFFF at offset 1");
    EXPECT_EQ(parse_error("a % \xef\xbf\xbe"), "illegal character in a comment at offset 4");
    EXPECT_EQ(parsed("\"\\x{FFFD}\\x{10000}\""), list(Term(0xFFFD), Term(0x10000)));
}

TEST(Parse, ContainersFunsCommentsAndTrailingDot) {
    EXPECT_EQ(parsed("[1,2|3]"), list_from({Term(1), Term(2)}, Term(3)));
    EXPECT_EQ(parsed("[1|[2]]"), list(Term(1), Term(2)));
    EXPECT_EQ(parsed("{}"), tuple_from({}));
    EXPECT_EQ(parsed("{a, [], {}}"), tuple(atom("a"), Term(), tuple_from({})));
    EXPECT_EQ(parsed("#{a => 1, a => 2}"), map({{atom("a"), Term(2)}}));
    EXPECT_EQ(parsed("#{}"), map({}));
    EXPECT_EQ(parsed("fun lists:map/2"), Term(Export{atom("lists"), atom("map"), 2}));
    EXPECT_EQ(parsed("fun 'A':'b c'/0"), Term(Export{atom("A"), atom("b c"), 0}));
    EXPECT_EQ(parsed("  % a comment\n {ok, % another\n 1} .  \n% end"), tuple(atom("ok"), Term(1)));
}

TEST(Parse, EdistNotationsForPidsPortsRefsAndFuns) {
    EXPECT_EQ(parsed("#Pid<'a@host'.80.0.3>"), Term(Pid{atom("a@host"), 80, 0, 3}));
    EXPECT_EQ(parsed("#Pid<a@host.1.2.3>"), Term(Pid{atom("a@host"), 1, 2, 3}));
    EXPECT_EQ(parsed("#Port<'a@host'.1099511627776.7>"), Term(Port{atom("a@host"), 1ull << 40, 7}));
    EXPECT_EQ(parsed("#Ref<'n@h'.5.1.2.3>"), Term(Ref{atom("n@h"), 5, 3, {1, 2, 3}}));
    EXPECT_NE(parse_error("#Ref<'n@h'.5.1.2.3.4.5.6>").find("at most 5 words"), std::string::npos);
    EXPECT_NE(parse_error("#Pid<'a@h'.1.2.4294967296>").find("creation out of range"), std::string::npos);
    std::string f = to_string(sample_fun());
    std::string tampered = f;
    tampered.replace(tampered.find(".3."), 3, ".4.");
    EXPECT_NE(parse_error(tampered).find("disagree"), std::string::npos);
}

TEST(Parse, ErrorsNameWhatWentWrongAndWhere) {
    auto offset_of = [](std::string_view text) {
        auto r = parse(text);
        return r.ok() ? Error::npos : r.error().offset();
    };
    EXPECT_EQ(parse_error(""), "unexpected end of input at offset 0");
    EXPECT_EQ(parse_error("[1,2"), "expected ',', '|' or ']' in a list at offset 4");
    EXPECT_EQ(parse_error("[1,]"), "unexpected ']' at offset 3");
    EXPECT_EQ(parse_error("{a b}"), "expected ',' or '}' in a tuple at offset 3");
    EXPECT_EQ(parse_error("#{a := 1}"), "':=' cannot build a map, use '=>' at offset 4");
    EXPECT_EQ(parse_error("[a|b|c]"), "expected ']' after a list tail at offset 4");
    EXPECT_EQ(parse_error("X"), "a variable is not a term at offset 0");
    EXPECT_EQ(parse_error("case"), "reserved word 'case' must be quoted at offset 0");
    EXPECT_EQ(parse_error("'abc"), "unterminated quoted atom at offset 0");
    EXPECT_EQ(parse_error("  \"abc"), "unterminated string at offset 2");
    EXPECT_EQ(parse_error("1 2"), "unexpected '2' after the term at offset 2");
    EXPECT_EQ(parse_error("ok.."), "unexpected '.' after the term at offset 3");
    EXPECT_EQ(parse_error("2#102"), "digit not valid in base 2 at offset 4");
    EXPECT_EQ(parse_error("37#1"), "base must be 2 to 36 at offset 0");
    EXPECT_EQ(parse_error("1__0"), "unexpected '_' after the term at offset 1");
    EXPECT_EQ(parse_error("- a"), "a sign must be followed by a number at offset 0");
    EXPECT_EQ(parse_error("<<1,2"), "unterminated binary at offset 0");
    EXPECT_EQ(parse_error("#Foo<1>"), "expected '#{', '#Pid<', '#Port<', '#Ref<' or '#Fun<' at offset 0");
    EXPECT_EQ(parse_error("'\\x{110000}'"), "code point out of range in escape at offset 1");
    EXPECT_EQ(parse_error("\xff"), "invalid UTF-8 at offset 0");
    EXPECT_EQ(offset_of("{ok, [1, 2 3]}"), 11u);
    EXPECT_EQ(parse_error(std::string(300, 'a')), "atom longer than 255 characters at offset 0");
    ParseOptions shallow;
    shallow.max_depth = 2;
    auto r = parse("[[[1]]]", shallow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(std::string(r.error().what()), "nesting deeper than max_depth (2) at offset 2");
}

TEST(Parse, ArbitraryBytesNeverCrashOrHang) {
    std::mt19937 rng(7);
    const std::string alphabet = "[]{}#<>,.|:/=$\"'\\%0123456789abzAZ_- \n#{=>}<<>>eE+xX^";
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        int n = static_cast<int>(rng() % 40);
        for (int k = 0; k < n; ++k)
            s += rng() % 8 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
        auto r = parse(s);
        if (r.ok()) {
            EXPECT_EQ(parse(to_string(*r)).value(), *r) << s;
        }
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// ---------------------------------------------------------------------------------------------
// parse(to_string(t)) == t for every kind of term.

TEST(RoundTrip, EveryKindOfTermReadsBackEqual) {
    const std::uint8_t bits[] = {0xAB, 0xC0};
    std::vector<Term> many;
    for (int i = 0; i < 40; ++i) many.push_back(tuple(Term(i), string("v")));
    const Term terms[] = {
        Term(0), Term(-1), Term(std::numeric_limits<std::int64_t>::min()), big("-123456789012345678901234567890"),
        Term(0.1), Term(-0.0), Term(5.0e-324), Term(1.7976931348623157e308), Term(1.0e15), Term(123456789.0),
        Term(atom("")), Term(atom("a b")), Term(atom("'\\\n")), Term(atom("\xce\xb1\xf0\x9f\x98\x80")),
        Term(atom("else")), Term(atom("cond")), Term(atom("\xc3\x9f\xc3\xbf")),
        Term(), string("hello\n"), list_from({Term(1)}, binary("x")), list(Term(), tuple_from({}), map({})),
        binary(""), binary(std::string_view("\0\xff", 2)), bitstring(bits, 10), bitstring(std::span(bits, 1), 1),
        tuple(atom("ok"), Term(1), list(Term(2))),
        map({{Term(1), Term(1.0)}, {Term(1.0), Term(1)}, {string("k"), map({{atom("n"), Term()}})}}),
        map_from([&] {
            std::vector<std::pair<Term, Term>> p;
            for (std::size_t i = 0; i < many.size(); ++i) p.emplace_back(many[i], Term(static_cast<int>(i)));
            return p;
        }()),
        Term(Export{atom("m"), atom("f"), 255}),
        Term(Pid{atom("nonode@nohost"), 0, 0, 0}), Term(Pid{atom("x@a.b.c"), 4294967295u, 8191, 4294967295u}),
        Term(Port{atom("x@y"), std::numeric_limits<std::uint64_t>::max(), 2}),
        Term(Ref{atom("x@y"), 9, 1, {42}}), Term(Ref{atom("x@y"), 9, 5, {1, 2, 3, 4, 5}}),
        sample_fun(),
    };
    for (const Term& t : terms) {
        std::string text = to_string(t);
        auto back = parse(text);
        ASSERT_TRUE(back.ok()) << text << ": " << back.error().what();
        EXPECT_EQ(*back, t) << text;
        auto pretty_back = parse(to_pretty_string(t));
        ASSERT_TRUE(pretty_back.ok()) << to_pretty_string(t);
        EXPECT_EQ(*pretty_back, t) << to_pretty_string(t);
    }
}

// ---------------------------------------------------------------------------------------------
// Property test against the real erl: random floats and atoms printed by both.

std::string run_escript(const std::string& script, const std::string& input) {
    char dir_template[] = "/tmp/edist_text_XXXXXX";
    const char* dir = mkdtemp(dir_template);
    if (!dir) return {};
    std::string base = dir;
    std::ofstream(base + "/s.escript") << script;
    std::ofstream(base + "/in.txt") << input;
    std::string cmd = "escript " + base + "/s.escript " + base + "/in.txt 2>&1";
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[65536];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        pclose(p);
    }
    std::remove((base + "/s.escript").c_str());
    std::remove((base + "/in.txt").c_str());
    rmdir(dir);
    return out;
}

bool have_erl() { return std::system("command -v escript >/dev/null 2>&1") == 0; }

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> v;
    std::istringstream is(s);
    for (std::string l; std::getline(is, l);) v.push_back(l);
    return v;
}

TEST(AgainstErl, RandomFloatsPrintAsErlPrintsThem) {
    if (!have_erl()) GTEST_SKIP() << "escript not installed";
    std::mt19937_64 rng(2024);
    std::vector<double> values;
    while (values.size() < 5000) {
        double d;
        std::uint64_t b = rng();
        switch (values.size() % 4) {
        case 0: std::memcpy(&d, &b, 8); break;
        case 1: d = std::ldexp(static_cast<double>(b % 100000000), static_cast<int>(rng() % 140) - 70); break;
        case 2: d = static_cast<double>(b % 100000) * std::pow(10.0, static_cast<int>(rng() % 44) - 22); break;
        default: d = static_cast<double>(b >> (rng() % 64)); break;
        }
        if (std::isfinite(d)) values.push_back(rng() % 2 ? -d : d);
    }
    std::string input;
    for (double d : values) {
        std::uint64_t b;
        std::memcpy(&b, &d, 8);
        input += std::to_string(b) + "\n";
    }
    const std::string script = R"(#!/usr/bin/env escript
main([F]) ->
    {ok, B} = file:read_file(F),
    [begin <<X/float>> = <<(binary_to_integer(L)):64>>, io:format("~w~n", [X]) end
     || L <- binary:split(B, <<"\n">>, [global, trim])].
)";
    auto erl = lines(run_escript(script, input));
    ASSERT_EQ(erl.size(), values.size());
    int mismatches = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::string ours = to_string(Term(values[i]));
        if (ours != erl[i] && ++mismatches < 10) ADD_FAILURE() << "erl " << erl[i] << " edist " << ours;
        EXPECT_EQ(parse(ours).value(), Term(values[i]));
    }
    EXPECT_EQ(mismatches, 0);
}

TEST(AgainstErl, RandomAtomsAreQuotedAndEscapedAsErlDoes) {
    if (!have_erl()) GTEST_SKIP() << "escript not installed";
    const std::vector<std::uint32_t> pool = {'a', 'b', 'z', 'A', 'Z', '0', '9', '_', '@', ' ', '.', '\'', '"', '\\',
                                             '\n', '\t', 0,   7,   27,  127, 128, 159, 160, 170, 181, 186, 192,
                                             215, 222, 223, 247, 255, 945, 0x1F600, 0xFEFF, '-', '$', '%'};
    const std::vector<std::string> words = {"after", "and", "maybe", "else", "cond", "let", "spec", "query",
                                            "begin", "end", "fun", "receive", "xor", "catch", "when"};
    std::mt19937 rng(99);
    std::vector<std::vector<std::uint32_t>> atoms_cps;
    for (int i = 0; i < 3000; ++i) {
        std::vector<std::uint32_t> cps;
        if (i < static_cast<int>(words.size())) {
            for (char c : words[i]) cps.push_back(static_cast<unsigned char>(c));
        } else {
            std::size_t n = rng() % 6;
            for (std::size_t k = 0; k < n; ++k) {
                // mostly name characters, so that unquoted atoms come up often
                cps.push_back(rng() % 3 ? "abcxyzAB09_@"[rng() % 12] : pool[rng() % pool.size()]);
            }
        }
        atoms_cps.push_back(cps);
    }
    std::string input;
    for (auto& cps : atoms_cps) {
        for (std::size_t k = 0; k < cps.size(); ++k) input += (k ? "," : "") + std::to_string(cps[k]);
        input += "\n";
    }
    const std::string script = R"(#!/usr/bin/env escript
main([F]) ->
    io:setopts([{encoding, unicode}]),
    {ok, B} = file:read_file(F),
    [begin
         Cps = [binary_to_integer(C) || C <- binary:split(L, <<",">>, [global, trim_all])],
         S = io_lib:format("~w", [list_to_atom(Cps)]),
         io:format("~ts~n", [S])
     end || L <- binary:split(B, <<"\n">>, [global])].
)";
    auto erl = lines(run_escript(script, input));
    ASSERT_GE(erl.size(), atoms_cps.size());
    int mismatches = 0;
    for (std::size_t i = 0; i < atoms_cps.size(); ++i) {
        std::string utf8;
        for (auto c : atoms_cps[i]) {
            Term one = list(Term(static_cast<std::int64_t>(c)));
            utf8 += one.as_string();
        }
        Term a(atom(utf8));
        std::string ours = to_string(a);
        if (ours != erl[i] && ++mismatches < 10) ADD_FAILURE() << "erl " << erl[i] << " edist " << ours;
        EXPECT_EQ(parse(ours).value(), a) << ours;
    }
    EXPECT_EQ(mismatches, 0);
}

TEST(AgainstErl, PrettyLayoutMatchesTpOnTypicalTerms) {
    if (!have_erl()) GTEST_SKIP() << "escript not installed";
    // Each term is written with ~tw (which parse() reads) and then with ~tp, for comparison.
    const std::string script = R"(#!/usr/bin/env escript
%%! +pc unicode
main(_) ->
    io:setopts([{encoding, unicode}]),
    Ts = [{a_very_long_tag_name_that_is_quite_long_indeed_yes, lists:duplicate(40, 1)},
          {a_very_long_tag_nam, lists:duplicate(40, 1), x},
          {1, lists:duplicate(40, 1), x},
          [a, b, {c}, d, e | lists:duplicate(35, 1) ++ [{}, #{}, <<>>, x]],
          [lists:duplicate(30, 1) | tail_atom_which_is_long_enough_to_not_fit_aaaaaaaaaaaaaaaaaaaaaaaaa],
          lists:duplicate(37, 1) ++ [1 | 2],
          {state, <<"some binary data here">>, [x, y, z], #{k => v}, "a string value", 12345678901234567890},
          #{aaaaaaaaaaaaaaaaaaaaaa => lists:seq(1, 30), bbbbbbbbbbbbbbbbbbbbbb => "hello world, a longish string"},
          [{x, lists:seq(1, 30)}, {error, {badmatch, lists:seq(1, 40)}}, #{a => lists:seq(1, 30), b => {y, []}}],
          [<<"\x{3b1}\x{3b2}"/utf8>>, "\x{65e5}\x{672c}", 'caf\x{e9}', <<255, 1:3>>, 1.0e-10, -0.0, [1, 2 | 3]],
          {reply, {ok, [{name, <<"alice">>}, {age, 42}, {tags, [<<"admin">>, <<"dev">>, <<"ops">>]},
                        {address, #{city => <<"Paris">>, zip => 75001}}]}, {state, 1, 2, 3}},
          [[[[[[[[lists:seq(1, 30)]]]]]]]]],
    [io:format("~tw~n~ts~n@@@~n", [T, io_lib:format("~tp", [T])]) || T <- Ts].
)";
    std::istringstream in(run_escript(script, ""));
    int terms = 0;
    for (std::string w; std::getline(in, w);) {
        std::string expected, l;
        for (bool first = true; std::getline(in, l) && l != "@@@"; first = false) expected += (first ? "" : "\n") + l;
        auto t = parse(w);
        ASSERT_TRUE(t.ok()) << w;
        EXPECT_EQ(to_pretty_string(*t), expected);
        ++terms;
    }
    EXPECT_EQ(terms, 12);
}

} // namespace
