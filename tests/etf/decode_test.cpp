// etf::decode: what binary_to_term gives for bytes real erl produced, and how every kind of bad
// input is refused. Byte strings come from erl 25 (the expression is in the comment; atoms as
// OTP 26 sends them, with [{minor_version, 2}]); hand-made ones say so.
#include <edist/etf.hpp>
#include <edist/text.hpp> // operator<<, so failures show terms in Erlang syntax

#include "etf/term_impl.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
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

Term ok(const Bytes& b, const etf::DecodeOptions& opts = {}) {
    auto r = etf::decode(b, opts);
    if (!r) ADD_FAILURE() << "decode failed: " << r.error().what();
    return r ? *r : Term();
}

// The decode error's message, or "" when decoding succeeded.
std::string err(const Bytes& b, const etf::DecodeOptions& opts = {}) {
    auto r = etf::decode(b, opts);
    if (r) return "";
    EXPECT_EQ(r.error().reason(), atoms::badarg) << r.error().what();
    return r.error().what();
}

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes nonode() { return bytes({119, 13, 'n', 'o', 'n', 'o', 'd', 'e', '@', 'n', 'o', 'h', 'o', 's', 't'}); }

Bytes zlib_compress(const Bytes& plain) {
    uLongf len = compressBound(static_cast<uLong>(plain.size()));
    Bytes out(len);
    EXPECT_EQ(compress2(out.data(), &len, plain.data(), static_cast<uLong>(plain.size()), 6), Z_OK);
    out.resize(len);
    return out;
}

// 131, 80, Size, zlib data.
Bytes compressed_term(std::uint32_t declared, const Bytes& zdata) {
    Bytes out = {131, 80, static_cast<std::uint8_t>(declared >> 24), static_cast<std::uint8_t>(declared >> 16),
                 static_cast<std::uint8_t>(declared >> 8), static_cast<std::uint8_t>(declared)};
    return cat(out, zdata);
}

} // namespace

// --- What erl sends --------------------------------------------------------------------------

TEST(EtfDecode, DecodesOkTupleWithBinary) {
    // {ok,42,<<"abc">>}
    EXPECT_EQ(ok(bytes({131, 104, 3, 119, 2, 111, 107, 97, 42, 109, 0, 0, 0, 3, 97, 98, 99})),
              tuple("ok"_a, 42, binary("abc")));
}

TEST(EtfDecode, DecodesIntegersOfEverySize) {
    EXPECT_EQ(ok(bytes({131, 97, 255})), Term(255));
    EXPECT_EQ(ok(bytes({131, 98, 255, 255, 255, 255})), Term(-1));             // -1
    EXPECT_EQ(ok(bytes({131, 110, 4, 0, 0, 0, 0, 128})), Term(2147483648LL));   // 2147483648
    EXPECT_EQ(ok(bytes({131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128})),           // -9223372036854775808
              Term(std::numeric_limits<std::int64_t>::min()));
    Term u64max = ok(bytes({131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255})); // 1 bsl 64 - 1
    EXPECT_FALSE(u64max.is_int64());
    EXPECT_EQ(u64max, Term(std::numeric_limits<std::uint64_t>::max()));
    Term two64 = ok(bytes({131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})); // 1 bsl 64
    EXPECT_EQ(two64.as_bigint().to_string(), "18446744073709551616");
    Term neg = ok(bytes({131, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1})); // -(1 bsl 64)
    EXPECT_EQ(neg.as_bigint().to_string(), "-18446744073709551616");
}

TEST(EtfDecode, BigThatFitsInt64BecomesASmallInteger) {
    // Hand-made: 1 as an 8-byte SMALL_BIG_EXT with zero padding; erl reads 1.
    Term t = ok(bytes({131, 110, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_TRUE(t.is_int64());
    EXPECT_EQ(t, Term(1));
    // LARGE_BIG_EXT with 12 bytes whose top 4 are zero.
    EXPECT_EQ(ok(bytes({131, 111, 0, 0, 0, 12, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})), Term(-5));
    // A zero-length big is 0, a "negative zero" too (erl agrees).
    EXPECT_EQ(ok(bytes({131, 110, 0, 1})), Term(0));
}

TEST(EtfDecode, DecodesLargeBig) {
    // 1 bsl 2100: LARGE_BIG_EXT with 263 digit bytes.
    Bytes b = {131, 111, 0, 0, 1, 7, 0};
    b.resize(b.size() + 262, 0);
    b.push_back(16);
    Term t = ok(b);
    EXPECT_EQ(t.as_bigint().le_byte_count(), 263u);
    EXPECT_EQ(t.as_bigint().limbs().back(), 1u << 20);
}

TEST(EtfDecode, DecodesFloats) {
    EXPECT_EQ(ok(bytes({131, 70, 64, 9, 30, 184, 81, 235, 133, 31})), Term(3.14)); // 3.14
    Term nz = ok(bytes({131, 70, 128, 0, 0, 0, 0, 0, 0, 0}));                      // -0.0
    EXPECT_TRUE(std::signbit(nz.as_double()));
    // term_to_binary(3.14, [{minor_version, 0}]): FLOAT_EXT's "%.20e" text.
    EXPECT_EQ(ok(bytes({131, 99, 51, 46, 49, 52, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 49, 50, 52,
                        51, 52, 101, 43, 48, 48, 0, 0, 0, 0, 0})),
              Term(3.14));
}

TEST(EtfDecode, DecodesAtomsInEveryEncoding) {
    EXPECT_EQ(ok(bytes({131, 119, 6, 104, 195, 169, 108, 108, 111})), Term("héllo"_a)); // 'héllo'
    // term_to_binary('héllo', [{minor_version, 1}]): ATOM_EXT in Latin-1.
    EXPECT_EQ(ok(bytes({131, 100, 0, 5, 104, 233, 108, 108, 111})), Term("héllo"_a));
    // Hand-made SMALL_ATOM_EXT (115), Latin-1 as well.
    EXPECT_EQ(ok(bytes({131, 115, 2, 233, 97})), Term("éa"_a));
    // list_to_atom(lists:duplicate(100, 16#20AC)): 300 bytes, so ATOM_UTF8_EXT.
    Bytes b = {131, 118, 1, 44};
    std::string euros;
    for (int i = 0; i < 100; ++i) {
        b.insert(b.end(), {226, 130, 172});
        euros += "\u20AC";
    }
    EXPECT_EQ(ok(b), Term(Atom(euros)));
}

TEST(EtfDecode, LatinOneAtomOf255HighCharactersFits) {
    Bytes b = {131, 115, 255};
    b.resize(b.size() + 255, 0xFF); // 'ÿÿÿ...': 510 bytes of UTF-8
    Term t = ok(b);
    EXPECT_EQ(t.as_atom().name().size(), 510u);
}

TEST(EtfDecode, DecodesListsStringsAndNil) {
    EXPECT_EQ(ok(bytes({131, 106})), Term());                                  // []
    EXPECT_EQ(ok(bytes({131, 107, 0, 3, 97, 98, 99})), string("abc"));         // "abc"
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 3, 97, 1, 97, 2, 98, 0, 0, 1, 44, 106})), list(1, 2, 300)); // [1,2,300]
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 1, 97, 1, 97, 2})), list_from({Term(1)}, Term(2)));          // [1|2]
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 1, 119, 1, 97, 104, 1, 119, 1, 98})),                       // [a|{b}]
              list_from({Term("a"_a)}, tuple("b"_a)));
    EXPECT_EQ(ok(bytes({131, 107, 0, 0})), Term()); // hand-made empty STRING_EXT: erl reads []
}

TEST(EtfDecode, ListTailThatIsAListIsFlattened) {
    // Hand-made [1 | [2]] as two LIST_EXTs; erl reads [1,2], and so must == here.
    Term t = ok(bytes({131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106}));
    EXPECT_EQ(t, list(1, 2));
    EXPECT_EQ(t.as_list().size(), 2u);
    // [1 | "\3\4"]: a STRING_EXT tail (erl: [1,3,4]).
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 3, 4})), list(1, 3, 4));
    // [1 | [2 | x]]
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 119, 1, 120})),
              list_from({Term(1), Term(2)}, "x"_a));
}

TEST(EtfDecode, EmptyListExtIsItsTail) {
    // binary_to_term(<<131,108,0,0,0,0,97,5>>) =:= 5 in erl.
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 0, 97, 5})), Term(5));
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 0, 106})), Term());
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 0, 108, 0, 0, 0, 1, 97, 2, 106})), list(1, 2));
}

TEST(EtfDecode, LongChainOfListTailsDecodesInLinearTime) {
    // 200,000 one-element LIST_EXTs each the tail of the previous: [0 | [1 | [2 | ...]]].
    constexpr int n = 200'000;
    Bytes b = {131};
    for (int i = 0; i < n; ++i) b.insert(b.end(), {108, 0, 0, 0, 1, 97, static_cast<std::uint8_t>(i)});
    b.push_back(106);
    auto start = std::chrono::steady_clock::now();
    Term t = ok(b);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(t.is_proper_list());
    EXPECT_EQ(t.as_list().size(), std::size_t(n));
    EXPECT_EQ(t.as_list().elements[n - 1], Term((n - 1) % 256));
    EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(EtfDecode, DecodesTuplesMapsAndNesting) {
    EXPECT_EQ(ok(bytes({131, 104, 0})), tuple()); // {}
    Bytes big = {131, 105, 0, 0, 1, 0};          // erlang:make_tuple(256, x)
    for (int i = 0; i < 256; ++i) big.insert(big.end(), {119, 1, 120});
    EXPECT_EQ(ok(big).tuple_size(), 256u);
    EXPECT_EQ(ok(bytes({131, 116, 0, 0, 0, 0})), map({})); // #{}
    // #{a=>1,b=>[]}
    EXPECT_EQ(ok(bytes({131, 116, 0, 0, 0, 2, 119, 1, 97, 97, 1, 119, 1, 98, 106})),
              map({{"a"_a, 1}, {"b"_a, Term()}}));
    // #{1=>a, 1.0=>b, "s"=>c, {t}=>d}
    EXPECT_EQ(ok(bytes({131, 116, 0, 0, 0, 4, 97, 1, 119, 1, 97, 70, 63, 240, 0, 0, 0, 0, 0, 0, 119, 1, 98, 104, 1,
                        119, 1, 116, 119, 1, 100, 107, 0, 1, 115, 119, 1, 99})),
              map({{1, "a"_a}, {1.0, "b"_a}, {string("s"), "c"_a}, {tuple("t"_a), "d"_a}}));
    // [{a,[b,{c}]},#{k=>[<<1,2>>]}]
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 2, 104, 2, 119, 1, 97, 108, 0, 0, 0, 2, 119, 1, 98, 104, 1, 119, 1, 99,
                        106, 116, 0, 0, 0, 1, 119, 1, 107, 108, 0, 0, 0, 1, 109, 0, 0, 0, 2, 1, 2, 106, 106})),
              list(tuple("a"_a, list("b"_a, tuple("c"_a))), map({{"k"_a, list(binary("\x01\x02"))}})));
}

TEST(EtfDecode, UnsortedMapIsSortedByKey) {
    // Hand-made #{b=>1, a=>2} with the pairs out of order.
    Term m = ok(bytes({131, 116, 0, 0, 0, 2, 119, 1, 98, 97, 1, 119, 1, 97, 97, 2}));
    EXPECT_EQ(m.as_map().key(0), Term("a"_a));
    EXPECT_EQ(m, map({{"a"_a, 2}, {"b"_a, 1}}));
}

namespace {
// A map of atom keys (as SMALL_ATOM_UTF8_EXT, in the order given) to the integers 1, 2, ...
Bytes atom_map_bytes(const std::vector<std::string>& keys) {
    Bytes b = {131, 116, 0, 0, 0, static_cast<std::uint8_t>(keys.size())};
    int value = 0;
    for (const std::string& k : keys) {
        b.push_back(119);
        b.push_back(static_cast<std::uint8_t>(k.size()));
        b.insert(b.end(), k.begin(), k.end());
        b.insert(b.end(), {97, static_cast<std::uint8_t>(++value)});
    }
    return b;
}
} // namespace

TEST(EtfDecode, MapWithTheKeysOfAnEarlierMapInAnotherOrderIsStillSorted) {
    EXPECT_EQ(ok(atom_map_bytes({"k_a", "k_b", "k_c"})), map({{"k_a"_a, 1}, {"k_b"_a, 2}, {"k_c"_a, 3}}));
    EXPECT_EQ(ok(atom_map_bytes({"k_a", "k_c", "k_b"})), map({{"k_a"_a, 1}, {"k_b"_a, 3}, {"k_c"_a, 2}}));
    EXPECT_EQ(ok(atom_map_bytes({"k_a", "k_b", "k_c"})), map({{"k_a"_a, 1}, {"k_b"_a, 2}, {"k_c"_a, 3}}));
    EXPECT_EQ(err(atom_map_bytes({"k_a", "k_b", "k_b"})), "duplicate map key at offset 1");
    EXPECT_EQ(err(atom_map_bytes({"k_a", "k_a", "k_c"})), "duplicate map key at offset 1");
}

TEST(EtfDecode, AtomKeysOrderByTheirBytesAcrossWordBoundaries) {
    // Sorted as OTP sends them: a name before every name it is a prefix of, and names that
    // differ only in their 8th, 9th, 16th or 17th byte.
    std::vector<std::string> sorted = {"abcdefg",          std::string("abcdefg\0", 8), "abcdefgh",
                                       "abcdefgh_",        "abcdefgi",          "abcdefghijklmno",
                                       "abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnoq",
                                       "\xc3\xa9"};
    std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
            return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
        });
    });
    std::vector<std::pair<Term, Term>> pairs;
    for (std::size_t i = 0; i < sorted.size(); ++i) pairs.emplace_back(atom(sorted[i]), static_cast<int>(i + 1));
    EXPECT_EQ(ok(atom_map_bytes(sorted)), map_from(pairs));
    std::vector<std::string> reversed(sorted.rbegin(), sorted.rend());
    Term m = ok(atom_map_bytes(reversed));
    ASSERT_EQ(m.as_map().size(), sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(m.as_map().key(i), Term(atom(sorted[i])));
}

TEST(EtfDecode, DecodesBinariesAndBitStrings) {
    EXPECT_EQ(ok(bytes({131, 109, 0, 0, 0, 0})), binary("")); // <<>>
    Term bits = ok(bytes({131, 77, 0, 0, 0, 1, 3, 160}));     // <<5:3>>
    EXPECT_EQ(bits.bit_size(), 3u);
    EXPECT_EQ(bits, bitstring(bytes({0xA0}), 3));
    EXPECT_EQ(ok(bytes({131, 77, 0, 0, 0, 2, 1, 1, 128})).bit_size(), 9u); // <<1,1:1>>
    // Hand-made: Bits = 8 means a whole last byte, a plain binary (erl agrees).
    EXPECT_EQ(ok(bytes({131, 77, 0, 0, 0, 1, 8, 255})), binary("\xFF"));
    // Hand-made BIT_BINARY_EXT <<7:3>> with garbage in the unused low bits.
    EXPECT_EQ(ok(bytes({131, 77, 0, 0, 0, 1, 3, 0xFF})), bitstring(bytes({0xE0}), 3));
}

TEST(EtfDecode, DecodesPidsPortsRefsAndExports) {
    // c:pid(0,85,3)
    EXPECT_EQ(ok(cat(cat(bytes({131, 88}), nonode()), bytes({0, 0, 0, 85, 0, 0, 0, 3, 0, 0, 0, 0}))),
              Term(Pid{"nonode@nohost"_a, 85, 3, 0}));
    // hd(erlang:ports())
    EXPECT_EQ(ok(cat(cat(bytes({131, 89}), nonode()), bytes({0, 0, 0, 0, 0, 0, 0, 0}))),
              Term(Port{"nonode@nohost"_a, 0, 0}));
    // make_ref()
    Term ref = ok(cat(cat(bytes({131, 90, 0, 3}), nonode()),
                      bytes({0, 0, 0, 0, 0, 0, 198, 54, 94, 252, 0, 1, 69, 49, 203, 186})));
    EXPECT_EQ(ref, Term(Ref{"nonode@nohost"_a, 0, 3, {0xC636, 0x5EFC0001, 0x4531CBBA}}));
    // fun lists:map/2
    EXPECT_EQ(ok(bytes({131, 113, 119, 5, 108, 105, 115, 116, 115, 119, 3, 109, 97, 112, 97, 2})),
              Term(Export{"lists"_a, "map"_a, 2}));
    // Hand-made V4_PORT_EXT with a 64-bit id.
    EXPECT_EQ(ok(cat(cat(bytes({131, 120}), nonode()), bytes({0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 7}))),
              Term(Port{"nonode@nohost"_a, 0x100000002ull, 7}));
}

TEST(EtfDecode, DecodesDeprecatedIdentifierTags) {
    // Hand-made, in the layouts OTP before 23 emitted (erl 25 still reads them all).
    Bytes old_node = bytes({100, 0, 13, 'n', 'o', 'n', 'o', 'd', 'e', '@', 'n', 'o', 'h', 'o', 's', 't'});
    EXPECT_EQ(ok(cat(cat(bytes({131, 103}), old_node), bytes({0, 0, 0, 85, 0, 0, 0, 3, 2}))), // PID_EXT
              Term(Pid{"nonode@nohost"_a, 85, 3, 2}));
    EXPECT_EQ(ok(cat(cat(bytes({131, 102}), old_node), bytes({0, 0, 0, 9, 1}))), // PORT_EXT
              Term(Port{"nonode@nohost"_a, 9, 1}));
    Ref one{"nonode@nohost"_a, 2, 1, {77}};
    EXPECT_EQ(ok(cat(cat(bytes({131, 101}), old_node), bytes({0, 0, 0, 77, 2}))), Term(one)); // REFERENCE_EXT
    Ref three{"nonode@nohost"_a, 1, 3, {1, 2, 3}};
    EXPECT_EQ(ok(cat(cat(bytes({131, 114, 0, 3}), old_node), bytes({1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}))),
              Term(three)); // NEW_REFERENCE_EXT
}

TEST(EtfDecode, DecodesLocalFunWithFreeVariables) {
    // fv:mk(7, foo) where mk(X, Y) -> fun(Z) -> {X, Y, Z} end.
    Bytes b = bytes({131, 112, 0, 0, 0, 75, 1, 110, 167, 204, 13, 194, 227, 125, 34, 76, 235, 217, 6, 209, 74,
                     255, 178, 0, 0, 0, 0, 0, 0, 0, 2, 119, 2, 102, 118, 97, 0, 98, 3, 117, 62, 96, 88, 119, 13,
                     110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0,
                     0, 0, 97, 7, 119, 3, 102, 111, 111});
    Term t = ok(b);
    ASSERT_EQ(t.kind(), Kind::Fun);
    const FunData& f = t.as_fun();
    EXPECT_EQ(f.arity, 1);
    EXPECT_EQ(f.uniq[0], 110);
    EXPECT_EQ(f.index, 0u);
    EXPECT_EQ(f.module, "fv"_a);
    EXPECT_EQ(f.old_index, Term(0));
    EXPECT_EQ(f.old_uniq, Term(58015328));
    EXPECT_EQ(f.pid, Term(Pid{"nonode@nohost"_a, 9, 0, 0}));
    ASSERT_EQ(f.free_vars.size(), 2u);
    EXPECT_EQ(f.free_vars[0], Term(7));
    EXPECT_EQ(f.free_vars[1], Term("foo"_a));
}

TEST(EtfDecode, RejectsFunWhoseSizeFieldDisagrees) {
    Bytes b = bytes({131, 112, 0, 0, 0, 74, 1, 110, 167, 204, 13, 194, 227, 125, 34, 76, 235, 217, 6, 209, 74,
                     255, 178, 0, 0, 0, 0, 0, 0, 0, 2, 119, 2, 102, 118, 97, 0, 98, 3, 117, 62, 96, 88, 119, 13,
                     110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0,
                     0, 0, 97, 7, 119, 3, 102, 111, 111});
    EXPECT_NE(err(b).find("fun Size 74"), std::string::npos);
}

TEST(EtfDecode, ResolvesAtomCacheReferences) {
    Atom table[] = {"zero"_a, "one"_a};
    etf::AtomCacheRefs refs{table};
    etf::DecodeOptions opts;
    opts.atom_cache = &refs;
    EXPECT_EQ(ok(bytes({131, 104, 2, 82, 1, 82, 0}), opts), tuple("one"_a, "zero"_a));
    EXPECT_NE(err(bytes({131, 82, 2}), opts).find("atom cache index 2 out of range"), std::string::npos);
    EXPECT_NE(err(bytes({131, 82, 0})).find("without an atom cache"), std::string::npos);
    // Node names inside pids may be cache references too.
    EXPECT_EQ(ok(bytes({131, 88, 82, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}), opts), Term(Pid{"zero"_a, 1, 2, 3}));
}

// --- Sharing --------------------------------------------------------------------------------

TEST(EtfDecode, LargeBinaryFromABinaryTermPointsIntoIt) {
    Bytes b = {131, 104, 2, 109, 0, 0, 1, 0};
    for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
    b.insert(b.end(), {109, 0, 0, 0, 3, 'a', 'b', 'c'});
    Term input = binary(b);
    Term t = *etf::decode(input);
    auto in = input.as_binary();
    auto big = t[0].as_binary();
    EXPECT_GE(big.data(), in.data());
    EXPECT_LE(big.data() + big.size(), in.data() + in.size());
    EXPECT_EQ(big[255], 255);
    // Small ones are copied, so they do not pin the input.
    auto small = t[1].as_binary();
    EXPECT_TRUE(small.data() < in.data() || small.data() >= in.data() + in.size());
    // The shared binary keeps the input alive.
    input = Term();
    EXPECT_EQ(t[0].as_binary()[200], 200);
}

TEST(EtfDecode, SharesWithTheParentOfASubBinaryInput) {
    Bytes b = {131, 109, 0, 0, 0, 100};
    b.resize(b.size() + 100, 7);
    Term owner = binary(std::vector<std::uint8_t>(b)); // large enough to be a sub-binary of owned bytes
    Term t = *etf::decode(owner);
    auto* node = detail::TermAccess::as<detail::BinaryNode>(t);
    auto* in = detail::TermAccess::as<detail::BinaryNode>(owner);
    ASSERT_NE(node->parent, nullptr);
    EXPECT_EQ(node->parent, in->parent ? in->parent : in);
}

TEST(EtfDecode, ATermThatIsOneBinaryIsSharedFromShareBinariesFromBytes) {
    for (std::size_t len : {63, 64, 300}) {
        Bytes b = {131, 109, 0, 0, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)};
        for (std::size_t i = 0; i < len; ++i) b.push_back(static_cast<std::uint8_t>(i));
        Term input = binary(b);
        Term t = *etf::decode(input);
        auto in = input.as_binary();
        EXPECT_EQ(t.as_binary().data() == in.data() + 6, len >= 64) << len;
        EXPECT_EQ(t, binary(Bytes(b.begin() + 6, b.end())));
        input = Term(); // a shared binary keeps the input alive
        EXPECT_EQ(t.as_binary()[len - 1], static_cast<std::uint8_t>(len - 1));
        // A length that disagrees with the input is refused as before.
        Bytes longer = b;
        longer[5] = static_cast<std::uint8_t>(len + 1);
        EXPECT_NE(err(longer).find("exceeds remaining"), std::string::npos);
        Bytes shorter = b;
        shorter[5] = static_cast<std::uint8_t>(len - 1);
        EXPECT_EQ(etf::decode(binary(shorter)).error().what(),
                  "trailing bytes after term at offset " + std::to_string(b.size() - 1));
    }
}

TEST(EtfDecode, ABinaryInsideADecodedTermDecodesAndOutlivesIt) {
    // The encoding of a 100-byte binary, carried as a binary inside a tuple.
    Bytes inner = {131, 109, 0, 0, 0, 100};
    inner.resize(inner.size() + 100, 9);
    Bytes outer = {131, 104, 1, 109, 0, 0, 0, static_cast<std::uint8_t>(inner.size())};
    outer = cat(outer, inner);
    for (bool from_term : {false, true}) {
        Term t = from_term ? *etf::decode(binary(outer)) : ok(outer);
        Term carried = t[0];
        Term payload = *etf::decode(carried);
        t = Term();
        carried = Term();
        EXPECT_EQ(payload, binary(Bytes(100, 9)));
    }
}

TEST(EtfDecode, DecodeFromSpanAlwaysCopies) {
    Bytes b = {131, 109, 0, 0, 1, 0};
    b.resize(b.size() + 256, 1);
    Term t = ok(b);
    EXPECT_EQ(detail::TermAccess::as<detail::BinaryNode>(t)->parent, nullptr);
}

TEST(EtfDecodeAt, DecodesTermsBackToBackAndAdvancesOffset) {
    Bytes b = {97, 1, 119, 1, 97, 106};
    std::size_t off = 0;
    EXPECT_EQ(*etf::decode_at(b, off), Term(1));
    EXPECT_EQ(off, 2u);
    EXPECT_EQ(*etf::decode_at(b, off), Term("a"_a));
    EXPECT_EQ(*etf::decode_at(b, off), Term());
    EXPECT_EQ(off, b.size());
    EXPECT_FALSE(etf::decode_at(b, off)); // nothing left
    EXPECT_EQ(off, b.size());
}

TEST(EtfDecodeAt, SharesWithOwnerWhenBytesLieInside) {
    Bytes b = {109, 0, 0, 0, 80};
    b.resize(b.size() + 80, 9);
    Term owner = binary(b);
    auto span = owner.as_binary();
    std::size_t off = 0;
    Term t = *etf::decode_at(span, off, {}, &owner);
    EXPECT_EQ(t.as_binary().data(), span.data() + 5);
}

// --- Arena lifetime -------------------------------------------------------------------------
// A decoded term's nodes share one arena; these check that whatever is copied out of it stays
// valid once the root is gone (run under the asan preset, they also check nothing leaks).

TEST(EtfDecodeArena, SubTermsOutliveTheRoot) {
    Term original = tuple(list(1, binary("abc"), tuple("x"_a, 2.5)), map({{"k"_a, list(3, 4)}}), string("hi"));
    Bytes b = etf::encode(original);
    Term root = ok(b);
    Term first = root[0];
    Term inner = root[0].as_list().elements[2];
    Term value = root[1].as_map().at("k"_a);
    Term third = root[2];
    root = Term();
    b.assign(b.size(), 0); // the input is gone too
    EXPECT_EQ(first, list(1, binary("abc"), tuple("x"_a, 2.5)));
    EXPECT_EQ(inner, tuple("x"_a, 2.5));
    first = Term();
    EXPECT_EQ(value, list(3, 4));
    EXPECT_EQ(etf::encode(value), etf::encode(list(3, 4)));
    EXPECT_EQ(third.as_string(), "hi");
}

TEST(EtfDecodeArena, SubTermsCopiedIntoOtherTermsKeepTheArena) {
    Term root = ok(etf::encode(tuple(list(1, 2, 3), binary("payload"))));
    Term holder = tuple(root[0], list(root[1]));
    root = Term();
    EXPECT_EQ(holder, tuple(list(1, 2, 3), list(binary("payload"))));
    Term copy = holder;
    holder = Term();
    EXPECT_EQ(copy[1].as_list().elements[0].as_binary_view(), "payload");
}

TEST(EtfDecodeArena, SubTermUsedOnAnotherThreadAfterTheRootIsDropped) {
    Term root = ok(etf::encode(tuple(list(binary("one"), binary("two")), 7)));
    Term part = root[0];
    std::thread t([p = std::move(part)]() mutable {
        for (int i = 0; i < 1000; ++i) {
            Term copy = p;
            EXPECT_EQ(copy.as_list().elements[1].as_binary_view(), "two");
        }
        p = Term();
    });
    root = Term();
    t.join();
}

TEST(EtfDecodeArena, FunsAndBigIntegersOutliveTheRoot) {
    FunData d;
    d.arity = 1;
    d.module = "m"_a;
    d.old_index = Term(BigInt::from_le_bytes(std::vector<std::uint8_t>(12, 0xAB), false));
    d.old_uniq = 5;
    d.pid = Term(Pid{"a@b"_a, 1, 2, 3});
    d.free_vars = {list(1, binary("free")), Term(BigInt::from_le_bytes(std::vector<std::uint8_t>(20, 1), true))};
    Term big = Term(BigInt::from_le_bytes(std::vector<std::uint8_t>(16, 0xFF), false));
    Term original = tuple(fun(d), list(big), Term(Ref{"a@b"_a, 1, 2, {4, 5}}), Term(Port{"a@b"_a, 9, 1}));
    Term root = ok(etf::encode(original));
    ASSERT_EQ(root, original);
    Term f = root[0];
    Term b = root[1].as_list().elements[0];
    Term r = root[2];
    root = Term();
    EXPECT_EQ(f, fun(d));
    EXPECT_EQ(f.as_fun().free_vars[0], list(1, binary("free")));
    EXPECT_EQ(b, big);
    EXPECT_EQ(r, Term(Ref{"a@b"_a, 1, 2, {4, 5}}));
    FunData copy = f.as_fun(); // copies the free variables out of the arena
    f = Term();
    EXPECT_EQ(copy.free_vars[1], d.free_vars[1]);
}

TEST(EtfDecodeArena, FailuresAfterBigIntegersAndFunsFreeEverything) {
    FunData d;
    d.module = "m"_a;
    d.old_index = 0;
    d.old_uniq = 0;
    d.pid = Term(Pid{"a@b"_a, 1, 2, 3});
    d.free_vars = {list(binary("x"))};
    Bytes good = etf::encode(tuple(Term(BigInt::from_le_bytes(std::vector<std::uint8_t>(16, 7), false)), fun(d), 1));
    // Cut short and with a bad last byte: the big integer and the fun are built, then it fails.
    Bytes cut(good.begin(), good.end() - 1);
    EXPECT_NE(err(cut), "");
    Bytes bad = good;
    bad[bad.size() - 2] = 200;
    EXPECT_NE(err(bad).find("unknown tag 200"), std::string::npos);
}

TEST(EtfDecodeArena, BinaryTakenFromADecodedTermCanBeDecodedAndDropped) {
    // A term whose binary holds another encoded term with a large (shared) binary inside.
    Bytes inner = etf::encode(tuple("in"_a, binary(std::string(300, 'z'))));
    Term outer = ok(etf::encode(tuple(binary(inner), 1)), {});
    Term payload = outer[0];
    outer = Term();
    Term decoded = *etf::decode(payload);
    payload = Term();
    Term big = decoded[1];
    decoded = Term();
    EXPECT_EQ(big.as_binary_view(), std::string(300, 'z'));
    // The same from a binary Term, so the outer term's binaries are shared in turn.
    Term input = binary(etf::encode(tuple(binary(inner), binary(std::string(100, 'q')))));
    Term again = *etf::decode(input);
    input = Term();
    Term nested = *etf::decode(again[0]);
    again = Term();
    EXPECT_EQ(nested[1].as_binary_view(), std::string(300, 'z'));
}

TEST(EtfDecodeArena, LargeTermsSpanSeveralBlocks) {
    std::vector<Term> items;
    for (int i = 0; i < 20'000; ++i) items.push_back(tuple(i, binary(std::to_string(i))));
    items.push_back(binary(std::string(200'000, 'b'))); // larger than a block: a block of its own
    Term original = list_from(items);
    Term root = ok(etf::encode(original));
    EXPECT_EQ(root, original);
    Term last = root.as_list().elements[20'000];
    Term some = root.as_list().elements[12'345];
    root = Term();
    EXPECT_EQ(last.as_binary().size(), 200'000u);
    EXPECT_EQ(some, tuple(12'345, binary("12345")));
}

TEST(EtfDecodeArena, TermsKeptWhileOthersAreDecodedAndDroppedStayIntact) {
    // A thread keeps spare arena blocks of a few sizes for the next decode: a term still held
    // must never have its block handed out again.
    std::vector<Term> originals;
    std::vector<std::pair<std::size_t, Term>> kept;
    for (int n = 1; n < 3'000; n = n * 3 / 2 + 1) {
        std::vector<Term> items;
        for (int i = 0; i < n; ++i) items.push_back(tuple(i, binary(std::to_string(n))));
        originals.push_back(list_from(items));
    }
    for (std::size_t round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < originals.size(); ++i) {
            Term t = ok(etf::encode(originals[i]));
            if ((i + round) % 2 == 0) kept.emplace_back(i, std::move(t)); // else dropped here
        }
    }
    for (const auto& [i, t] : kept) EXPECT_EQ(t, originals[i]) << i;
}

// --- Compressed terms -----------------------------------------------------------------------

TEST(EtfDecode, DecodesCompressedTermsFromErl) {
    // term_to_binary(lists:duplicate(100,a), [compressed, {minor_version, 2}])
    EXPECT_EQ(ok(bytes({131, 80, 0, 0, 1, 50, 120, 156, 203, 97, 96, 96, 72, 41, 103, 76, 28, 69, 68, 162, 44, 0,
                        46, 63, 85, 255})),
              list_from(std::vector<Term>(100, Term("a"_a))));
}

TEST(EtfDecode, RejectsCompressedSizeLargerThanZlibCanExpand) {
    // A zip bomb's header: 4 GB declared for 20 bytes of data.
    Bytes zdata(20, 0);
    EXPECT_NE(err(compressed_term(0xFFFFFFFF, zdata)).find("has only 20 compressed bytes"), std::string::npos);
    etf::DecodeOptions opts;
    opts.max_uncompressed_size = 1000;
    EXPECT_NE(err(compressed_term(2000, zlib_compress(Bytes(2000, 106))), opts).find("max_uncompressed_size"),
              std::string::npos);
    // By default at most 256 MiB, even with enough compressed bytes for zlib to reach the size.
    const std::size_t over = (std::size_t(256) << 20) + 1;
    EXPECT_NE(err(compressed_term(static_cast<std::uint32_t>(over), Bytes(over / 1000, 0))).find("max_uncompressed_size"),
              std::string::npos);
}

TEST(EtfDecode, RejectsCompressedTermThatInflatesToMoreThanDeclared) {
    // A real bomb: a megabyte of zeros (about 1 KB compressed) declared as 1000 bytes.
    Bytes plain(1 << 20, 0);
    plain[0] = 109;
    auto e = err(compressed_term(1000, zlib_compress(plain)));
    EXPECT_NE(e.find("declares 1000 bytes but inflates to more"), std::string::npos) << e;
}

TEST(EtfDecode, RejectsCompressedTermThatInflatesToLessThanDeclared) {
    Bytes plain = {104, 2, 97, 1, 97, 2};
    auto e = err(compressed_term(7, zlib_compress(plain)));
    EXPECT_NE(e.find("declares 7 bytes but inflates to 6"), std::string::npos) << e;
}

TEST(EtfDecode, RejectsCorruptOrTruncatedCompressedData) {
    Bytes z = zlib_compress(Bytes(100, 106));
    Bytes corrupt = z;
    corrupt[2] ^= 0xFF;
    EXPECT_NE(err(compressed_term(100, corrupt)), "");
    Bytes cut(z.begin(), z.begin() + z.size() / 2);
    EXPECT_NE(err(compressed_term(100, cut)), "");
    EXPECT_NE(err(compressed_term(100, {})), "");
}

TEST(EtfDecode, RejectsCompressedTermNestedInCompressedTerm) {
    Bytes inner = compressed_term(100, zlib_compress(Bytes(100, 106)));
    inner.erase(inner.begin()); // drop 131
    EXPECT_NE(err(compressed_term(static_cast<std::uint32_t>(inner.size()), zlib_compress(inner))).find(
                  "compressed term inside a compressed term"),
              std::string::npos);
    // And tag 80 anywhere but the top is refused too.
    EXPECT_NE(err(bytes({131, 104, 1, 80, 0, 0, 0, 1, 0})).find("compressed term (tag 80) inside a term"),
              std::string::npos);
}

TEST(EtfDecode, RejectsTrailingBytesInsideCompressedData) {
    Bytes plain = {97, 1, 97, 2};
    EXPECT_NE(err(compressed_term(4, zlib_compress(plain))).find("trailing bytes"), std::string::npos);
}

// --- Bad input ------------------------------------------------------------------------------

TEST(EtfDecode, RejectsMissingVersionByteEmptyInputAndTrailingBytes) {
    EXPECT_NE(err(bytes({})).find("truncated input at offset 0"), std::string::npos);
    EXPECT_NE(err(bytes({130, 106})).find("expected version byte 131"), std::string::npos);
    auto e = err(bytes({131, 106, 106}));
    EXPECT_NE(e.find("trailing bytes after term at offset 2"), std::string::npos) << e;
    EXPECT_EQ(etf::decode(bytes({131, 106, 106})).error().offset(), 2u);
}

TEST(EtfDecode, RejectsUnknownAndRetiredTags) {
    EXPECT_EQ(err(bytes({131, 200})), "unknown tag 200 at offset 1");
    EXPECT_NE(err(bytes({131, 117, 0, 0, 0, 0})).find("FUN_EXT (tag 117)"), std::string::npos);
    EXPECT_NE(err(bytes({131, 121, 0, 0, 0, 0})).find("LOCAL_EXT (tag 121)"), std::string::npos);
}

TEST(EtfDecode, RejectsBinaryLengthPastEndOfInput) {
    // A 4 GB binary header in a 20-byte buffer: refused before allocating anything.
    Bytes b = {131, 109, 255, 255, 255, 255};
    b.resize(20, 0);
    EXPECT_EQ(err(b), "binary length 4294967295 exceeds remaining 14 bytes at offset 1");
    b[1] = 77;
    b.insert(b.begin() + 6, 3);
    EXPECT_NE(err(b).find("binary length 4294967295 exceeds"), std::string::npos);
}

TEST(EtfDecode, RejectsContainerCountsPastEndOfInput) {
    EXPECT_NE(err(bytes({131, 105, 255, 255, 255, 255, 106})).find("tuple of 4294967295 elements"), std::string::npos);
    EXPECT_NE(err(bytes({131, 108, 255, 255, 255, 255, 106})).find("list of 4294967295 elements"), std::string::npos);
    EXPECT_NE(err(bytes({131, 116, 0, 0, 0, 2, 106, 106, 106})).find("map of 2 pairs"), std::string::npos);
    EXPECT_NE(err(bytes({131, 111, 255, 255, 255, 255, 0, 1})).find("integer of 4294967295 bytes"), std::string::npos);
    EXPECT_NE(err(bytes({131, 107, 0, 9, 1})), "");
}

TEST(EtfDecode, ContainerCountsAreCheckedAtTheirExactLimits) {
    EXPECT_EQ(ok(bytes({131, 116, 0, 0, 0, 1, 106, 106})), map({{Term(), Term()}})); // #{[] => []}
    EXPECT_EQ(err(bytes({131, 116, 0, 0, 0, 2, 106, 106, 106})),
              "map of 2 pairs exceeds remaining 3 bytes at offset 1");
    EXPECT_EQ(ok(bytes({131, 108, 0, 0, 0, 1, 106, 106})), list(Term())); // [[]]
    EXPECT_EQ(err(bytes({131, 108, 0, 0, 0, 2, 106, 106})), "list of 2 elements exceeds remaining 2 bytes at offset 1");
    // The same inside a tuple, where maps and lists are opened by the container loop.
    EXPECT_EQ(err(bytes({131, 104, 1, 116, 0, 0, 0, 2, 106, 106, 106})),
              "map of 2 pairs exceeds remaining 3 bytes at offset 3");
    EXPECT_EQ(err(bytes({131, 104, 1, 108, 0, 0, 0, 2, 106, 106})),
              "list of 2 elements exceeds remaining 2 bytes at offset 3");
    EXPECT_EQ(ok(bytes({131, 104, 2, 116, 0, 0, 0, 0, 108, 0, 0, 0, 0, 106})), tuple(map({}), Term()));
}

TEST(EtfDecode, MapsAndListsInsideContainersRespectMaxDepth) {
    etf::DecodeOptions opts;
    opts.max_depth = 2;
    // {#{a => [1]}}: three levels.
    Bytes b = {131, 104, 1, 116, 0, 0, 0, 1, 119, 1, 'a', 108, 0, 0, 0, 1, 97, 1, 106};
    EXPECT_EQ(err(b, opts), "nesting deeper than max_depth at offset 11");
    opts.max_depth = 3;
    EXPECT_EQ(ok(b, opts), tuple(map({{"a"_a, list(1)}})));
    opts.max_depth = 1;
    EXPECT_EQ(err(b, opts), "nesting deeper than max_depth at offset 3");
}

TEST(EtfDecode, RejectsInvalidBitBinaryHeaders) {
    EXPECT_NE(err(bytes({131, 77, 0, 0, 0, 1, 0, 255})), ""); // no bits in a non-empty last byte
    EXPECT_NE(err(bytes({131, 77, 0, 0, 0, 1, 9, 255})), ""); // more than 8
    EXPECT_NE(err(bytes({131, 77, 0, 0, 0, 0, 1})), "");      // bits without bytes
    EXPECT_EQ(ok(bytes({131, 77, 0, 0, 0, 0, 0})), binary(""));
}

TEST(EtfDecode, RejectsInvalidUtf8InAtoms) {
    EXPECT_EQ(err(bytes({131, 119, 2, 0xC3, 0x28})), "invalid UTF-8 in atom at offset 1");
    EXPECT_NE(err(bytes({131, 118, 0, 3, 0xED, 0xA0, 0x80})).find("invalid UTF-8"), std::string::npos); // surrogate
    EXPECT_NE(err(bytes({131, 119, 2, 0xC0, 0x80})).find("invalid UTF-8"), std::string::npos);           // overlong
    EXPECT_NE(err(bytes({131, 119, 1, 0xE2})).find("invalid UTF-8"), std::string::npos);                 // cut short
}

TEST(EtfDecode, RejectsAtomsLongerThan255Characters) {
    Bytes utf8 = {131, 118, 1, 0};
    utf8.resize(utf8.size() + 256, 'a');
    EXPECT_EQ(err(utf8), "atom longer than 255 characters at offset 1");
    Bytes latin1 = {131, 100, 1, 0};
    latin1.resize(latin1.size() + 256, 0xE9);
    EXPECT_EQ(err(latin1), "atom longer than 255 characters at offset 1");
    Bytes wide = {131, 118, 2, 0}; // 256 two-byte characters
    for (int i = 0; i < 256; ++i) wide.insert(wide.end(), {0xC3, 0xA9});
    EXPECT_EQ(err(wide), "atom longer than 255 characters at offset 1");
}

TEST(EtfDecode, ReportsSystemLimitWhenAtomTableIsFull) {
    std::size_t old = atom_table_limit();
    set_atom_table_limit(atom_count());
    auto r = etf::decode(bytes({131, 119, 12, 'n', 'e', 'v', 'e', 'r', '_', 's', 'e', 'e', 'n', '_', '1'}));
    set_atom_table_limit(old);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason(), atoms::system_limit);
}

TEST(EtfDecode, RejectsNonFiniteFloats) {
    EXPECT_EQ(err(bytes({131, 70, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0})), "non-finite float at offset 1"); // NaN
    EXPECT_EQ(err(bytes({131, 70, 0xFF, 0xF0, 0, 0, 0, 0, 0, 0})), "non-finite float at offset 1"); // -inf
    Bytes text = {131, 99};
    for (char c : std::string("1.0e+999")) text.push_back(static_cast<std::uint8_t>(c));
    text.resize(33, 0);
    EXPECT_EQ(err(text), "non-finite float at offset 1");
    Bytes junk = {131, 99, 'n', 'a', 'n'};
    junk.resize(33, 0);
    EXPECT_NE(err(junk), "");
}

TEST(EtfDecode, RejectsNonFiniteFloatsInsideContainersFarFromTheEnd) {
    // Hand-made [1.0, NaN | <<0,...>>]: the NaN has more than 18 bytes after it.
    Bytes b = {131, 108, 0, 0, 0, 2, 70, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 70, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0};
    b = cat(b, cat(bytes({109, 0, 0, 0, 24}), Bytes(24, 0)));
    EXPECT_EQ(err(b), "non-finite float at offset 15");
    b[16] = 0xFF; // -inf
    b[17] = 0xF0;
    EXPECT_EQ(err(b), "non-finite float at offset 15");
    b[16] = 0x40; // 2.0
    b[17] = 0x00;
    EXPECT_EQ(ok(b), list_from({1.0, 2.0}, binary(std::string(24, '\0'))));
}

TEST(EtfDecode, BinariesOfEveryShortLengthDecodeFarFromAndNearTheEnd) {
    for (std::size_t len = 0; len <= 40; ++len) {
        std::string text;
        for (std::size_t i = 0; i < len; ++i) text.push_back(static_cast<char>('a' + i % 26));
        Bytes bin = {109, 0, 0, 0, static_cast<std::uint8_t>(len)};
        bin.insert(bin.end(), text.begin(), text.end());
        // {Bin, Bin, 0}: the first is far from the end, the last near it when short.
        Bytes b = cat(cat(cat(bytes({131, 104, 3}), bin), bin), bytes({97, 0}));
        EXPECT_EQ(ok(b), tuple(binary(text), binary(text), 0)) << len;
        // From a binary Term with share_binaries_from 4: from 4 bytes on they point into it.
        etf::DecodeOptions opts;
        opts.share_binaries_from = 4;
        Term input = binary(b);
        Term shared = *etf::decode(input, opts);
        EXPECT_EQ(shared, tuple(binary(text), binary(text), 0)) << len;
        const std::uint8_t* first = shared[0].as_binary().data();
        const bool inside = first >= input.as_binary().data() && first < input.as_binary().data() + b.size();
        EXPECT_EQ(inside, len >= 4) << len;
        if (len == 0) continue;
        Bytes cut(b.begin(), b.end() - 3); // the second binary one byte short
        EXPECT_NE(err(cut).find("exceeds remaining"), std::string::npos) << len;
    }
}

TEST(EtfDecode, RejectsDuplicateMapKeys) {
    // Hand-made #{a=>1, a=>2}; erl's binary_to_term refuses it too.
    EXPECT_EQ(err(bytes({131, 116, 0, 0, 0, 2, 119, 1, 97, 97, 1, 119, 1, 97, 97, 2})),
              "duplicate map key at offset 1");
}

TEST(EtfDecode, ListOfIntegersDecodesAndEveryTruncationFails) {
    // Hand-made [-50, 1, -49, 2, ...]: INTEGER_EXT runs broken by SMALL_INTEGER_EXT and atoms.
    Bytes b = {131, 108, 0, 0, 0, 120};
    std::vector<Term> expected;
    for (int i = 0; i < 120; ++i) {
        if (i % 7 == 6) {
            b.insert(b.end(), {119, 1, 'x'});
            expected.emplace_back("x"_a);
        } else if (i % 5 == 4) {
            b.insert(b.end(), {97, static_cast<std::uint8_t>(i)});
            expected.emplace_back(i);
        } else {
            const std::int32_t v = i * 1000 - 50'000;
            const auto u = static_cast<std::uint32_t>(v);
            b.insert(b.end(), {98, static_cast<std::uint8_t>(u >> 24), static_cast<std::uint8_t>(u >> 16),
                               static_cast<std::uint8_t>(u >> 8), static_cast<std::uint8_t>(u)});
            expected.emplace_back(v);
        }
    }
    b.push_back(106);
    EXPECT_EQ(ok(b), list_from(expected));
    for (std::size_t n = 1; n < b.size(); ++n) {
        Bytes prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_FALSE(etf::decode(prefix)) << n;
    }
}

TEST(EtfDecode, RejectsBadReferencesPidsAndExports) {
    EXPECT_NE(err(cat(cat(bytes({131, 90, 0, 6}), nonode()), Bytes(4 + 24, 0))).find("6 words"), std::string::npos);
    EXPECT_NE(err(cat(cat(bytes({131, 90, 0, 0}), nonode()), Bytes(4, 0))).find("0 words"), std::string::npos);
    EXPECT_NE(err(bytes({131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})).find("expected an atom"),
              std::string::npos);
    EXPECT_NE(err(bytes({131, 113, 119, 1, 97, 119, 1, 98, 98, 0, 0, 1, 0})).find("export arity"), std::string::npos);
}

TEST(EtfDecode, RejectsEveryTruncationOfASampleTerm) {
    // [{a,[b,{c}]},#{k=>[<<1,2>>]}] plus a pid, a float and a big: every proper prefix fails.
    Bytes full = bytes({131, 108, 0, 0, 0, 5, 104, 2, 119, 1, 97, 108, 0, 0, 0, 2, 119, 1, 98, 104, 1, 119, 1, 99,
                        106, 116, 0, 0, 0, 1, 119, 1, 107, 108, 0, 0, 0, 1, 109, 0, 0, 0, 2, 1, 2, 106});
    full = cat(cat(cat(full, bytes({88})), nonode()), bytes({0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}));
    full = cat(full, bytes({70, 64, 9, 30, 184, 81, 235, 133, 31, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 106}));
    ASSERT_TRUE(etf::decode(full)) << etf::decode(full).error().what();
    for (std::size_t n = 0; n < full.size(); ++n) {
        Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        auto r = etf::decode(prefix);
        ASSERT_FALSE(r) << "prefix of " << n << " bytes decoded";
        EXPECT_LE(r.error().offset(), n);
    }
}

// --- Depth ----------------------------------------------------------------------------------

namespace {
Bytes nested_lists(std::size_t depth) {
    // [[[...[]...]]]: each level is a one-element LIST_EXT whose tail is [].
    Bytes b;
    b.reserve(1 + depth * 6 + 1);
    b.push_back(131);
    for (std::size_t i = 0; i < depth; ++i) b.insert(b.end(), {108, 0, 0, 0, 1});
    b.push_back(106);
    b.insert(b.end(), depth, 106);
    return b;
}
} // namespace

TEST(EtfDecode, MillionNestedListsFailCleanlyAtDefaultDepth) {
    auto e = err(nested_lists(1'000'000));
    EXPECT_NE(e.find("nesting deeper than max_depth"), std::string::npos) << e;
}

TEST(EtfDecode, MillionNestedListsDecodeAndDropWithRaisedDepth) {
    etf::DecodeOptions opts;
    opts.max_depth = 2'000'000;
    Term t = ok(nested_lists(1'000'000), opts);
    std::size_t depth = 0;
    const Term* p = &t;
    while (p->is_list() && !p->is_nil()) {
        p = &p->as_list().elements[0];
        ++depth;
    }
    EXPECT_EQ(depth, 1'000'000u);
    t = Term(); // destroying must not recurse either
}

TEST(EtfDecode, DepthLimitCountsOpenContainers) {
    etf::DecodeOptions opts;
    opts.max_depth = 2;
    EXPECT_TRUE(etf::decode(bytes({131, 104, 1, 104, 1, 104, 0}), opts)); // {{{}}}: {} opens nothing
    EXPECT_NE(err(bytes({131, 104, 1, 104, 1, 104, 1, 97, 1}), opts).find("max_depth"), std::string::npos);
}
