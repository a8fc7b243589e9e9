// parse() against erl_scan:string + erl_parse:parse_term on a table of texts: the same ones are
// accepted, and what is accepted reads as the same term (compared by edist's ETF bytes of
// both, so 1 and 1.0 or <<1>> and <<1:8>> differences show). The table covers what an audit
// found parse() and erl disagreeing on, plus the neighbours of each case.
#include "interop/erl_runner.hpp"

#include <edist/etf.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace edist;
using namespace edist::test;

const std::vector<std::string> texts = {
    // Parentheses around terms, and a sign on a parenthesised number only.
    "(1)", "((a))", "{(a)}", "[1,(2)]", "[1|(2)]", "-(5)", "- (5)", "-((5))", "+(5)", "(-5)", "(- 1)",
    "-(1.0)", "-($a)", "-(16#10)", "( 1 ).", "(\"a\")", "(<<1>>)", "(#{})", "(fun a:b/1)",
    "#{(a)=>(1)}", "-(-1)", "-(a)", "- - 1", "-(-(1))", "()", "(1", "1)", "(1)(2)", "fun (a):b/1",
    "fun a:b/(1)", "(#{a=>1})#{b=>2}",
    // Whitespace and comments after '#'.
    "# {a=>1}", "#%c\n{a=>1}", "#\n{}", "# {}",
    // Arity literals.
    "fun lists:map/16#2", "fun lists:map/ 1_0", "fun lists:map/16#FF", "fun lists:map/ %c\n 2",
    "fun lists:map/256", "fun lists:map/$a", "fun lists:map/-1", "fun lists:map/2.0", "fun lists:map/2",
    // Latin-1 white space (U+0080 to U+00A0) between tokens; U+00A1 is no white space.
    "\xc2\xa0" "a", "a\xc2\x85", "\xc2\x80" "1", "\xc2\x9f[\xc2\xa0" "1\xc2\xa0,2]", "{a,\xc2\xa0" "b}",
    "\xc2\xa1" "a", "$\xc2\xa0", "1\xc2\xa0.", "\xe2\x80\xa8" "a",
    // Surrogates and U+FFFE, U+FFFF: erl_scan's illegal characters, however written.
    "$\\x{D800}", "\"\\x{D800}\"", "\"\\x{DFFF}\"", "$\\x{DFFF}", "'\\x{D800}'", "$\\x{FFFE}", "$\\x{FFFF}",
    "'\\x{FFFE}'", "\"\\x{FFFF}\"", "\"\xef\xbf\xbe\"", "$\xef\xbf\xbf", "'\xef\xbf\xbf'", "%\xef\xbf\xbe\na",
    "\"\\x{FFFD}\"", "\"\\x{10000}\"", "\"\\x{10FFFF}\"", "\"\\x{110000}\"",
    // Binary segments as eval_bits builds them.
    "<<(1)>>", "<<(-1)>>", "<<-(1)>>", "<<- 1>>", "<<+1>>", "<<1:16/little>>", "<<-1:16/little>>", "<<1/float>>",
    "<<1.0/float>>", "<<-1/float>>", "<<(-1.5)/float>>", "<<-(1.5)/float>>", "<<$a/float>>", "<<-0.0/float>>",
    "<<\"a\":8>>", "<<\"a\":16>>", "<<\"a\" \"b\":16>>", "<<$a:16>>", "<<1/signed>>", "<<-1:8/signed>>",
    "<<1:8/big>>", "<<1:8/big-big>>", "<<1:16/native>>", "<<1:8/native>>", "<<1:2/unit:4>>",
    "<<1:2/integer-unit:4>>", "<<1:1/unit:16#10>>", "<<1:3/little-unit:8>>", "<<1 : 8 / little - unit : 8>>",
    "<<1/'little'>>", "<<945/utf16>>", "<<945/utf16-little>>", "<<945/utf32>>", "<<945/little-utf32>>",
    "<<945/utf32-native>>", "<<16#1F600/utf16>>", "<<16#1F600/utf16-little>>", "<<16#1F600/utf8>>",
    "<<16#FFFE/utf8>>", "<<1/utf8-little>>", "<<$a/utf8>>", "<<1:undefined/utf8>>", "<<\"ab\"/utf16>>",
    "<<\"ab\"/utf32-little>>", "<<\"ab\"/float>>", "<<\"\":8>>", "<<\"\"/float>>", "<<\"\":20/unit:8>>", "<<(\"a\")>>",
    "<<(\"a\"):16>>", "<< <<1>>/binary >>", "<<(<<1>>)/binary>>", "<< <<1,2>>:1/binary >>",
    "<< <<1:4>>/bits >>", "<< <<1:4>>/bitstring >>", "<< <<1:12>>:1/bits >>", "<< <<1,2>>/bytes >>",
    "<< <<1,2>>:all/binary >>", "<< <<1:4>>/binary-unit:4 >>", "<< <<1:4>>:all/bits >>",
    "<< <<1,2,3>>:2/binary-unit:4 >>", "<< <<1>>/binary, <<2:4>>/bits, 3:4 >>", "<<1:16#10>>", "<<1:$a>>",
    "<<1:(8)>>", "<<1:(+8)>>", "<<1:0>>", "<<16#ABC:12/little>>", "<<16#ABCDE:20/little>>",
    "<<-1:12/little>>", "<<16#ABC:12/native>>", "<<16#ABC:12/big>>", "<<1:4/little>>",
    "<<1.5:16/float>>", "<<1.5:32/float>>", "<<1.5:32/float-little>>", "<<1.0:16/float-little>>",
    "<<1.0/float-native>>", "<<1:16/float>>", "<<1:1/float-unit:16>>", "<<1.0:8/float-unit:8>>",
    "<<1.0:4/float-unit:4>>", "<<70000.0:16/float>>", "<<65504.0:16/float>>", "<<65519.0:16/float>>",
    "<<65520.0:16/float>>", "<<1.0e-8:16/float>>", "<<1.0e-5:16/float>>", "<<6.0e-8:16/float>>",
    "<<2.9e-8:16/float>>", "<<3.0e-8:16/float>>", "<<0.1:16/float>>", "<<-0.0:16/float>>",
    "<<1.0e300:32/float>>", "<<3.4028235e38:32/float>>", "<<3.4028236e38:32/float>>", "<<0.1:32/float>>",
    "<<1.0e-50:32/float>>", "<<(1152921504606846977)/float>>", "<<18446744073709551615/float>>",
    "<<123456789012345678901234567890123/float>>", "<<-123456789012345678901234567890123:32/float>>",
    "<<123456789012345678901234567890123:100>>", "<<-123456789012345678901234567890123:100/little>>",
    // ...and what erl refuses there too.
    "<<1:8/float>>", "<<1:0/float>>", "<<1:8/utf8>>", "<<1:0/utf8>>", "<<1/utf8-unit:8>>", "<<\"a\"/utf8:8>>",
    "<<1:(-1)>>", "<<1:-8>>", "<<1:+8>>", "<<1:1.0>>", "<<1:a>>", "<<1:all>>", "<<1:undefined>>", "<<1.0>>",
    "<<(1.5)>>", "<<1/unit:8>>", "<<1/integer-unit:8>>", "<<1.0/float-unit:8>>", "<<1:8/unit:257>>",
    "<<1:8/unit:0>>", "<<1:8/unit:1-unit:2>>", "<<1:8/integer-float>>", "<<1:8/big-little>>",
    "<<1:8/signed-unsigned>>", "<<1:8/foo>>", "<<\"ab\"/binary>>", "<<\"\"/binary>>", "<<\"a\"/bits>>",
    "<<\"a\":8/binary>>", "<< <<1,2>>:3/binary >>", "<< <<1:4>>/binary >>", "<< <<1>> >>", "<<(<<1>>)>>",
    "<<1:all/binary>>", "<<1/binary>>", "<<1.0/utf8>>", "<<-1/utf8>>", "<<16#110000/utf32>>",
    "<<16#D800/utf32>>", "<<16#D800/utf16>>", "<<16#D800/utf8>>", "<<[97]>>", "<<a>>", "<<fun a:b/1>>",
    "<<#{}>>", "<<(#{})>>", "<<-(-1)>>", "<<(1):(8)/(integer)>>", "<<(1 bsl 1100)/float>>",
    "<<1:9223372036854775808>>",
    // Unchanged behaviour nearby.
    "<<>>", "<<1,2>>", "<<\"a\">>", "<<\"\xce\xb1\xce\xb2\"/utf8>>", "<<\"\xce\xb1\xce\xb2\">>", "<<945/utf8>>",
    "<<1:4,2:4>>", "<<1:3>>", "<<300>>", "<<-1>>", "<<1:16>>", "<<256:9>>", "<<1:64>>", "<<1,>>", "<<,>>",
    "#{a=>1}", "#{a:=1}", "- 5", "-16#10", "$\\n", "[1|2]", "{}", "'a'", "a.", "fun 'A':'b c'/0",
};

TEST(TextParseAgainstErl, EveryTextParsesAsErlParseTermReadsIt) {
    if (!erl_available()) GTEST_SKIP() << "erl not on PATH";
    TempDir dir;
    std::vector<Blob> in;
    for (const auto& t : texts) in.emplace_back(t.begin(), t.end());
    write_blobs(dir / "texts", in);
    auto r = run_escript(test_data("text_parse.escript"), {(dir / "texts").string(), (dir / "results").string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto results = read_blobs(dir / "results");
    ASSERT_EQ(results.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto erl = etf::decode(results[i]);
        ASSERT_TRUE(erl.ok()) << texts[i];
        bool erl_ok = erl->is_tuple();
        auto ours = parse(texts[i]);
        if (!erl_ok) {
            EXPECT_FALSE(ours.ok()) << "erl refuses " << texts[i] << " but edist reads " << to_string(*ours);
            if (!ours.ok()) {
                EXPECT_EQ(ours.error().reason(), atoms::badarg) << texts[i];
            }
            continue;
        }
        const Term& expected = erl->as_tuple()[1];
        if (!ours.ok()) {
            ADD_FAILURE() << "erl reads " << texts[i] << " as " << to_string(expected) << ", edist refuses it: "
                          << ours.error().what();
            continue;
        }
        EXPECT_EQ(etf::encode(*ours), etf::encode(expected))
            << texts[i] << "\n  erl:   " << to_string(expected) << "\n  edist: " << to_string(*ours);
    }
}

} // namespace
