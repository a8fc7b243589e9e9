// to_pretty_string's layout rules, each against what erl prints: ~tp under +pc unicode.
// Every expected string was printed by OTP 25's erl with this escript, one term per case:
//
//   #!/usr/bin/env escript
//   %% -*- coding: utf-8 -*-
//   %%! +pc unicode
//   main(_) -> io:setopts([{encoding, unicode}]), io:format("~ts~n", [io_lib:format("~tp", [T])]).
//
// with T the Erlang term shown in each test (the same text is what the test parses).
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

using namespace edist;

namespace {

Term parsed(std::string_view text) {
    auto r = parse(text);
    EXPECT_TRUE(r.ok()) << text;
    return r.ok() ? *r : Term(atom("parse_failed"));
}

std::string pretty(std::string_view text) { return to_pretty_string(parsed(text)); }

// T = [<<1,2>>, a, b, <<3,4>>, c, lists:seq(1,20), d, e, f, g, h, i, j]
TEST(PrettyLayout, BinariesOfBytesTakeALineOfTheirOwnWhenTheContainerBreaks) {
    EXPECT_EQ(pretty("[<<1,2>>,a,b,<<3,4>>,c,[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],d,e,f,g,h,i,j]"),
              "[<<1,2>>,\n"
              " a,b,\n"
              " <<3,4>>,\n"
              " c,\n"
              " [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],\n"
              " d,e,f,g,h,i,j]");
}

// T = #{a => <<1,2>>, b => 1, c => 2, d => <<3>>, e => aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}
TEST(PrettyLayout, MapPairsWithByteBinaryValuesTakeALineOfTheirOwn) {
    EXPECT_EQ(pretty("#{a => <<1,2>>, b => 1, c => 2, d => <<3>>, e => aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}"),
              "#{a => <<1,2>>,\n"
              "  b => 1,c => 2,\n"
              "  d => <<3>>,\n"
              "  e => aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}");
}

// T = list_to_binary(lists:seq(100, 140))
TEST(PrettyLayout, LongByteBinariesWrapAtTheLineLength) {
    std::string bytes = "<<";
    for (int b = 100; b <= 140; ++b) bytes += std::to_string(b) + (b < 140 ? "," : ">>");
    EXPECT_EQ(pretty(bytes),
              "<<100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,\n"
              "  119,120,121,122,123,124,125,126,127,128,129,130,131,132,133,134,135,136,137,\n"
              "  138,139,140>>");
}

// T = {ok, list_to_binary(lists:seq(1, 45))}
TEST(PrettyLayout, ByteBinariesWrapUnderTheColumnTheyStartAt) {
    std::string bytes = "{ok,<<";
    for (int b = 1; b <= 45; ++b) bytes += std::to_string(b) + (b < 45 ? "," : ">>}");
    EXPECT_EQ(pretty(bytes),
              "{ok,<<1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,\n"
              "      28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45>>}");
}

// T = ["αβγδεζηθικ","λμνξοπρστυ","φχψωαβγδεζ","ηθικλμνξοπ","ρστυφχψω",ab]
// (69 characters, 113 bytes: it fits because a character is one column)
TEST(PrettyLayout, NonAsciiCharactersCountAsOneColumnEach) {
    EXPECT_EQ(pretty(R"(["αβγδεζηθικ","λμνξοπρστυ","φχψωαβγδεζ","ηθικλμνξοπ","ρστυφχψω",ab])"),
              R"(["αβγδεζηθικ","λμνξοπρστυ","φχψωαβγδεζ","ηθικλμνξοπ","ρστυφχψω",ab])");
    // T = ["αβγδεζηθικ","λμνξοπρστυ","φχψωαβγδεζ","ηθικλμνξοπ","ρστυφχψω",abcdefghijklmn]
    EXPECT_EQ(pretty(R"(["αβγδεζηθικ","λμνξοπρστυ","φχψωαβγδεζ","ηθικλμνξοπ","ρστυφχψω",abcdefghijklmn])"),
              "[\"αβγδεζηθικ\",\"λμνξοπρστυ\",\"φχψωαβγδεζ\",\"ηθικλμνξοπ\",\"ρστυφχψω\",\n"
              " abcdefghijklmn]");
}

// T = {a_rather_long_record_tag, {another_quite_long_tag_name,
//          [{key_one, lists:seq(1, 12)}, {key_two, [x, y]}]}}
TEST(PrettyLayout, TaggedTuplesIndentFourColumnsWhenAfterTheTagWouldPassHalfTheLine) {
    EXPECT_EQ(pretty("{a_rather_long_record_tag,{another_quite_long_tag_name,"
                     "[{key_one,[1,2,3,4,5,6,7,8,9,10,11,12]},{key_two,[x,y]}]}}"),
              "{a_rather_long_record_tag,\n"
              "    {another_quite_long_tag_name,\n"
              "        [{key_one,[1,2,3,4,5,6,7,8,9,10,11,12]},{key_two,[x,y]}]}}");
}

// T = {a_rather_long_record_tag_xx, {another_quite_long_tag_name,
//          {third_tag_that_is_long, lists:seq(1, 25)}}}
TEST(PrettyLayout, TaggedTupleIndentationAppliesAtEveryLevel) {
    EXPECT_EQ(pretty("{a_rather_long_record_tag_xx,{another_quite_long_tag_name,{third_tag_that_is_long,"
                     "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25]}}}"),
              "{a_rather_long_record_tag_xx,\n"
              "    {another_quite_long_tag_name,\n"
              "        {third_tag_that_is_long,\n"
              "            [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,\n"
              "             25]}}}");
}

} // namespace
