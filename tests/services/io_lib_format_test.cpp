// io_lib::format against erl: every expected string below is what OTP 25's
// io_lib:format(Format, Args) returned (flattened, as UTF-8) for the erl expression in the comment
// above it. Format and Args are written as Erlang terms and read with edist::parse.
#include <edist/io_lib.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace edist;
using namespace edist::literals;

Term term(const char* erlang_text) {
    auto t = parse(erlang_text);
    if (!t) ADD_FAILURE() << "test term does not parse: " << erlang_text << ": " << t.error().what();
    return t ? *t : Term();
}

// The expected text as an array, so an embedded NUL is part of it.
template <std::size_t N>
void expect_format(const char* fmt, const char* args, const char (&expected_text)[N]) {
    std::string expected(expected_text, N - 1);
    auto r = io_lib::format(term(fmt), term(args));
    ASSERT_TRUE(r.ok()) << "io_lib:format(" << fmt << ", " << args << ") failed: " << r.error().what();
    EXPECT_EQ(*r, expected) << "io_lib:format(" << fmt << ", " << args << ")";
}

void expect_badarg(const char* fmt, const char* args) {
    auto r = io_lib::format(term(fmt), term(args));
    ASSERT_FALSE(r.ok()) << "io_lib:format(" << fmt << ", " << args << ") gave " << *r;
    EXPECT_EQ(r.error().reason(), atoms::badarg) << r.error().what();
}

} // namespace

TEST(IoLibFormat, CharacterRepeatsToFieldWidthAndPadsToPrecision) {
    // io_lib:format("~c|~5c|~-5.2.xc|~5.2c|", [$a, $b, $c, $d])
    expect_format(R"erl("~c|~5c|~-5.2.xc|~5.2c|")erl", R"erl([$a, $b, $c, $d])erl",
                  "a|bbbbb|ccxxx|   dd|");
    // io_lib:format("~tc~c", [945, 945])
    expect_format(R"erl("~tc~c")erl", R"erl([945, 945])erl",
                  "\316\261\302\261");
    // io_lib:format("~c", [-1])
    expect_format(R"erl("~c")erl", R"erl([-1])erl",
                  "\303\277");
    // io_lib:format("~2.5c", [$a])
    expect_badarg(R"erl("~2.5c")erl", R"erl([$a])erl");
}

TEST(IoLibFormat, TildeAndNewlineRepeatToFieldWidth) {
    // io_lib:format("~~~5~|~n~3n|", [])
    expect_format(R"erl("~~~5~|~n~3n|")erl", R"erl([])erl",
                  "~~~~~~|\n\n\n\n|");
    // io_lib:format("~-3n", [])
    expect_badarg(R"erl("~-3n")erl", R"erl([])erl");
}

TEST(IoLibFormat, FixedFloatsRoundDigitsAndFillTooNarrowFieldsWithStars) {
    // io_lib:format("~f|~.2f|~10.3f|~-10.3f|~10.3.0f|", [3.14159, 2.5, -1.0e-3, 1.5, 2.25])
    expect_format(R"erl("~f|~.2f|~10.3f|~-10.3f|~10.3.0f|")erl", R"erl([3.14159, 2.5, -1.0e-3, 1.5, 2.25])erl",
                  "3.141590|2.50|    -0.001|1.500     |000002.250|");
    // io_lib:format("~.1f|~.3f|~.2f", [0.05, 0.0005, 0.995])
    expect_format(R"erl("~.1f|~.3f|~.2f")erl", R"erl([0.05, 0.0005, 0.995])erl",
                  "0.1|0.001|0.99");
    // io_lib:format("~.0f", [1.0])
    expect_badarg(R"erl("~.0f")erl", R"erl([1.0])erl");
    // io_lib:format("~f", [1])
    expect_badarg(R"erl("~f")erl", R"erl([1])erl");
    // io_lib:format("~3.1f|~4f", [123.456, 1.0])
    expect_format(R"erl("~3.1f|~4f")erl", R"erl([123.456, 1.0])erl",
                  "***|****");
}

TEST(IoLibFormat, ExponentAndGeneralFloatForms) {
    // io_lib:format("~e|~.2e|~12.3e|~-12.3e|", [1.0, 9.99, 123456.0, -0.0])
    expect_format(R"erl("~e|~.2e|~12.3e|~-12.3e|")erl", R"erl([1.0, 9.99, 123456.0, -0.0])erl",
                  "1.00000e+0|1.0e+1|     1.23e+5|-0.00e+0    |");
    // io_lib:format("~.1e", [1.0])
    expect_badarg(R"erl("~.1e")erl", R"erl([1.0])erl");
    // io_lib:format("~g|~g|~g|~g|~.3g|~.1g|~10.2g|", [0.5, 123.456, 1.0e10, 1.0e-5, 3.14159, 0.5, 99.9])
    expect_format(R"erl("~g|~g|~g|~g|~.3g|~.1g|~10.2g|")erl", R"erl([0.5, 123.456, 1.0e10, 1.0e-5, 3.14159, 0.5, 99.9])erl",
                  "0.500000|123.456|1.00000e+10|1.00000e-5|3.14|0.5|    1.0e+2|");
}

TEST(IoLibFormat, StringsPadTruncateAndAcceptAtomsBinariesAndIoLists) {
    // io_lib:format("~s|~10s|~-10s|~3s|~10.3s|~.3s|~10.5.*s|", ["abc", "abc", "abc", "abcdef", "abcdef", "a", $_, "ab"])
    expect_format(R"erl("~s|~10s|~-10s|~3s|~10.3s|~.3s|~10.5.*s|")erl", R"erl(["abc", "abc", "abc", "abcdef", "abcdef", "a", $_, "ab"])erl",
                  "abc|       abc|abc       |abc|       abc|a  |_____ab___|");
    // io_lib:format("~s ~s ~s", [abc, <<"bin">>, ["de", [$f | <<"g">>]]])
    expect_format(R"erl("~s ~s ~s")erl", R"erl([abc, <<"bin">>, ["de", [$f | <<"g">>]]])erl",
                  "abc bin defg");
    // io_lib:format("~s", [[256]])
    expect_badarg(R"erl("~s")erl", R"erl([[256]])erl");
    // io_lib:format("~5.10s", ["a"])
    expect_badarg(R"erl("~5.10s")erl", R"erl(["a"])erl");
    // io_lib:format("~10.4.*s|", [$., "abcdef"])
    expect_format(R"erl("~10.4.*s|")erl", R"erl([$., "abcdef"])erl",
                  "......abcd|");
    // io_lib:format("~s", [[1.0]])
    expect_badarg(R"erl("~s")erl", R"erl([[1.0]])erl");
}

TEST(IoLibFormat, UnicodeStringsCountGraphemesAndDecodeUtf8) {
    // io_lib:format("~ts|~5ts|~2ts", [[945,946], "αβ", [101,769,97,98]])
    expect_format(R"erl("~ts|~5ts|~2ts")erl", R"erl([[945,946], "αβ", [101,769,97,98]])erl",
                  "\316\261\316\262|   \316\261\316\262|e\314\201a");
    // io_lib:format("~s", [<<"é"/utf8>>])
    expect_format(R"erl("~s")erl", R"erl([<<"é"/utf8>>])erl",
                  "\303\203\302\251");
    // io_lib:format("~ts", [<<"é"/utf8>>])
    expect_format(R"erl("~ts")erl", R"erl([<<"é"/utf8>>])erl",
                  "\303\251");
    // io_lib:format("~ts", [<<255,0>>])
    expect_format(R"erl("~ts")erl", R"erl([<<255,0>>])erl",
                  "\303\277\000");
    // io_lib:format("~s", ['é'])
    expect_format(R"erl("~s")erl", R"erl(['é'])erl",
                  "\303\251");
    // io_lib:format("~ts", [[16#110000]])
    expect_badarg(R"erl("~ts")erl", R"erl([[16#110000]])erl");
}

TEST(IoLibFormat, WriteFieldsAndDepthLimits) {
    // io_lib:format("~w|~5w|~-5w|~3w|~5.3w|~tw", [{a, "b"}, 1, x, 123456, 123456, 'α'])
    expect_format(R"erl("~w|~5w|~-5w|~3w|~5.3w|~tw")erl", R"erl([{a, "b"}, 1, x, 123456, 123456, 'α'])erl",
                  "{a,[98]}|    1|x    |***|  ***|'\316\261'");
    // io_lib:format("~w", ['α'])
    expect_format(R"erl("~w")erl", R"erl(['α'])erl",
                  "'\\x{3B1}'");
    // io_lib:format("~W|~W|~W|~W", [[1,2,3,4,5], 3, {a,{b,{c}}}, 2, #{a => 1, b => 2, c => 3}, 2, <<1,2,3,4>>, 3])
    expect_format(R"erl("~W|~W|~W|~W")erl", R"erl([[1,2,3,4,5], 3, {a,{b,{c}}}, 2, #{a => 1, b => 2, c => 3}, 2, <<1,2,3,4>>, 3])erl",
                  "[1,2|...]|{a,...}|#{a => 1,...}|<<1,2,...>>");
    // io_lib:format("~W", [x, 0])
    expect_format(R"erl("~W")erl", R"erl([x, 0])erl",
                  "...");
    // io_lib:format("~w", [12345678901234567890123])
    expect_format(R"erl("~w")erl", R"erl([12345678901234567890123])erl",
                  "12345678901234567890123");
    // io_lib:format("~w~n", [[1|2]])
    expect_format(R"erl("~w~n")erl", R"erl([[1|2]])erl",
                  "[1|2]\n");
    // io_lib:format("~p ~w", [-0.0, 1.0e100])
    expect_format(R"erl("~p ~w")erl", R"erl([-0.0, 1.0e100])erl",
                  "-0.0 1.0e100");
    // io_lib:format("~.3W", [[a,b,c], 2])
    expect_format(R"erl("~.3W")erl", R"erl([[a,b,c], 2])erl",
                  "***");
}

TEST(IoLibFormat, PrettyPrintStringsBinariesAndLineBreaks) {
    // io_lib:format("~p", [[{a, "hello"}, <<"bin">>, 3.5]])
    expect_format(R"erl("~p")erl", R"erl([[{a, "hello"}, <<"bin">>, 3.5]])erl",
                  "[{a,\"hello\"},<<\"bin\">>,3.5]");
    // io_lib:format("~p", [[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40], {a_long_atom_name, another_long_atom, "and a string here"}]])
    expect_format(R"erl("~p")erl", R"erl([[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40], {a_long_atom_name, another_long_atom, "and a string here"}]])erl",
                  "[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,\n  29,30,31,32,33,34,35,36,37,38,39,40],\n {a_long_atom_name,another_long_atom,\"and a string here\"}]");
    // io_lib:format("~lp|~p", ["abc", "abc"])
    expect_format(R"erl("~lp|~p")erl", R"erl(["abc", "abc"])erl",
                  "[97,98,99]|\"abc\"");
    // io_lib:format("~p", [[945]])
    expect_format(R"erl("~p")erl", R"erl([[945]])erl",
                  "[945]");
    // io_lib:format("~tp|~p", ['α', 'α'])
    expect_format(R"erl("~tp|~p")erl", R"erl(['α', 'α'])erl",
                  "'\316\261'|'\\x{3B1}'");
    // io_lib:format("~p", [[{key, value}, {k2, #{a => 1, b => [x, y, z]}}]])
    expect_format(R"erl("~p")erl", R"erl([[{key, value}, {k2, #{a => 1, b => [x, y, z]}}]])erl",
                  "[{key,value},{k2,#{a => 1,b => [x,y,z]}}]");
    // io_lib:format("~p", [<<1,2,3:5>>])
    expect_format(R"erl("~p")erl", R"erl([<<1,2,3:5>>])erl",
                  "<<1,2,3:5>>");
    // io_lib:format("~p", [[<<"abc">>, <<0,1>>, <<"a\nb">>]])
    expect_format(R"erl("~p")erl", R"erl([[<<"abc">>, <<0,1>>, <<"a\nb">>]])erl",
                  "[<<\"abc\">>,<<0,1>>,<<\"a\\nb\">>]");
}

TEST(IoLibFormat, PrettyPrintDepthColumnAndLineLength) {
    // io_lib:format("~P", [[1,2,3,4,5,6], 4])
    expect_format(R"erl("~P")erl", R"erl([[1,2,3,4,5,6], 4])erl",
                  "[1,2,3|...]");
    // io_lib:format("~P", [{a, [1,2,3], "str", <<"binary">>}, 3])
    expect_format(R"erl("~P")erl", R"erl([{a, [1,2,3], "str", <<"binary">>}, 3])erl",
                  "{a,[...],...}");
    // io_lib:format("abc ~p", [{aaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccccc, d}])
    expect_format(R"erl("abc ~p")erl", R"erl([{aaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccccc, d}])erl",
                  "abc {aaaaaaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,\n                              cccccccccccccccccccccccccccc,d}");
    // io_lib:format("~30p", [{aaaaaaaaa, bbbbbbbbbbb, ccccccccc, ddddddddddddd}])
    expect_format(R"erl("~30p")erl", R"erl([{aaaaaaaaa, bbbbbbbbbbb, ccccccccc, ddddddddddddd}])erl",
                  "{aaaaaaaaa,bbbbbbbbbbb,\n           ccccccccc,\n           ddddddddddddd}");
    // io_lib:format("~-p", [a])
    expect_badarg(R"erl("~-p")erl", R"erl([a])erl");
    // io_lib:format("~.2p", [{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb}])
    expect_format(R"erl("~.2p")erl", R"erl([{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb}])erl",
                  "{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,\n     bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb}");
}

TEST(IoLibFormat, IntegersInAnyBaseWithPrefixes) {
    // io_lib:format("~b|~B|~.16B|~.16b|~8.2.0B|~-8.16B|~3B|", [255, 255, 255, 255, 5, 255, 12345])
    expect_format(R"erl("~b|~B|~.16B|~.16b|~8.2.0B|~-8.16B|~3B|")erl", R"erl([255, 255, 255, 255, 5, 255, 12345])erl",
                  "255|255|FF|ff|00000101|FF      |***|");
    // io_lib:format("~x|~X|~.16x|~.16X|", [255, "0x", 255, 'X', 255, "0x", -255, "#"])
    expect_format(R"erl("~x|~X|~.16x|~.16X|")erl", R"erl([255, "0x", 255, 'X', 255, "0x", -255, "#"])erl",
                  "0x255|X255|0xff|-#FF|");
    // io_lib:format("~+|~#|~.16+|~.16#|~10.2#", [10, 10, 255, 255, 5])
    expect_format(R"erl("~+|~#|~.16+|~.16#|~10.2#")erl", R"erl([10, 10, 255, 255, 5])erl",
                  "10#10|10#10|16#ff|16#FF|     2#101");
    // io_lib:format("~.37B", [1])
    expect_badarg(R"erl("~.37B")erl", R"erl([1])erl");
    // io_lib:format("~B", [1.0])
    expect_badarg(R"erl("~B")erl", R"erl([1.0])erl");
    // io_lib:format("~8.16.0B", [-255])
    expect_format(R"erl("~8.16.0B")erl", R"erl([-255])erl",
                  "00000-FF");
}

TEST(IoLibFormat, StarTakesWidthPrecisionAndPadFromArguments) {
    // io_lib:format("~i~w", [ignored, shown])
    expect_format(R"erl("~i~w")erl", R"erl([ignored, shown])erl",
                  "shown");
    // io_lib:format("~*c|~-*c|~*.*f|~.*.*c", [3, $x, 3, $y, 8, 2, 3.14159, 3, $-, $z])
    expect_format(R"erl("~*c|~-*c|~*.*f|~.*.*c")erl", R"erl([3, $x, 3, $y, 8, 2, 3.14159, 3, $-, $z])erl",
                  "xxx|yyy|    3.14|zzz");
}

TEST(IoLibFormat, ArgumentCountAndUnknownControlsAreBadarg) {
    // io_lib:format("~w ~w", [1])
    expect_badarg(R"erl("~w ~w")erl", R"erl([1])erl");
    // io_lib:format("~w", [1, 2])
    expect_badarg(R"erl("~w")erl", R"erl([1, 2])erl");
    // io_lib:format("~q", [1])
    expect_badarg(R"erl("~q")erl", R"erl([1])erl");
    // io_lib:format("~5", [])
    expect_badarg(R"erl("~5")erl", R"erl([])erl");
}

TEST(IoLibFormat, FormatMayBeBinaryOrAtom) {
    // io_lib:format(<<"~w bin">>, [1])
    expect_format(R"erl(<<"~w bin">>)erl", R"erl([1])erl",
                  "1 bin");
    // io_lib:format('atom ~w', [1])
    expect_format(R"erl('atom ~w')erl", R"erl([1])erl",
                  "atom 1");
}

TEST(IoLibFormat, PidsOfTheLocalNodePrintAsErlPrintsLocalPids) {
    io_lib::FormatOptions opts;
    opts.local_node = Atom("a@host");
    Term pid = Term(Pid{Atom("a@host"), 80, 0, 3});
    auto r = io_lib::format(string("~w ~p"), list(pid, pid), opts);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "<0.80.0> <0.80.0>");
}

TEST(IoLibFormat, DeepTermsDoNotExhaustTheStack) {
    Term deep;
    for (int i = 0; i < 200000; ++i) deep = list(deep);
    auto w = io_lib::format(string("~w"), list(deep));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->size(), 400002u);
    auto limited = io_lib::format(string("~W"), list(deep, 3));
    ASSERT_TRUE(limited.ok());
    EXPECT_EQ(*limited, "[[[...]]]");
    auto p = io_lib::format(string("~p"), list(deep));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().reason(), atoms::system_limit);
}

TEST(IoLibFormat, BadFormatsAndArgumentsAreBadargNotExceptions) {
    EXPECT_FALSE(io_lib::format(Term(42), Term()).ok());
    EXPECT_FALSE(io_lib::format(string("~w"), Term(1)).ok());                  // args not a list
    EXPECT_FALSE(io_lib::format(list_from({Term('~'), Term('w')}, Term(1)), list(1)).ok()); // improper
    EXPECT_FALSE(io_lib::format(string("~*c"), list(1LL << 40, 'a')).ok());   // absurd width
    // io_lib:format("~5.*.*c", [3, x, $a]) is badarg; with no width the pad is never used.
    EXPECT_FALSE(io_lib::format(string("~5.*.*c"), list(3, "x"_a, 'a')).ok());
    EXPECT_EQ(io_lib::format(string("~.*.*c"), list(3, "x"_a, 'a')).value(), "aaa");
}
