// etf::encode: byte for byte what term_to_binary(T, [{minor_version, 2}]) gives in erl (the OTP
// 26 default), with the erl expression beside each byte string; encoded_size agreeing with
// encode_to; round trips; compression as term_to_binary's `compressed` option does it.
#include <edist/etf.hpp>
#include <edist/text.hpp>

#include "etf/term_impl.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace edist;
using namespace edist::literals;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::initializer_list<int> v) {
    Bytes out;
    for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
    return out;
}

struct Vector {
    const char* erl; // the expression erl encoded
    Bytes expected;
};

// term_to_binary(Expr, [{minor_version, 2}]) in erl 25, equal to OTP 26's default output.
std::vector<Vector> erl_vectors() {
    std::vector<Vector> v = {
        {"{ok,42,<<\"abc\">>}", bytes({131, 104, 3, 119, 2, 111, 107, 97, 42, 109, 0, 0, 0, 3, 97, 98, 99})},
        {"'héllo'", bytes({131, 119, 6, 104, 195, 169, 108, 108, 111})},
        {"-1", bytes({131, 98, 255, 255, 255, 255})},
        {"2147483647", bytes({131, 98, 127, 255, 255, 255})},
        {"2147483648", bytes({131, 110, 4, 0, 0, 0, 0, 128})},
        {"-9223372036854775808", bytes({131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128})},
        {"1 bsl 63", bytes({131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128})},
        {"(1 bsl 64) - 1", bytes({131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255})},
        {"1 bsl 64", bytes({131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
        {"-(1 bsl 64)", bytes({131, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
        {"3.14", bytes({131, 70, 64, 9, 30, 184, 81, 235, 133, 31})},
        {"-0.0", bytes({131, 70, 128, 0, 0, 0, 0, 0, 0, 0})},
        {"\"abc\"", bytes({131, 107, 0, 3, 97, 98, 99})},
        {"[1,2,300]", bytes({131, 108, 0, 0, 0, 3, 97, 1, 97, 2, 98, 0, 0, 1, 44, 106})},
        {"lists:seq(250,260)", bytes({131, 108, 0, 0, 0, 11, 97, 250, 97, 251, 97, 252, 97, 253, 97, 254, 97, 255,
                                      98, 0, 0, 1, 0, 98, 0, 0, 1, 1, 98, 0, 0, 1, 2, 98, 0, 0, 1, 3, 98, 0, 0, 1, 4,
                                      106})},
        {"[16#20AC]", bytes({131, 108, 0, 0, 0, 1, 98, 0, 0, 32, 172, 106})},
        {"[1|2]", bytes({131, 108, 0, 0, 0, 1, 97, 1, 97, 2})},
        {"[a|{b}]", bytes({131, 108, 0, 0, 0, 1, 119, 1, 97, 104, 1, 119, 1, 98})},
        {"[]", bytes({131, 106})},
        {"<<>>", bytes({131, 109, 0, 0, 0, 0})},
        {"<<0:64, 1>>", bytes({131, 109, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
        {"<<5:3>>", bytes({131, 77, 0, 0, 0, 1, 3, 160})},
        {"<<1,1:1>>", bytes({131, 77, 0, 0, 0, 2, 1, 1, 128})},
        {"#{a=>1,b=>[]}", bytes({131, 116, 0, 0, 0, 2, 119, 1, 97, 97, 1, 119, 1, 98, 106})},
        {"#{}", bytes({131, 116, 0, 0, 0, 0})},
        {"#{1=>a, 1.0=>b, \"s\"=>c, {t}=>d}",
         bytes({131, 116, 0, 0, 0, 4, 97, 1, 119, 1, 97, 70, 63, 240, 0, 0, 0, 0, 0, 0, 119, 1, 98, 104, 1, 119, 1,
                116, 119, 1, 100, 107, 0, 1, 115, 119, 1, 99})},
        {"maps:from_list([{list_to_atom([$k|integer_to_list(N)]), N} || N <- lists:seq(1,10)])",
         bytes({131, 116, 0, 0, 0, 10, 119, 2, 107, 49, 97, 1, 119, 3, 107, 49, 48, 97, 10, 119, 2, 107, 50, 97, 2,
                119, 2, 107, 51, 97, 3, 119, 2, 107, 52, 97, 4, 119, 2, 107, 53, 97, 5, 119, 2, 107, 54, 97, 6, 119,
                2, 107, 55, 97, 7, 119, 2, 107, 56, 97, 8, 119, 2, 107, 57, 97, 9})},
        {"{}", bytes({131, 104, 0})},
        {"fun lists:map/2", bytes({131, 113, 119, 5, 108, 105, 115, 116, 115, 119, 3, 109, 97, 112, 97, 2})},
        {"c:pid(0,85,3)", bytes({131, 88, 119, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0,
                                 0, 0, 85, 0, 0, 0, 3, 0, 0, 0, 0})},
        {"hd(erlang:ports())", bytes({131, 89, 119, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116,
                                      0, 0, 0, 0, 0, 0, 0, 0})},
        {"make_ref()", bytes({131, 90, 0, 3, 119, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0,
                              0, 0, 0, 0, 0, 198, 54, 94, 252, 0, 1, 69, 49, 203, 186})},
        {"[{a,[b,{c}]},#{k=>[<<1,2>>]}]",
         bytes({131, 108, 0, 0, 0, 2, 104, 2, 119, 1, 97, 108, 0, 0, 0, 2, 119, 1, 98, 104, 1, 119, 1, 99, 106, 116, 0,
                0, 0, 1, 119, 1, 107, 108, 0, 0, 0, 1, 109, 0, 0, 0, 2, 1, 2, 106, 106})},
        // fv:mk(7, foo) where mk(X, Y) -> fun(Z) -> {X, Y, Z} end.
        {"fv:mk(7, foo)", bytes({131, 112, 0, 0, 0, 75, 1, 110, 167, 204, 13, 194, 227, 125, 34, 76, 235, 217, 6, 209,
                                 74, 255, 178, 0, 0, 0, 0, 0, 0, 0, 2, 119, 2, 102, 118, 97, 0, 98, 3, 117, 62, 96, 88,
                                 119, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0, 0, 9, 0,
                                 0, 0, 0, 0, 0, 0, 0, 97, 7, 119, 3, 102, 111, 111})},
        // fun() -> ok end, compiled in module fv: no free variables.
        {"fun() -> ok end", bytes({131, 112, 0, 0, 0, 68, 0, 110, 167, 204, 13, 194, 227, 125, 34, 76, 235, 217, 6, 209,
                                   74, 255, 178, 0, 0, 0, 1, 0, 0, 0, 0, 119, 2, 102, 118, 97, 1, 98, 3, 117, 62, 96,
                                   88, 119, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0, 0,
                                   9, 0, 0, 0, 0, 0, 0, 0, 0})},
    };
    // erlang:make_tuple(256, x)
    Bytes big_tuple = {131, 105, 0, 0, 1, 0};
    for (int i = 0; i < 256; ++i) big_tuple.insert(big_tuple.end(), {119, 1, 120});
    v.push_back({"erlang:make_tuple(256, x)", big_tuple});
    // list_to_atom(lists:duplicate(100, 16#20AC)): 300 bytes of UTF-8.
    Bytes long_atom = {131, 118, 1, 44};
    for (int i = 0; i < 100; ++i) long_atom.insert(long_atom.end(), {226, 130, 172});
    v.push_back({"list_to_atom(lists:duplicate(100, 16#20AC))", long_atom});
    // 1 bsl 2100
    Bytes big = {131, 111, 0, 0, 1, 7, 0};
    big.resize(big.size() + 262, 0);
    big.push_back(16);
    v.push_back({"1 bsl 2100", big});
    return v;
}

Bytes encode_fresh(const Term& t) {
    Bytes out;
    etf::encode_to(out, t);
    return out;
}

} // namespace

TEST(EtfEncode, MatchesErlByteForByte) {
    for (const auto& [erl, expected] : erl_vectors()) {
        auto decoded = etf::decode(expected);
        ASSERT_TRUE(decoded) << erl << ": " << decoded.error().what();
        EXPECT_EQ(etf::encode(*decoded), expected) << erl;
    }
}

TEST(EtfEncode, EncodedSizeAgreesWithEncodeTo) {
    for (const auto& [erl, expected] : erl_vectors()) {
        Term t = *etf::decode(expected);
        EXPECT_EQ(etf::encoded_size(t), expected.size() - 1) << erl;
        EXPECT_EQ(encode_fresh(t).size(), etf::encoded_size(t)) << erl;
    }
}

TEST(EtfEncode, EncodesConstructedTermsAsErlDoes) {
    // {ok,42,<<"abc">>}
    EXPECT_EQ(etf::encode(tuple("ok"_a, 42, binary("abc"))),
              bytes({131, 104, 3, 119, 2, 111, 107, 97, 42, 109, 0, 0, 0, 3, 97, 98, 99}));
    // [1|[2]] built through list_from is [1,2]: term_to_binary([1,2]) is a STRING_EXT.
    EXPECT_EQ(etf::encode(list_from({Term(1)}, list(2))), bytes({131, 107, 0, 2, 1, 2}));
    EXPECT_EQ(etf::encode(Term(255)), bytes({131, 97, 255}));
    EXPECT_EQ(etf::encode(Term(256)), bytes({131, 98, 0, 0, 1, 0}));
    EXPECT_EQ(etf::encode(Term(-2147483648LL)), bytes({131, 98, 128, 0, 0, 0}));
    EXPECT_EQ(etf::encode(Term(-2147483649LL)), bytes({131, 110, 4, 1, 1, 0, 0, 128})); // -2147483649
    EXPECT_EQ(etf::encode(Term(true)), bytes({131, 119, 4, 't', 'r', 'u', 'e'}));
}

TEST(EtfEncode, ByteListsLongerThan65535UseListExt) {
    // lists:duplicate(65536, 1) is a LIST_EXT of SMALL_INTEGER_EXTs; 65535 still a STRING_EXT.
    Bytes at_limit = etf::encode(list_from(std::vector<Term>(65535, Term(1))));
    EXPECT_EQ(at_limit[1], 107);
    EXPECT_EQ(at_limit.size(), 1u + 3 + 65535);
    Bytes over = etf::encode(list_from(std::vector<Term>(65536, Term(1))));
    EXPECT_EQ(over[1], 108);
    EXPECT_EQ(over.size(), 1u + 5 + 2 * 65536 + 1);
    // An improper byte list is never a STRING_EXT: [1,2|3]
    EXPECT_EQ(etf::encode(list_from({Term(1), Term(2)}, Term(3))),
              bytes({131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3}));
}

TEST(EtfEncode, PortsPastTwentyEightBitsUseV4PortExt) {
    Port small{"n@h"_a, (1u << 28) - 1, 1};
    Port wide{"n@h"_a, 1u << 28, 1};
    EXPECT_EQ(etf::encode(Term(small))[1], 89);
    Bytes v4 = etf::encode(Term(wide));
    EXPECT_EQ(v4, bytes({131, 120, 119, 3, 'n', '@', 'h', 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(*etf::decode(v4), Term(wide));
}

TEST(EtfEncode, ReferencesKeepAllWords) {
    Ref r{"n@h"_a, 9, 5, {1, 2, 3, 4, 5}};
    Bytes b = etf::encode(Term(r));
    EXPECT_EQ(b, bytes({131, 90, 0, 5, 119, 3, 'n', '@', 'h', 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0,
                        0, 4, 0, 0, 0, 5}));
    EXPECT_EQ(*etf::decode(b), Term(r));
}

TEST(EtfEncode, DeprecatedTagsComeBackInTheirModernForm) {
    // ATOM_EXT 'héllo' (term_to_binary('héllo', [{minor_version, 1}])) re-encodes as UTF-8.
    Term a = *etf::decode(bytes({131, 100, 0, 5, 104, 233, 108, 108, 111}));
    EXPECT_EQ(etf::encode(a), bytes({131, 119, 6, 104, 195, 169, 108, 108, 111}));
    // FLOAT_EXT 3.14 (minor_version 0) re-encodes as NEW_FLOAT_EXT.
    Bytes old_float = {131, 99, 51, 46, 49, 52, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 49, 50, 52,
                       51, 52, 101, 43, 48, 48, 0, 0, 0, 0, 0};
    EXPECT_EQ(etf::encode(*etf::decode(old_float)), bytes({131, 70, 64, 9, 30, 184, 81, 235, 133, 31}));
}

TEST(EtfEncode, RoundTripsEveryKind) {
    FunData fd;
    fd.arity = 2;
    fd.uniq[3] = 9;
    fd.index = 4;
    fd.module = "m"_a;
    fd.old_index = Term(1);
    fd.old_uniq = Term(BigInt::from_uint64(1ull << 40));
    fd.pid = Term(Pid{"n@h"_a, 1, 2, 3});
    fd.free_vars = {Term(1), list(tuple(), map({{1, 2}})), binary("x")};
    std::vector<Term> terms = {
        Term(),
        Term(0),
        Term(std::numeric_limits<std::int64_t>::max()),
        Term(std::numeric_limits<std::int64_t>::min()),
        Term(BigInt::from_string("-123456789012345678901234567890").value()),
        Term(1.5e300),
        Term("atom"_a),
        binary(std::string(1000, 'z')),
        bitstring(bytes({0xFF, 0xFF}), 13),
        list_from({Term(1), Term("a"_a)}, binary("tail")),
        tuple(1, tuple(2, tuple(3)), list()),
        map({{"k"_a, map({{list(1), Term(1.0)}})}, {1, 2}}),
        Term(Export{"erlang"_a, "node"_a, 0}),
        fun(fd),
        Term(Pid{"a@b"_a, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}),
    };
    for (const Term& t : terms) {
        Bytes b = etf::encode(t);
        EXPECT_EQ(b.size(), 1 + etf::encoded_size(t)) << t;
        auto back = etf::decode(b);
        ASSERT_TRUE(back) << t << ": " << back.error().what();
        EXPECT_EQ(*back, t);
        EXPECT_EQ(etf::encode(*back), b) << t;
    }
}

TEST(EtfEncode, LargeBinariesAmidOtherTermsEncodeExactly) {
    Term t = list(binary(std::string(100'000, 'a')), "x"_a, binary(std::string(40'000, 'b')), 1, tuple());
    Bytes b = etf::encode(t);
    EXPECT_EQ(b.size(), 1 + etf::encoded_size(t));
    EXPECT_EQ(*etf::decode(b), t);
    Bytes appended = {7};
    etf::encode_to(appended, t);
    EXPECT_EQ(Bytes(appended.begin() + 1, appended.end()), Bytes(b.begin() + 1, b.end()));
}

TEST(EtfEncode, TermsOnEitherSideOfTheStackBufferEncodeExactly) {
    // encode() writes into a 4 KB buffer on the stack first and moves to the heap when that
    // fills; encode_to() then appends after what the vector held.
    for (std::size_t len = 3'900; len < 4'300; len += 13) {
        Term t = tuple("ok"_a, list(1, -1000, 2.5, binary(std::string(len, 'z'))), map({{"k"_a, 7}}), "x"_a);
        Bytes b = etf::encode(t);
        ASSERT_EQ(b.size(), 1 + etf::encoded_size(t)) << len;
        EXPECT_EQ(*etf::decode(b), t) << len;
        Bytes appended = {7, 8, 9};
        etf::encode_to(appended, t);
        EXPECT_EQ(Bytes(appended.begin() + 3, appended.end()), Bytes(b.begin() + 1, b.end())) << len;
    }
}

TEST(EtfEncode, FunSizeIsRightWhenTheFunCrossesTheStackBuffer) {
    // NEW_FUN_EXT's Size is patched after the free variables: here they carry the encoding from
    // the stack buffer to the heap in between.
    for (std::size_t len : {10u, 4'000u, 5'000u, 40'000u}) {
        FunData fd;
        fd.module = "m"_a;
        fd.old_index = Term(1);
        fd.old_uniq = Term(2);
        fd.pid = Term(Pid{"n@h"_a, 1, 2, 3});
        fd.free_vars = {binary(std::string(len, 'f')), Term(7)};
        Term t = tuple(binary(std::string(100, 'p')), fun(fd));
        Bytes b = etf::encode(t);
        EXPECT_EQ(b.size(), 1 + etf::encoded_size(t)) << len;
        auto back = etf::decode(b);
        ASSERT_TRUE(back) << len << ": " << back.error().what();
        EXPECT_EQ(*back, t) << len;
        Bytes appended = {1};
        etf::encode_to(appended, t);
        EXPECT_EQ(Bytes(appended.begin() + 1, appended.end()), Bytes(b.begin() + 1, b.end())) << len;
    }
}

TEST(EtfEncode, NestedTuplesMapsAndListsEncodeExactlyAtAnyDepth) {
    // Past a couple of dozen levels encode() hands sub-terms to its general walk.
    Term t = binary("leaf");
    for (int i = 0; i < 200; ++i) {
        if (i % 3 == 0) t = tuple(i, std::move(t), 1.5);
        else if (i % 3 == 1) t = map({{Term(i), std::move(t)}});
        else t = list("a"_a, std::move(t));
    }
    Bytes b = etf::encode(t);
    EXPECT_EQ(b.size(), 1 + etf::encoded_size(t));
    EXPECT_EQ(*etf::decode(b), t);
}

TEST(EtfEncode, EncodeToAppendsWithoutVersionByte) {
    Bytes out = {1, 2};
    etf::encode_to(out, Term("a"_a));
    etf::encode_to(out, Term(5));
    EXPECT_EQ(out, bytes({1, 2, 119, 1, 97, 97, 5}));
}

TEST(EtfEncode, DeepNestingEncodesWithoutRecursion) {
    // 1,000,000 nested one-element lists, built bottom-up.
    Term t;
    for (int i = 0; i < 1'000'000; ++i) t = list(std::move(t));
    EXPECT_EQ(etf::encoded_size(t), 1'000'000u * 6 + 1);
    Bytes b = etf::encode(t);
    etf::DecodeOptions opts;
    opts.max_depth = 1'000'000;
    auto back = etf::decode(b, opts);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, t);
}

// --- Compression ----------------------------------------------------------------------------

TEST(EtfEncode, CompressesLikeTermToBinaryCompressed) {
    etf::EncodeOptions opts;
    opts.compression_level = 6;
    // term_to_binary(lists:duplicate(100,a), [compressed, {minor_version, 2}])
    EXPECT_EQ(etf::encode(list_from(std::vector<Term>(100, Term("a"_a))), opts),
              bytes({131, 80, 0, 0, 1, 50, 120, 156, 203, 97, 96, 96, 72, 41, 103, 76, 28, 69, 68, 162, 44, 0, 46, 63,
                     85, 255}));
}

TEST(EtfEncode, KeepsPlainFormWhenCompressionDoesNotHelp) {
    etf::EncodeOptions opts;
    opts.compression_level = 6;
    // term_to_binary(a, [compressed]) is <<131,119,1,97>>.
    EXPECT_EQ(etf::encode(Term("a"_a), opts), bytes({131, 119, 1, 97}));
    Term t = tuple("ok"_a, 42, binary("abc"));
    EXPECT_EQ(etf::encode(t, opts), etf::encode(t));
    opts.compression_level = 0; // {compressed, 0}: stored deflate is never smaller
    EXPECT_EQ(etf::encode(list_from(std::vector<Term>(100, Term("a"_a))), opts)[1], 108);
}

TEST(EtfEncode, CompressedOutputDecodesBack) {
    etf::EncodeOptions opts;
    opts.compression_level = 9;
    std::vector<Term> ints;
    for (int i = 0; i < 5000; ++i) ints.emplace_back(i);
    Term t = tuple(list_from(ints), binary(std::string(100000, 'q')));
    Bytes b = etf::encode(t, opts);
    EXPECT_EQ(b[1], 80);
    EXPECT_LT(b.size(), etf::encoded_size(t) / 10);
    EXPECT_EQ(*etf::decode(b), t);
}

// encode_to with a list for shared binaries (term_to_iovec): the binaries at or over the size
// are listed, not copied, and the pieces put together are encode_to's bytes, for terms deep
// enough to leave the encoder's recursive walk too.
TEST(EtfEncode, SharedBinariesAreListedInPlaceOfTheirBytes) {
    std::vector<std::uint8_t> big(300), small(99);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 13);
    Term parent = binary(std::span<const std::uint8_t>(big));
    auto decoded_from_binary = etf::decode(binary(std::span<const std::uint8_t>(etf::encode(parent))));
    ASSERT_TRUE(decoded_from_binary); // a binary sharing the storage of another
    Term deep = list(binary(std::span<const std::uint8_t>(big)));
    for (int i = 0; i < 40; ++i) deep = tuple(i, deep);
    const Term terms[] = {
        parent,
        tuple("ok"_a, parent, binary(std::span<const std::uint8_t>(small)), parent),
        *decoded_from_binary,
        bitstring(std::span<const std::uint8_t>(big), big.size() * 8 - 3), // bit strings are copied
        deep,
        list(parent, parent, parent),
    };
    for (const Term& t : terms) {
        std::vector<std::uint8_t> copied{1, 2, 3}, out{1, 2, 3};
        etf::encode_to(copied, t);
        std::vector<etf::SharedBinary> shared;
        etf::encode_to(out, t, shared, 100);
        std::vector<std::uint8_t> joined;
        std::size_t at = 0, listed = 0;
        for (const auto& s : shared) {
            ASSERT_GE(s.offset, at) << to_string(t);
            ASSERT_GE(s.bytes.size(), 100u);
            joined.insert(joined.end(), out.begin() + static_cast<std::ptrdiff_t>(at),
                          out.begin() + static_cast<std::ptrdiff_t>(s.offset));
            joined.insert(joined.end(), s.bytes.begin(), s.bytes.end());
            EXPECT_EQ(s.owner.as_binary().data(), s.bytes.data()); // the owner holds these bytes
            at = s.offset;
            listed += s.bytes.size();
        }
        joined.insert(joined.end(), out.begin() + static_cast<std::ptrdiff_t>(at), out.end());
        EXPECT_EQ(joined, copied) << to_string(t);
        EXPECT_EQ(out.size() + listed, copied.size());
        const bool has_whole_binary = !(t.is_bitstring() && t.bit_size() % 8 != 0);
        EXPECT_EQ(shared.empty(), !has_whole_binary) << to_string(t);
    }
}

// NEW_FUN_EXT's Size counts the fun's free variables, binaries listed for sharing included:
// the pieces put together must still be what encode_to writes (a receiver checks that Size).
TEST(EtfEncode, FunSizeCountsSharedBinariesInItsFreeVariables) {
    FunData fd;
    fd.module = "m"_a;
    fd.old_index = Term(1);
    fd.old_uniq = Term(2);
    fd.pid = Term(Pid{"n@h"_a, 1, 2, 3});
    fd.free_vars = {binary(std::string(300, 'f')), Term(7), tuple(binary(std::string(200, 'g')))};
    for (const Term& t : {fun(fd), tuple(binary(std::string(150, 'p')), fun(fd)), list(fun(fd), fun(fd))}) {
        std::vector<std::uint8_t> copied{1, 2, 3}, out{1, 2, 3};
        etf::encode_to(copied, t);
        std::vector<etf::SharedBinary> shared;
        etf::encode_to(out, t, shared, 100);
        ASSERT_FALSE(shared.empty());
        std::vector<std::uint8_t> joined;
        std::size_t at = 0;
        for (const auto& s : shared) {
            joined.insert(joined.end(), out.begin() + static_cast<std::ptrdiff_t>(at),
                          out.begin() + static_cast<std::ptrdiff_t>(s.offset));
            joined.insert(joined.end(), s.bytes.begin(), s.bytes.end());
            at = s.offset;
        }
        joined.insert(joined.end(), out.begin() + static_cast<std::ptrdiff_t>(at), out.end());
        EXPECT_EQ(joined, copied) << to_string(t);
        Bytes versioned = {131};
        versioned.insert(versioned.end(), joined.begin() + 3, joined.end());
        auto back = etf::decode(versioned);
        ASSERT_TRUE(back) << back.error().what();
        EXPECT_EQ(*back, t);
    }
}
