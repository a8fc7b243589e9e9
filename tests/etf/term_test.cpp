// edist::Term: construction, typed access, term order, equality, hashing and lifetime.
// Facts about Erlang's term order were checked against erl 25; the Erlang expression is
// in the comment next to each.
#include <edist/term.hpp>
#include <edist/text.hpp> // operator<<, so failures show terms in Erlang syntax

#include "etf/term_impl.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

using namespace edist;
using namespace edist::literals;

namespace {

BigInt pow2(unsigned n) {
    std::vector<std::uint8_t> bytes(n / 8 + 1, 0);
    bytes[n / 8] = static_cast<std::uint8_t>(1u << (n % 8));
    return BigInt::from_le_bytes(bytes, false);
}

std::vector<std::uint8_t> bytes(std::initializer_list<int> v) {
    std::vector<std::uint8_t> out;
    for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
    return out;
}

Term bits(std::initializer_list<int> v, std::size_t bit_size) { return bitstring(bytes(v), bit_size); }

Pid a_pid(std::uint32_t id = 1) { return Pid{atom("n@h"), id, 0, 7}; }
Port a_port() { return Port{atom("n@h"), 5, 7}; }
Ref a_ref() {
    Ref r;
    r.node = atom("n@h");
    r.creation = 7;
    r.len = 3;
    r.words = {1, 2, 3, 0, 0};
    return r;
}
Term a_local_fun() {
    FunData f;
    f.arity = 0;
    f.module = atom("m");
    f.index = 1;
    f.old_index = Term(0);
    f.old_uniq = Term(0);
    f.pid = Term(a_pid());
    return fun(std::move(f));
}

// Runs `f`, which must throw edist::Error; returns it.
template <class F>
Error error_from(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no edist::Error was thrown";
    return Error(atoms::ok, "");
}

int sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }
int sign(std::strong_ordering o) { return o < 0 ? -1 : (o > 0 ? 1 : 0); }

} // namespace

// --- Shape of the type ------------------------------------------------------------------------

static_assert(sizeof(Term) == 16);
static_assert(!std::is_constructible_v<Term, const char*>, "text must say atom, binary or string");
static_assert(!std::is_constructible_v<Term, std::string>);
static_assert(!std::is_constructible_v<Term, std::string_view>);
static_assert(std::is_nothrow_copy_constructible_v<Term>);
static_assert(std::is_nothrow_move_constructible_v<Term>);

// --- Construction -----------------------------------------------------------------------------

TEST(TermConstruction, DefaultIsNil) {
    Term t;
    EXPECT_TRUE(t.is_nil());
    EXPECT_TRUE(t.is_list());
    EXPECT_TRUE(t.is_proper_list());
    EXPECT_EQ(t.kind(), Kind::Nil);
    EXPECT_EQ(t.as_list().size(), 0u);
}

TEST(TermConstruction, NestedTermsReadLikeErlang) {
    Term t = tuple(atom("ok"), 42, binary("abc"));
    ASSERT_TRUE(t.is_tuple(3));
    EXPECT_EQ(t[0].as_atom(), atom("ok"));
    EXPECT_TRUE(t[0].is_atom(atoms::ok));
    EXPECT_EQ(t[1].as_int64(), 42);
    EXPECT_EQ(t[2].as_binary_view(), "abc");
    EXPECT_EQ(t, tuple("ok"_a, 42, binary("abc")));

    Term l = list(1, atom("two"), 3.0, tuple(), Term());
    ASSERT_TRUE(l.is_proper_list());
    EXPECT_EQ(l.as_list().size(), 5u);
    EXPECT_EQ(l.as_list().elements[2].as_double(), 3.0);
    EXPECT_TRUE(l.as_list().elements[3].is_tuple(0));
    EXPECT_TRUE(l.as_list().elements[4].is_nil());
}

TEST(TermConstruction, EveryKindReportsItsKind) {
    EXPECT_EQ(Term(1).kind(), Kind::Integer);
    EXPECT_EQ(Term(pow2(100)).kind(), Kind::Integer);
    EXPECT_EQ(Term(1.5).kind(), Kind::Float);
    EXPECT_EQ(Term(atom("a")).kind(), Kind::Atom);
    EXPECT_EQ(Term(true).kind(), Kind::Atom);
    EXPECT_EQ(Term(a_ref()).kind(), Kind::Reference);
    EXPECT_EQ(a_local_fun().kind(), Kind::Fun);
    EXPECT_EQ(Term(Export{atom("lists"), atom("map"), 2}).kind(), Kind::Export);
    EXPECT_EQ(Term(a_port()).kind(), Kind::Port);
    EXPECT_EQ(Term(a_pid()).kind(), Kind::Pid);
    EXPECT_EQ(tuple().kind(), Kind::Tuple);
    EXPECT_EQ(map({}).kind(), Kind::Map);
    EXPECT_EQ(Term().kind(), Kind::Nil);
    EXPECT_EQ(list(1).kind(), Kind::List);
    EXPECT_EQ(binary("").kind(), Kind::Binary);
    EXPECT_EQ(bits({0x80}, 1).kind(), Kind::Binary);
}

TEST(TermConstruction, BooleansAreTheAtomsTrueAndFalse) {
    EXPECT_EQ(Term(true), Term(atom("true")));
    EXPECT_EQ(Term(false), Term(atom("false")));
    EXPECT_TRUE(Term(true).is_boolean());
    EXPECT_FALSE(Term(atom("maybe")).is_boolean());
    EXPECT_TRUE(Term(atom("true")).as_bool());
    EXPECT_FALSE(Term(false).as_bool());
}

TEST(TermConstruction, ListFromWithATailIsImproper) {
    Term l = list_from({1, 2}, Term(3)); // [1,2|3]
    EXPECT_TRUE(l.is_list());
    EXPECT_FALSE(l.is_proper_list());
    ListView v = l.as_list();
    EXPECT_EQ(v.size(), 2u);
    EXPECT_FALSE(v.proper());
    EXPECT_EQ(*v.tail, Term(3));
    EXPECT_THROW(l.as_string(), Error);
}

TEST(TermConstruction, AListTailIsAppendedSoEachListHasOneForm) {
    // [1 | [2, 3]] =:= [1, 2, 3]
    Term joined = list_from({1}, list(2, 3));
    EXPECT_EQ(joined, list(1, 2, 3));
    EXPECT_TRUE(joined.is_proper_list());
    EXPECT_EQ(joined.as_list().size(), 3u);
    EXPECT_EQ(joined.hash(), list(1, 2, 3).hash());
    // [1 | [2 | x]] =:= [1, 2 | x]
    Term improper = list_from({1}, list_from({2}, atom("x")));
    EXPECT_EQ(improper, list_from({1, 2}, atom("x")));
    EXPECT_EQ(improper.as_list().size(), 2u);
    EXPECT_EQ(*improper.as_list().tail, Term(atom("x")));
    // No elements and a tail: the tail itself.
    EXPECT_EQ(list_from({}, list(1)), list(1));
    EXPECT_TRUE(list_from({}).is_nil());
    EXPECT_TRUE(list_from({}, Term()).is_nil());
}

TEST(TermConstruction, MapKeepsTheLastValueOfARepeatedKey) {
    // #{a => 1, b => 2, a => 3} =:= #{a => 3, b => 2}
    Term m = map({{atom("a"), 1}, {atom("b"), 2}, {atom("a"), 3}});
    MapView v = m.as_map();
    EXPECT_EQ(v.size(), 2u);
    EXPECT_EQ(v.at(atom("a")), Term(3));
    EXPECT_EQ(v.at(atom("b")), Term(2));
    EXPECT_EQ(m, map({{atom("b"), 2}, {atom("a"), 3}}));
    EXPECT_EQ(m.hash(), map({{atom("b"), 2}, {atom("a"), 3}}).hash());
}

TEST(TermConstruction, MapKeysMatchExactlySoOneAndOnePointZeroAreTwoKeys) {
    // map_size(#{1 => a, 1.0 => b}) =:= 2
    Term m = map({{1, atom("a")}, {1.0, atom("b")}});
    MapView v = m.as_map();
    EXPECT_EQ(v.size(), 2u);
    ASSERT_NE(v.find(1), nullptr);
    ASSERT_NE(v.find(1.0), nullptr);
    EXPECT_EQ(*v.find(1), Term(atom("a")));
    EXPECT_EQ(*v.find(1.0), Term(atom("b")));
    EXPECT_EQ(v.find(2), nullptr);
    Error e = error_from([&] { (void)v.at(2); });
    EXPECT_EQ(e.reason(), atoms::badarg);
}

TEST(TermConstruction, MapIteratesInKeyOrder) {
    Term m = map_from({{atom("c"), 3}, {atom("a"), 1}, {atom("b"), 2}});
    std::vector<std::string> keys;
    for (auto [k, v] : m.as_map()) keys.push_back(k.as_atom().str());
    EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(map({}).as_map().empty());
}

TEST(TermConstruction, StringIsAListOfCodePoints) {
    Term s = string("héllo"); // "héllo" =:= [104, 233, 108, 108, 111]
    EXPECT_EQ(s, list(104, 233, 108, 108, 111));
    EXPECT_EQ(s.as_string(), "héllo");
    EXPECT_EQ(string("😀"), list(0x1F600));
    EXPECT_EQ(string("😀").as_string(), "😀");
    EXPECT_TRUE(string("").is_nil());
    EXPECT_EQ(Term().as_string(), "");
}

TEST(TermConstruction, StringRejectsInvalidUtf8) {
    for (std::string_view bad : {std::string_view("\xff"), std::string_view("a\xc3"), std::string_view("\xc0\x80"),
                                 std::string_view("\xed\xa0\x80"), std::string_view("\xf4\x90\x80\x80")}) {
        Error e = error_from([&] { (void)string(bad); });
        EXPECT_EQ(e.reason(), atoms::badarg);
    }
}

TEST(TermConstruction, AsStringRejectsWhatIsNoCodePointList) {
    EXPECT_THROW((void)list(-1).as_string(), Error);
    EXPECT_THROW((void)list(0x110000).as_string(), Error);
    EXPECT_THROW((void)list(0xD800).as_string(), Error);
    EXPECT_THROW((void)list(atom("a")).as_string(), Error);
    EXPECT_THROW((void)Term(1).as_string(), Error);
}

TEST(TermConstruction, PidsPortsRefsAndExportsRoundTrip) {
    Pid p{atom("node@host"), 42, 3, 0x12345678};
    Term tp(p);
    EXPECT_TRUE(tp.is_pid());
    EXPECT_EQ(tp.as_pid(), p);
    EXPECT_EQ(tp.as_pid().node, atom("node@host"));

    Port port{atom("node@host"), 0x100000001ull, 9};
    EXPECT_TRUE(Term(port).is_port());
    EXPECT_EQ(Term(port).as_port(), port);

    Ref r = a_ref();
    r.len = 5;
    r.words = {1, 2, 3, 4, 5};
    EXPECT_TRUE(Term(r).is_ref());
    EXPECT_EQ(Term(r).as_ref(), r);
    EXPECT_EQ(Term(r).as_ref().ids().size(), 5u);

    Export e{atom("lists"), atom("map"), 2};
    Term te(e);
    EXPECT_TRUE(te.is_function());
    EXPECT_TRUE(te.is_export());
    EXPECT_EQ(te.as_export(), e);
    EXPECT_NE(te, Term(Export{atom("lists"), atom("map"), 3}));

    Term f = a_local_fun();
    EXPECT_TRUE(f.is_function());
    EXPECT_FALSE(f.is_export());
    EXPECT_EQ(f.as_fun().module, atom("m"));
    EXPECT_EQ(f.as_fun().pid.as_pid(), a_pid());
}

TEST(TermConstruction, ARefNeedsOneToFiveWords) {
    Ref r = a_ref();
    r.len = 0;
    EXPECT_EQ(error_from([&] { Term t(r); }).reason(), atoms::badarg);
    r.len = 6;
    EXPECT_EQ(error_from([&] { Term t(r); }).reason(), atoms::badarg);
}

TEST(TermConstruction, ABigIntThatFitsInt64IsStoredSmall) {
    Term t(BigInt(-5));
    EXPECT_TRUE(t.is_int64());
    EXPECT_EQ(t, Term(-5));
    EXPECT_EQ(t.hash(), Term(-5).hash());
    Term min{BigInt(std::numeric_limits<std::int64_t>::min())};
    EXPECT_TRUE(min.is_int64());
    EXPECT_EQ(min.as_int64(), std::numeric_limits<std::int64_t>::min());
    // Computed back into range: still one form.
    Term back(pow2(64) - pow2(64) + BigInt(7));
    EXPECT_TRUE(back.is_int64());
    EXPECT_EQ(back, Term(7));
}

TEST(TermConstruction, AUint64AboveInt64MaxIsStoredBig) {
    constexpr std::uint64_t big = std::numeric_limits<std::uint64_t>::max();
    Term t(big);
    EXPECT_TRUE(t.is_integer());
    EXPECT_FALSE(t.is_int64());
    EXPECT_EQ(t, Term(BigInt::from_uint64(big)));
    EXPECT_EQ(t.hash(), Term(BigInt::from_uint64(big)).hash());
    EXPECT_EQ(t.as<std::uint64_t>(), big);
    EXPECT_EQ(t.as_bigint(), pow2(64) - BigInt(1));
    EXPECT_EQ(Term(std::uint64_t{1} << 63).as_bigint(), pow2(63));
    // At or below INT64_MAX an unsigned value is a small integer.
    Term fits(std::uint64_t{std::numeric_limits<std::int64_t>::max()});
    EXPECT_TRUE(fits.is_int64());
    EXPECT_EQ(fits, Term(std::numeric_limits<std::int64_t>::max()));
}

TEST(TermConstruction, NaNAndInfinitiesAreNoTerms) {
    for (double d : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
        Error e = error_from([&] { Term t(d); });
        EXPECT_EQ(e.reason(), atoms::badarg);
    }
    EXPECT_EQ(Term(std::numeric_limits<double>::max()).as_double(), std::numeric_limits<double>::max());
}

TEST(TermConstruction, BinariesAndBitStrings) {
    Term b = binary("abc");
    EXPECT_TRUE(b.is_binary());
    EXPECT_TRUE(b.is_bitstring());
    EXPECT_EQ(b.bit_size(), 24u);
    EXPECT_EQ(b, binary(bytes({'a', 'b', 'c'})));
    EXPECT_TRUE(binary("").is_binary());
    EXPECT_EQ(binary("").as_binary().size(), 0u);

    // <<7:3>> : the unused low bits of the last byte are cleared, so equal bits are equal terms.
    Term bs = bits({0xFF}, 3);
    EXPECT_TRUE(bs.is_bitstring());
    EXPECT_FALSE(bs.is_binary());
    EXPECT_EQ(bs.bit_size(), 3u);
    EXPECT_EQ(bs.bitstring_bytes()[0], 0xE0);
    EXPECT_EQ(bs, bits({0xE0}, 3));
    EXPECT_EQ(bs.hash(), bits({0xE0}, 3).hash());
    EXPECT_EQ(error_from([&] { (void)bs.as_binary(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([&] { (void)bitstring(bytes({1, 2}), 3); }).reason(), atoms::badarg);
    // A bit string of a whole number of bytes is a binary.
    EXPECT_EQ(bits({1, 2}, 16), binary(bytes({1, 2})));
    EXPECT_TRUE(bits({1, 2}, 16).is_binary());
}

TEST(TermConstruction, BinaryFromAVectorTakesItsStorageOver) {
    std::vector<std::uint8_t> mb(1 << 20, 0xAB);
    const std::uint8_t* data = mb.data();
    Term b = binary(std::move(mb));
    EXPECT_EQ(b.as_binary().data(), data);
    EXPECT_EQ(b.as_binary().size(), std::size_t{1} << 20);
    EXPECT_EQ(b, binary(std::vector<std::uint8_t>(1 << 20, 0xAB)));
    EXPECT_EQ(b.hash(), binary(std::span<const std::uint8_t>(std::vector<std::uint8_t>(1 << 20, 0xAB))).hash());
}

// --- Typed access -----------------------------------------------------------------------------

TEST(TermAccess, MismatchThrowsBadargNamingExpectedAndFound) {
    Error e = error_from([] { (void)Term(42).as_atom(); });
    EXPECT_EQ(e.reason(), atoms::badarg);
    std::string msg = e.what();
    EXPECT_NE(msg.find("atom"), std::string::npos) << msg;
    EXPECT_TRUE(msg.find("42") != std::string::npos || msg.find("integer") != std::string::npos) << msg;

    msg = error_from([] { (void)Term(atom("hello")).as_int64(); }).what();
    EXPECT_NE(msg.find("integer"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hello"), std::string::npos) << msg;

    msg = error_from([] { (void)list(1).as_tuple(); }).what();
    EXPECT_NE(msg.find("tuple"), std::string::npos) << msg;
    msg = error_from([] { (void)tuple(1).as_map(); }).what();
    EXPECT_NE(msg.find("map"), std::string::npos) << msg;
}

TEST(TermAccess, EachAccessorRejectsEveryOtherKind) {
    std::vector<Term> samples{Term(1),      Term(1.5),         Term(atom("a")), Term(a_ref()),   a_local_fun(),
                              Term(Export{atom("m"), atom("f"), 0}), Term(a_port()), Term(a_pid()), tuple(1),
                              map({{1, 2}}), Term(),           list(1),         binary("x")};
    for (const Term& t : samples) {
        auto expect_badarg_unless = [&](bool ok, auto&& f) {
            if (ok) {
                EXPECT_NO_THROW(f()) << kind_name(t.kind());
            } else {
                EXPECT_EQ(error_from(f).reason(), atoms::badarg) << kind_name(t.kind());
            }
        };
        expect_badarg_unless(t.is_atom(), [&] { (void)t.as_atom(); });
        expect_badarg_unless(t.is_int64(), [&] { (void)t.as_int64(); });
        expect_badarg_unless(t.is_integer(), [&] { (void)t.as_bigint(); });
        expect_badarg_unless(t.is_float(), [&] { (void)t.as_double(); });
        expect_badarg_unless(t.is_number(), [&] { (void)t.as_number(); });
        expect_badarg_unless(t.is_binary(), [&] { (void)t.as_binary(); });
        expect_badarg_unless(t.is_tuple(), [&] { (void)t.as_tuple(); });
        expect_badarg_unless(t.is_list(), [&] { (void)t.as_list(); });
        expect_badarg_unless(t.is_map(), [&] { (void)t.as_map(); });
        expect_badarg_unless(t.is_pid(), [&] { (void)t.as_pid(); });
        expect_badarg_unless(t.is_port(), [&] { (void)t.as_port(); });
        expect_badarg_unless(t.is_ref(), [&] { (void)t.as_ref(); });
        expect_badarg_unless(t.is_export(), [&] { (void)t.as_export(); });
        expect_badarg_unless(t.is_function() && !t.is_export(), [&] { (void)t.as_fun(); });
        expect_badarg_unless(false, [&] { (void)t.as_bool(); });
    }
}

TEST(TermAccess, FloatsAreNotSilentlyIntegersNorIntegersFloats) {
    EXPECT_EQ(error_from([] { (void)Term(1.0).as_int64(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(1.0).as<int>(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(1).as_double(); }).reason(), atoms::badarg);
    EXPECT_EQ(Term(1).as_number(), 1.0);
    EXPECT_EQ(Term(2.5).as_number(), 2.5);
    EXPECT_EQ(Term(pow2(64)).as_number(), 18446744073709551616.0);
}

TEST(TermAccess, AsChecksTheRangeOfTheTargetType) {
    EXPECT_EQ(Term(127).as<std::int8_t>(), 127);
    EXPECT_EQ(Term(-128).as<std::int8_t>(), -128);
    EXPECT_EQ(error_from([] { (void)Term(128).as<std::int8_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(-129).as<std::int8_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(Term(255).as<std::uint8_t>(), 255);
    EXPECT_EQ(error_from([] { (void)Term(256).as<std::uint8_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(-1).as<std::uint8_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(-1).as<std::uint64_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(Term(std::numeric_limits<std::int64_t>::min()).as<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(error_from([] { (void)Term(pow2(63)).as<std::int64_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(Term(pow2(63)).as<std::uint64_t>(), std::uint64_t{1} << 63);
    EXPECT_EQ(error_from([] { (void)Term(pow2(64)).as<std::uint64_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(-pow2(64)).as<std::uint64_t>(); }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(pow2(64)).as_int64(); }).reason(), atoms::badarg);
    EXPECT_EQ(Term(pow2(64)).as_bigint(), pow2(64));
    EXPECT_EQ(error_from([] { (void)Term(atom("x")).as<int>(); }).reason(), atoms::badarg);
}

TEST(TermAccess, TupleIndexIsBoundsChecked) {
    Term t = tuple(1, 2);
    EXPECT_EQ(t[1], Term(2));
    EXPECT_EQ(error_from([&] { (void)t[2]; }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)tuple()[0]; }).reason(), atoms::badarg);
    EXPECT_EQ(error_from([] { (void)Term(1)[0]; }).reason(), atoms::badarg);
    EXPECT_EQ(Term(1).tuple_size(), 0u);
    EXPECT_EQ(t.tuple_size(), 2u);
    EXPECT_FALSE(t.is_tuple(3));
}

TEST(TermAccess, MovedFromTermIsNil) {
    Term a = tuple(1, 2);
    Term b = std::move(a);
    EXPECT_TRUE(a.is_nil()); // NOLINT(bugprone-use-after-move): the state is specified
    EXPECT_EQ(b, tuple(1, 2));
}

// --- Equality: =:= ----------------------------------------------------------------------------

TEST(TermEquality, IsExactNotArithmetic) {
    EXPECT_NE(Term(1), Term(1.0));     // 1 =/= 1.0
    EXPECT_NE(Term(0.0), Term(-0.0));  // 0.0 =/= -0.0, as OTP 27 has it
    EXPECT_EQ(Term(-0.0), Term(-0.0));
    EXPECT_NE(tuple(1), tuple(1.0));
    EXPECT_NE(list(1), list(1.0));
    EXPECT_NE(map({{1, 1}}), map({{1, 1.0}}));
    EXPECT_NE(map({{1, 1}}), map({{1.0, 1}}));
    EXPECT_EQ(Term(pow2(100)), Term(pow2(100)));
    EXPECT_NE(Term(pow2(100)), Term(-pow2(100)));
    EXPECT_NE(Term(pow2(64)), Term(18446744073709551616.0));
    EXPECT_NE(binary("a"), string("a"));
    EXPECT_NE(Term(atom("a")), binary("a"));
    EXPECT_NE(Term(), tuple());
    EXPECT_NE(Term(), binary(""));
}

TEST(TermEquality, StructurallyEqualTermsAreEqual) {
    auto make = [] {
        return tuple(atom("reply"), list(1, 2.5, binary("x"), Term(pow2(80))),
                     map({{atom("k"), tuple(Term(a_pid()), Term(a_ref()), Term(a_port()))}}), a_local_fun(),
                     list_from({1}, atom("t")), bits({0xA0}, 3));
    };
    Term a = make(), b = make();
    EXPECT_EQ(a, b);
    EXPECT_EQ(a <=> b, std::strong_ordering::equal);
    EXPECT_EQ(compare(a, b), 0);
    EXPECT_EQ(a.hash(), b.hash());
    EXPECT_EQ(std::hash<Term>{}(a), std::hash<Term>{}(b));
}

// --- Term order -------------------------------------------------------------------------------

TEST(TermOrder, KindsOrderNumberAtomRefFunPortPidTupleMapNilListBitString) {
    // lists:sort([<<1>>, [1], [], #{}, {}, self(), Port, fun lists:map/2, make_ref(), a, 1.0, 1])
    //   => [1, 1.0, a, #Ref<..>, fun lists:map/2, #Port<..>, <0.9.0>, {}, #{}, [], [1], <<1>>]
    std::vector<Term> ascending{Term(1),
                                Term(1.0),
                                Term(atom("a")),
                                Term(a_ref()),
                                a_local_fun(), // local funs before external ones: fun() -> ok end < fun a:b/0
                                Term(Export{atom("lists"), atom("map"), 2}),
                                Term(a_port()),
                                Term(a_pid()),
                                tuple(),
                                map({}),
                                Term(),
                                list(1),
                                binary(bytes({1}))};
    for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
        for (std::size_t j = i + 1; j < ascending.size(); ++j) {
            EXPECT_LT(sign(ascending[i] <=> ascending[j]), 0) << i << " vs " << j;
            EXPECT_GT(sign(ascending[j] <=> ascending[i]), 0) << j << " vs " << i;
            if (i != 0 || j != 1) {
                EXPECT_LT(compare(ascending[i], ascending[j]), 0) << i << " vs " << j;
                EXPECT_GT(compare(ascending[j], ascending[i]), 0) << j << " vs " << i;
            }
        }
    }
    EXPECT_LT(Term(pow2(2000)), Term(atom("")));
    EXPECT_LT(Term(std::numeric_limits<double>::max()), Term(atom("")));
    EXPECT_LT(Term(Export{atom("z"), atom("z"), 255}), Term(a_port()));
}

TEST(TermOrder, SpaceshipPutsEveryIntegerBeforeEveryFloat) {
    EXPECT_LT(Term(1), Term(1.0));
    EXPECT_GT(Term(1.0), Term(1));
    EXPECT_LT(Term(2), Term(1.0));
    EXPECT_LT(Term(2), Term(1.5));
    EXPECT_LT(Term(-1), Term(-1.5));
    EXPECT_LT(Term(pow2(64)), Term(18446744073709551616.0));
    EXPECT_LT(Term(pow2(64) + BigInt(1)), Term(18446744073709551616.0));
    EXPECT_LT(Term(0), Term(-0.0));
    EXPECT_LT(Term(0), Term(0.0));
    EXPECT_NE(Term(-0.0) <=> Term(0.0), std::strong_ordering::equal);
    // compare() is arithmetic: 1.5 < 2 there.
    EXPECT_LT(compare(Term(1.5), Term(2)), 0);
}

TEST(TermOrder, CompareIsArithmeticBetweenNumbers) {
    EXPECT_EQ(compare(Term(1), Term(1.0)), 0);       // 1 == 1.0
    EXPECT_LT(compare(Term(1), Term(2.5)), 0);       // 1 < 2.5
    EXPECT_GT(compare(Term(3), Term(2.5)), 0);
    EXPECT_EQ(compare(Term(0.0), Term(-0.0)), 0);    // 0.0 == -0.0
    EXPECT_EQ(compare(Term(0), Term(-0.0)), 0);
    EXPECT_LT(compare(Term(-0.5), Term(0)), 0);
    EXPECT_EQ(compare(tuple(1), tuple(1.0)), 0);     // {1} == {1.0}
    EXPECT_EQ(compare(list(1, 2), list(1.0, 2.0)), 0);
    EXPECT_EQ(compare(map({{atom("a"), 1}}), map({{atom("a"), 1.0}})), 0); // #{a=>1} == #{a=>1.0}
    EXPECT_NE(compare(map({{1, atom("a")}}), map({{1.0, atom("a")}})), 0); // #{1=>a} /= #{1.0=>a}
}

TEST(TermOrder, CompareBetweenIntegersAndFloatsIsExactBeyondDoublePrecision) {
    const double two64 = 18446744073709551616.0;
    // (1 bsl 64) == 18446744073709551616.0, (1 bsl 64) + 1 > it, (1 bsl 64) - 1 < it
    EXPECT_EQ(compare(Term(pow2(64)), Term(two64)), 0);
    EXPECT_GT(compare(Term(pow2(64) + BigInt(1)), Term(two64)), 0);
    EXPECT_LT(compare(Term(pow2(64) - BigInt(1)), Term(two64)), 0);
    EXPECT_LT(compare(Term(-pow2(64) - BigInt(1)), Term(-two64)), 0);
    // 9007199254740993 > 9007199254740992.0 although both convert to the same double
    EXPECT_GT(compare(Term(9007199254740993), Term(9007199254740992.0)), 0);
    EXPECT_LT(compare(Term(9007199254740992.0), Term(9007199254740993)), 0);
    // (1 bsl 2000) > 1.7976931348623157e308, -(1 bsl 2000) < -1.7976931348623157e308
    EXPECT_GT(compare(Term(pow2(2000)), Term(std::numeric_limits<double>::max())), 0);
    EXPECT_LT(compare(Term(-pow2(2000)), Term(-std::numeric_limits<double>::max())), 0);
    // A big integer against a float well inside the int64 range, and the reverse.
    EXPECT_GT(compare(Term(pow2(70)), Term(1.0e18)), 0);
    EXPECT_LT(compare(Term(-pow2(70)), Term(-1.0e18)), 0);
    EXPECT_LT(compare(Term(1.0e18), Term(pow2(70))), 0);
    EXPECT_GT(compare(Term(1.0e19), Term(std::numeric_limits<std::int64_t>::max())), 0);
    EXPECT_LT(compare(Term(-1.0e19), Term(std::numeric_limits<std::int64_t>::min())), 0);
    EXPECT_EQ(compare(Term(-9223372036854775808.0), Term(std::numeric_limits<std::int64_t>::min())), 0);
}

TEST(TermOrder, TuplesCompareBySizeThenElements) {
    EXPECT_LT(tuple(9), tuple(1, 1)); // {9} < {1,1}
    EXPECT_LT(tuple(1, 2), tuple(1, 3));
    EXPECT_LT(tuple(), tuple(atom("a")));
    EXPECT_GT(tuple(2, 1), tuple(1, 9));
}

TEST(TermOrder, ListsCompareElementByElementIncludingImproperTails) {
    EXPECT_LT(list(1, 2), list(1, 2, 3));                     // [1,2] < [1,2,3]
    EXPECT_GT(list(2), list(1, 2, 3));                        // [2] > [1,2,3]
    EXPECT_LT(Term(), list(atom("a")));                       // [] < [a]
    EXPECT_LT(list_from({1}, Term(2)), list(1, 2));           // [1|2] < [1,2]
    EXPECT_GT(list_from({1}, Term(2)), list_from({1}, Term(1))); // [1|2] > [1|1]
    EXPECT_LT(list_from({1}, atom("a")), list(1, 2));         // [1|a] < [1,2]
    EXPECT_LT(list_from({1}, binary("")), list_from({1}, binary("a")));
    EXPECT_GT(list_from({1}, binary("")), list(1, 2));        // a bit string tail is above any list
    EXPECT_LT(list_from({1}, Term(0)), list(1));               // [1|0] < [1]: the tails decide
    // lists:sort([[1,2],[1|2],[1],[1,2|3],[0,9]]) => [[0,9],[1|2],[1],[1,2|3],[1,2]]
    std::vector<Term> v{list(1, 2), list_from({1}, Term(2)), list(1), list_from({1, 2}, Term(3)), list(0, 9)};
    std::sort(v.begin(), v.end());
    std::vector<Term> expected{list(0, 9), list_from({1}, Term(2)), list(1), list_from({1, 2}, Term(3)), list(1, 2)};
    EXPECT_EQ(v, expected);
}

TEST(TermOrder, MapsCompareBySizeThenKeysThenValues) {
    // lists:sort([#{1.0=>a}, #{2=>a}, #{1=>a}]) => [#{1=>a}, #{2=>a}, #{1.0=>a}]: keys compare
    // in map-key order, where every integer precedes every float.
    Term m1 = map({{1, atom("a")}}), m2 = map({{2, atom("a")}}), m1f = map({{1.0, atom("a")}});
    EXPECT_LT(compare(m1, m2), 0);
    EXPECT_LT(compare(m2, m1f), 0);
    EXPECT_LT(compare(m1, m1f), 0);
    EXPECT_LT(m1, m2);
    EXPECT_LT(m2, m1f);
    // #{2=>a} < #{1.5=>a}, #{100=>a} < #{1.0=>a}
    EXPECT_LT(compare(m2, map({{1.5, atom("a")}})), 0);
    EXPECT_LT(compare(map({{100, atom("a")}}), m1f), 0);
    // #{c=>1} < #{a=>1,b=>1}: size first
    EXPECT_LT(map({{atom("c"), 1}}), map({{atom("a"), 1}, {atom("b"), 1}}));
    // #{a=>1,b=>2} < #{a=>2,b=>1}: all keys before any value
    EXPECT_LT(map({{atom("a"), 1}, {atom("b"), 2}}), map({{atom("a"), 2}, {atom("b"), 1}}));
    EXPECT_LT(map({{atom("a"), 9}, {atom("b"), 9}}), map({{atom("a"), 1}, {atom("c"), 1}}));
    // Nested numbers in keys too: lists:sort([#{[1.0]=>a}, #{[1,2]=>a}]) => [#{[1,2]=>a}, #{[1.0]=>a}]
    // although [1,2] > [1.0] outside a map.
    EXPECT_LT(compare(map({{list(1, 2), atom("a")}}), map({{list(1.0), atom("a")}})), 0);
    EXPECT_GT(compare(list(1, 2), list(1.0)), 0);
    // #{1=>b} < #{1=>c}
    EXPECT_LT(map({{1, atom("b")}}), map({{1, atom("c")}}));
}

TEST(TermOrder, BitStringsCompareBitByBitThenByLength) {
    EXPECT_LT(binary(bytes({1, 2})), binary(bytes({1, 3})));    // <<1,2>> < <<1,3>>
    EXPECT_LT(binary(bytes({1, 2})), binary(bytes({1, 2, 0}))); // <<1,2>> < <<1,2,0>>
    EXPECT_GT(binary(bytes({2})), binary(bytes({1, 2, 3})));    // <<2>> > <<1,2,3>>
    EXPECT_LT(bits({0x80}, 1), binary(bytes({128})));           // <<1:1>> < <<128>>
    EXPECT_GT(bits({0x80}, 1), binary(bytes({127})));           // <<1:1>> > <<127>>
    EXPECT_LT(binary(""), bits({0}, 1));                        // <<>> < <<0:1>>
    EXPECT_LT(bits({0x80}, 2), binary(bytes({128})));           // <<2:2>> < <<128>>
    EXPECT_LT(binary(bytes({1, 2})), bits({1, 0x40}, 11));      // <<1,2>> < <<1,2:3>>
    EXPECT_LT(bits({1, 0x40}, 11), binary(bytes({127})));       // <<1,2:3>> < <<127>>
}

TEST(TermOrder, AtomsCompareByText) {
    EXPECT_LT(Term(atom("a")), Term(atom("b")));
    EXPECT_LT(Term(atom("a")), Term(atom("aa")));
    EXPECT_LT(Term(atom("Zz")), Term(atom("a")));
    EXPECT_LT(Term(atom("zzz")), Term(atom("é")));
    EXPECT_LT(Term(atom("")), Term(atom("a")));
}

namespace {

// The same terms in Erlang syntax, in the order of this vector:
//   [1, 2.5, -1, 1 bsl 64, 1.0e19, -(1 bsl 70), a, b, aa, {}, {9}, {1,2}, {1,3},
//    #{}, #{1=>a}, #{2=>a}, #{1.0=>a}, #{1.5=>a}, #{a=>1, b=>2}, #{b=>0, c=>1},
//    [], [1], [1,2], [1,2,3], [2], [1|2], [1,2|3], [0,9],
//    <<>>, <<0:1>>, <<1,2>>, <<1,2:3>>, <<127>>, <<1:1>>, <<128>>,
//    "héllo", <<"abc">>, fun lists:map/2, fun erlang:abs/1, [a|b],
//    {a, [1], #{k => {1}}}, {a, [1], #{k => {2}}}, 9007199254740993, 9007199254740992.0,
//    -0.5, 'Zz', 'é', #{a => 1, 1 => a}, #{1 => b, 2.0 => a}]
// No two are arithmetically equal, so Erlang's order is a strict one.
std::vector<Term> erl_pool() {
    Atom a = atom("a"), b = atom("b"), c = atom("c"), k = atom("k");
    return {Term(1), Term(2.5), Term(-1), Term(pow2(64)), Term(1.0e19), Term(-pow2(70)), Term(a), Term(b),
            Term(atom("aa")), tuple(), tuple(9), tuple(1, 2), tuple(1, 3),
            map({}), map({{1, a}}), map({{2, a}}), map({{1.0, a}}), map({{1.5, a}}), map({{a, 1}, {b, 2}}),
            map({{b, 0}, {c, 1}}),
            Term(), list(1), list(1, 2), list(1, 2, 3), list(2), list_from({1}, Term(2)), list_from({1, 2}, Term(3)),
            list(0, 9),
            binary(""), bits({0}, 1), binary(bytes({1, 2})), bits({1, 0x40}, 11), binary(bytes({127})),
            bits({0x80}, 1), binary(bytes({128})),
            string("héllo"), binary("abc"), Term(Export{atom("lists"), atom("map"), 2}),
            Term(Export{atom("erlang"), atom("abs"), 1}), list_from({a}, b),
            tuple(a, list(1), map({{k, tuple(1)}})), tuple(a, list(1), map({{k, tuple(2)}})),
            Term(9007199254740993), Term(9007199254740992.0),
            Term(-0.5), Term(atom("Zz")), Term(atom("é")), map({{a, 1}, {1, a}}), map({{1, b}, {2.0, a}})};
}

// Indices into erl_pool() in the order
//   [I || {_, I} <- lists:sort(fun({A, _}, {B, _}) -> A =< B end, lists:zip(Pool, lists:seq(0, 48)))]
const std::vector<std::size_t> erl_sorted = {5,  2,  44, 0,  1,  43, 42, 4,  3,  45, 6,  8,  7,  46, 38, 37, 9,
                                             10, 11, 12, 40, 41, 13, 14, 15, 16, 17, 48, 47, 18, 19, 20, 27, 25,
                                             21, 26, 22, 23, 24, 35, 39, 28, 29, 30, 31, 36, 32, 33, 34};

std::vector<std::size_t> sorted_indices(const std::vector<Term>& pool,
                                        const std::function<bool(const Term&, const Term&)>& less) {
    std::vector<std::size_t> idx(pool.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t i, std::size_t j) { return less(pool[i], pool[j]); });
    return idx;
}

} // namespace

TEST(TermOrder, CompareSortsLikeErlangListsSort) {
    auto pool = erl_pool();
    ASSERT_EQ(pool.size(), erl_sorted.size());
    EXPECT_EQ(sorted_indices(pool, [](const Term& x, const Term& y) { return compare(x, y) < 0; }), erl_sorted);
}

// <=> is OTP's map-key order: Erlang term order except that every integer precedes every
// float, at any depth. maps:keys(#{2=>c,1.5=>d,[1,2]=>a,[1.0]=>b}) => [2,1.5,[1,2],[1.0]].
TEST(TermOrder, SpaceshipIsOtpMapKeyOrder) {
    EXPECT_LT(Term(2), Term(1.5));
    EXPECT_LT(Term(100), Term(1.0));
    EXPECT_LT(list(1, 2), list(1.0));
    EXPECT_LT(Term(1), Term(1.0));
    EXPECT_LT(Term(-0.0), Term(0.0));
    Term m = map({{2, atom("c")}, {1.5, atom("d")}, {list(1, 2), atom("a")}, {list(1.0), atom("b")}});
    auto v = m.as_map();
    EXPECT_EQ(v.key(0), Term(2));
    EXPECT_EQ(v.key(1), Term(1.5));
    EXPECT_EQ(v.key(2), list(1, 2));
    EXPECT_EQ(v.key(3), list(1.0));
}

TEST(TermOrder, SpaceshipSortsLikeErlangWhereNoFloatsAreInvolved) {
    auto pool = erl_pool();
    std::erase_if(pool, [](const Term& t) { return to_string(t).find('.') != std::string::npos; });
    std::vector<std::size_t> by_compare = sorted_indices(pool, [](const Term& x, const Term& y) { return compare(x, y) < 0; });
    EXPECT_EQ(sorted_indices(pool, [](const Term& x, const Term& y) { return x < y; }), by_compare);
}

TEST(TermOrder, SpaceshipIsATotalOrderConsistentWithEquality) {
    auto pool = erl_pool();
    // Pairs that compare() calls equal but =:= does not, and nested versions of them.
    for (Term t : {Term(1), Term(1.0), Term(0), Term(0.0), Term(-0.0), Term(pow2(64)), Term(18446744073709551616.0),
                   tuple(1), tuple(1.0), list(1.0), map({{atom("a"), 1.0}}), map({{atom("a"), 1}}),
                   Term(a_pid()), Term(a_pid(2)), Term(a_port()), Term(a_ref()), a_local_fun()})
        pool.push_back(t);
    for (const Term& a : pool) {
        EXPECT_EQ(a <=> a, std::strong_ordering::equal);
        EXPECT_EQ(compare(a, a), 0);
        for (const Term& b : pool) {
            auto ab = a <=> b;
            EXPECT_EQ(sign(ab), -sign(b <=> a));
            EXPECT_EQ(ab == 0, a == b);
            if (a == b) {
                EXPECT_EQ(a.hash(), b.hash());
            }
            EXPECT_EQ(sign(compare(a, b)), -sign(compare(b, a)));
            for (const Term& c : pool) {
                if (ab < 0 && (b <=> c) < 0) {
                    EXPECT_LT(sign(a <=> c), 0);
                }
            }
        }
    }
}

// --- Hashing ----------------------------------------------------------------------------------

TEST(TermHash, EqualTermsHashEquallyAndCommonOnesSpreadOut) {
    EXPECT_EQ(Term(pow2(100)).hash(), Term(*BigInt::from_string("1267650600228229401496703205376")).hash());
    EXPECT_EQ(string("abc").hash(), list('a', 'b', 'c').hash());
    EXPECT_EQ(list_from({1}, list(2)).hash(), list(1, 2).hash());
    std::unordered_set<Term> set;
    for (int i = 0; i < 1000; ++i) {
        set.insert(Term(i));
        set.insert(Term(static_cast<double>(i) + 0.5));
        set.insert(tuple(i));
    }
    set.insert(Term(1));
    set.insert(Term(1.0));
    set.insert(Term(1.0));
    EXPECT_EQ(set.size(), 3001u);
    std::unordered_set<std::size_t> hashes;
    for (int i = 0; i < 1000; ++i) hashes.insert(Term(i).hash());
    EXPECT_GT(hashes.size(), 990u);
}

// --- Sharing and lifetime ---------------------------------------------------------------------

TEST(TermLifetime, CopiesShareNodesInsteadOfCopyingData) {
    std::vector<std::uint8_t> mb(1 << 20);
    for (std::size_t i = 0; i < mb.size(); ++i) mb[i] = static_cast<std::uint8_t>(i * 31);
    Term original = binary(std::span<const std::uint8_t>(mb));
    Term copy = original;
    EXPECT_EQ(copy.as_binary().data(), original.as_binary().data());
    Term inside = tuple(original, original);
    EXPECT_EQ(inside[0].as_binary().data(), original.as_binary().data());
    EXPECT_EQ(inside[1].as_binary().data(), original.as_binary().data());
    Term assigned;
    assigned = inside[0];
    EXPECT_EQ(assigned.as_binary().data(), original.as_binary().data());
    // Dropping the first holder keeps the bytes alive for the others.
    original = Term();
    EXPECT_EQ(copy.as_binary()[12345], static_cast<std::uint8_t>(12345 * 31));
    EXPECT_EQ(copy, inside[1]);
}

TEST(TermLifetime, AMillionDeepNestedListIsComparedHashedAndDestroyedWithoutRecursion) {
    constexpr int depth = 1'000'000;
    auto build = [] {
        Term t = Term(atom("leaf"));
        for (int i = 0; i < depth; ++i) t = list(std::move(t));
        return t;
    };
    Term a = build();
    {
        Term b = build();
        EXPECT_TRUE(a == b);
        EXPECT_EQ(compare(a, b), 0);
        EXPECT_TRUE((a <=> b) == 0);
        EXPECT_EQ(a.hash(), b.hash());
    }
    Term c = a; // shared, so destroying a must leave c whole
    a = Term();
    const Term* t = &c;
    int n = 0;
    while (t->is_list() && !t->is_nil()) {
        t = &t->as_list().elements[0];
        ++n;
    }
    EXPECT_EQ(n, depth);
    EXPECT_TRUE(t->is_atom());
}

TEST(TermLifetime, AMillionDeepNestedTupleIsDestroyedWithoutRecursion) {
    Term t = Term(0);
    for (int i = 0; i < 1'000'000; ++i) t = tuple(std::move(t), i);
    t = Term();
    SUCCEED();
}

TEST(TermLifetime, TermsAreCopiedAndDroppedFromManyThreadsAtOnce) {
    auto make = [] {
        return tuple(atom("ok"), binary(std::vector<std::uint8_t>(1 << 16, 7)), list(1, 2, 3), Term(pow2(100)),
                     map({{atom("pid"), Term(a_pid())}}));
    };
    Term shared = make();
    constexpr int threads = 4;
    std::vector<std::thread> workers;
    // Each worker also gets terms whose last reference it will drop, holding shared sub-terms.
    std::vector<std::vector<Term>> handed(threads);
    for (int k = 0; k < threads; ++k)
        for (int i = 0; i < 1000; ++i) handed[k].push_back(tuple(shared[1], shared, i));
    std::atomic<bool> go{false};
    for (int k = 0; k < threads; ++k) {
        workers.emplace_back([&, k] {
            while (!go.load()) std::this_thread::yield();
            for (int i = 0; i < 50'000; ++i) {
                Term c = shared;
                Term d = tuple(c, c[1], c[3]);
                Term e = std::move(c);
                e = d[1];
            }
            handed[k].clear();
        });
    }
    go = true;
    for (auto& w : workers) w.join();
    EXPECT_EQ(shared, make());
    EXPECT_EQ(shared[1].as_binary().size(), std::size_t{1} << 16);
    // Every reference taken by the workers was given back.
    EXPECT_EQ(detail::TermAccess::node(shared)->rc.load(), 1u);
    EXPECT_EQ(detail::TermAccess::node(shared[1])->rc.load(), 1u);
}
