// BigInt: the integers Erlang holds beyond 64 bits. Expected strings were produced by erl 25;
// the expression that produced each is in the comment beside it.
#include <edist/bigint.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using edist::BigInt;

namespace {

BigInt pow2(unsigned n) {
    std::vector<std::uint8_t> bytes(n / 8 + 1, 0);
    bytes[n / 8] = static_cast<std::uint8_t>(1u << (n % 8));
    return BigInt::from_le_bytes(bytes, false);
}

BigInt dec(std::string_view s) {
    auto v = BigInt::from_string(s);
    if (!v) throw std::runtime_error("bad test literal");
    return *v;
}

std::vector<std::uint8_t> bytes_of(const BigInt& v) {
    std::vector<std::uint8_t> out;
    v.to_le_bytes(out);
    return out;
}

// 2^2040, from integer_to_list(1 bsl 2040).
constexpr const char* two_2040 =
    "126238304966058622268417487065116999845484776053576109500509161826268184136202698801551568013761380717534054534851164138"
    "648904527931605160527688095259563605939964364716019515983399209962459578542172100149937763938581219604072733422507180056"
    "009672540900709554109516816573779593326332288314873251559077853068444977864803391962580800682760017849589281937637993445"
    "539366428356761821065267423102149447628375691862210717202025241630303118559188678304314076943801692528246980959705901641"
    "444238894928620825482303431806955690226308773426829503900930529395181208739591967195841536053143145775307050594328881077"
    "553168201547776";

} // namespace

// --- Representation ---------------------------------------------------------------------------

TEST(BigInt, ZeroHasNoLimbsAndIsNotNegative) {
    BigInt z;
    EXPECT_TRUE(z.is_zero());
    EXPECT_FALSE(z.negative());
    EXPECT_TRUE(z.limbs().empty());
    EXPECT_EQ(BigInt(0), z);
    EXPECT_EQ(-z, z);
    EXPECT_FALSE((-z).negative());
    EXPECT_EQ(BigInt(5) - BigInt(5), z);
    EXPECT_FALSE((BigInt(-5) + BigInt(5)).negative());
    EXPECT_EQ(z.to_string(), "0");
}

TEST(BigInt, LimbsAreLeastSignificantFirstWithoutLeadingZeros) {
    BigInt v = BigInt::from_uint64(0x0000000100000002ull);
    ASSERT_EQ(v.limbs().size(), 2u);
    EXPECT_EQ(v.limbs()[0], 2u);
    EXPECT_EQ(v.limbs()[1], 1u);
    EXPECT_EQ(BigInt(0xFFFFFFFF).limbs().size(), 1u);
    EXPECT_EQ(pow2(64).limbs().size(), 3u);
    EXPECT_EQ((pow2(64) - BigInt(1)).limbs().size(), 2u);
}

TEST(BigInt, Int64MinRoundTrips) {
    BigInt m(std::numeric_limits<std::int64_t>::min());
    EXPECT_TRUE(m.negative());
    EXPECT_TRUE(m.fits_int64());
    EXPECT_EQ(m.to_int64(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(m.to_string(), "-9223372036854775808"); // integer_to_list(-(1 bsl 63))
    EXPECT_EQ(m, -pow2(63));
}

// --- fits / to_int64 / to_uint64 ------------------------------------------------------------

TEST(BigInt, FitsInt64ExactlyBetweenMinusTwoTo63AndTwoTo63MinusOne) {
    EXPECT_TRUE((pow2(63) - BigInt(1)).fits_int64());
    EXPECT_EQ((pow2(63) - BigInt(1)).to_int64(), std::numeric_limits<std::int64_t>::max());
    EXPECT_FALSE(pow2(63).fits_int64());
    EXPECT_TRUE((-pow2(63)).fits_int64());
    EXPECT_FALSE((-pow2(63) - BigInt(1)).fits_int64());
    EXPECT_FALSE(pow2(64).fits_int64());
    EXPECT_TRUE(BigInt(-1).fits_int64());
    EXPECT_EQ(BigInt(-1).to_int64(), -1);
    EXPECT_EQ(BigInt(0).to_int64(), 0);
}

TEST(BigInt, ToUint64CoversTheUnsignedRangeOnly) {
    EXPECT_EQ(pow2(63).to_uint64(), std::uint64_t{1} << 63);
    EXPECT_EQ((pow2(64) - BigInt(1)).to_uint64(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(BigInt::from_uint64(std::numeric_limits<std::uint64_t>::max()), pow2(64) - BigInt(1));
    EXPECT_FALSE(pow2(64).to_uint64());
    EXPECT_FALSE(BigInt(-1).to_uint64());
    EXPECT_EQ(BigInt(0).to_uint64(), 0u);
}

// --- ETF digits -------------------------------------------------------------------------------

TEST(BigInt, LeBytesMatchTermToBinaryDigits) {
    // term_to_binary(1 bsl 64) => <<131,110,9,0, 0,0,0,0,0,0,0,0,1>>
    EXPECT_EQ(bytes_of(pow2(64)), (std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(pow2(64).le_byte_count(), 9u);
    // term_to_binary(-(1 bsl 70) - 1) => <<131,110,9,1, 1,0,0,0,0,0,0,0,64>>
    BigInt v = -pow2(70) - BigInt(1);
    EXPECT_EQ(bytes_of(v), (std::vector<std::uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 64}));
    std::vector<std::uint8_t> digits{1, 0, 0, 0, 0, 0, 0, 0, 64};
    EXPECT_EQ(BigInt::from_le_bytes(digits, true), v);
}

TEST(BigInt, LeByteCountHasNoTrailingZeroByte) {
    EXPECT_EQ(BigInt(0).le_byte_count(), 0u);
    EXPECT_TRUE(bytes_of(BigInt(0)).empty());
    EXPECT_EQ(BigInt(255).le_byte_count(), 1u);
    EXPECT_EQ(BigInt(256).le_byte_count(), 2u);
    EXPECT_EQ(BigInt(-0x1000000).le_byte_count(), 4u);
    EXPECT_EQ(BigInt(0x100000000).le_byte_count(), 5u);
    EXPECT_EQ(pow2(2040).le_byte_count(), 256u);
    EXPECT_EQ(bytes_of(pow2(2040)).size(), 256u);
}

TEST(BigInt, ToLeBytesAppendsToWhatIsAlreadyThere) {
    std::vector<std::uint8_t> out{0xAA};
    BigInt(0x0102).to_le_bytes(out);
    EXPECT_EQ(out, (std::vector<std::uint8_t>{0xAA, 0x02, 0x01}));
}

TEST(BigInt, FromLeBytesDropsZeroPaddingAndNegativeZero) {
    std::vector<std::uint8_t> padded{5, 0, 0, 0, 0, 0, 0, 0, 0};
    BigInt v = BigInt::from_le_bytes(padded, false);
    EXPECT_EQ(v, BigInt(5));
    EXPECT_EQ(v.limbs().size(), 1u);
    std::vector<std::uint8_t> zeros{0, 0, 0};
    BigInt z = BigInt::from_le_bytes(zeros, true);
    EXPECT_TRUE(z.is_zero());
    EXPECT_FALSE(z.negative());
    EXPECT_EQ(BigInt::from_le_bytes({}, true), BigInt());
}

TEST(BigInt, BytesRoundTripForManySizes) {
    for (std::size_t n = 1; n <= 40; ++n) {
        std::vector<std::uint8_t> digits(n);
        for (std::size_t i = 0; i < n; ++i) digits[i] = static_cast<std::uint8_t>(i * 37 + n + 1);
        digits.back() = static_cast<std::uint8_t>(digits.back() | 1); // no trailing zero
        for (bool neg : {false, true}) {
            BigInt v = BigInt::from_le_bytes(digits, neg);
            EXPECT_EQ(v.negative(), neg);
            EXPECT_EQ(bytes_of(v), digits) << n;
            EXPECT_EQ(v.le_byte_count(), n);
        }
    }
}

// --- Text -------------------------------------------------------------------------------------

TEST(BigInt, ToStringMatchesIntegerToList) {
    EXPECT_EQ(pow2(64).to_string(), "18446744073709551616"); // integer_to_list(1 bsl 64)
    EXPECT_EQ(pow2(2040).to_string(), two_2040);
    BigInt v = pow2(200) - BigInt(12345);
    // integer_to_list(1 bsl 200 - 12345, 16)
    EXPECT_EQ(v.to_string(16), "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFCFC7");
    // integer_to_list(1 bsl 200 - 12345)
    EXPECT_EQ(v.to_string(), "1606938044258990275541962092341162602522202993782792835289031");
    BigInt w = -pow2(100) + BigInt(7);
    EXPECT_EQ(w.to_string(36), "-3EWFDNCA0N6LD1GGVFG9"); // integer_to_list(-(1 bsl 100) + 7, 36)
    // integer_to_list(-(1 bsl 100) + 7, 7)
    EXPECT_EQ(w.to_string(7), "-322653455556104044451560330542514122");
    // integer_to_list(-(1 bsl 100) + 7, 2)
    EXPECT_EQ(w.to_string(2), "-" + std::string(97, '1') + "001");
    EXPECT_EQ((pow2(70) - BigInt(1)).to_string(36), "6X5KXTVUWILUKF"); // integer_to_list(1 bsl 70 - 1, 36)
}

TEST(BigInt, ToStringPadsInnerChunksWithZeros) {
    // 10^18 + 1 spans two 10^9 chunks whose lower one is "000000001".
    EXPECT_EQ(dec("1000000000000000001").to_string(), "1000000000000000001");
    EXPECT_EQ(dec("1000000000000000000000000000000").to_string(), "1000000000000000000000000000000");
    EXPECT_EQ(pow2(96).to_string(16), "1000000000000000000000000");
}

TEST(BigInt, FromStringAcceptsEitherCaseAndASign) {
    EXPECT_EQ(BigInt::from_string("zZ09aB", 36), BigInt(2175114755)); // list_to_integer("zZ09aB", 36)
    EXPECT_EQ(BigInt::from_string("ff", 16), BigInt(255));
    EXPECT_EQ(BigInt::from_string("FF", 16), BigInt(255));
    EXPECT_EQ(BigInt::from_string("+42"), BigInt(42));
    EXPECT_EQ(BigInt::from_string("-42"), BigInt(-42));
    EXPECT_EQ(BigInt::from_string("-0"), BigInt(0));
    EXPECT_FALSE(BigInt::from_string("-0")->negative());
    EXPECT_EQ(BigInt::from_string("000000000000000000000000000000123"), BigInt(123));
    EXPECT_EQ(BigInt::from_string("-9223372036854775808"), BigInt(std::numeric_limits<std::int64_t>::min()));
    EXPECT_EQ(BigInt::from_string("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFCFC7", 16), pow2(200) - BigInt(12345));
}

TEST(BigInt, FromStringRejectsWhatIsNoNumber) {
    EXPECT_FALSE(BigInt::from_string(""));
    EXPECT_FALSE(BigInt::from_string("-"));
    EXPECT_FALSE(BigInt::from_string("+"));
    EXPECT_FALSE(BigInt::from_string("+-1"));
    EXPECT_FALSE(BigInt::from_string("--1"));
    EXPECT_FALSE(BigInt::from_string(" 1"));
    EXPECT_FALSE(BigInt::from_string("1 "));
    EXPECT_FALSE(BigInt::from_string("12a"));
    EXPECT_FALSE(BigInt::from_string("102", 2));
    EXPECT_FALSE(BigInt::from_string("g", 16));
    EXPECT_FALSE(BigInt::from_string("1.0"));
    EXPECT_FALSE(BigInt::from_string(std::string_view("1\0", 2)));
    EXPECT_FALSE(BigInt::from_string("\xff"));
    EXPECT_FALSE(BigInt::from_string("10", 1));
    EXPECT_FALSE(BigInt::from_string("10", 37));
    // A bad digit deep inside a long input is still found.
    std::string long_text(5000, '1');
    long_text[3777] = '#';
    EXPECT_FALSE(BigInt::from_string(long_text));
}

TEST(BigInt, TextRoundTripsInEveryBase) {
    std::vector<BigInt> values{BigInt(0), BigInt(1), BigInt(-1), BigInt(35), BigInt(36),
                               BigInt(std::numeric_limits<std::int64_t>::min()),
                               BigInt(std::numeric_limits<std::int64_t>::max()),
                               pow2(64), -pow2(64), pow2(200) - BigInt(12345), -pow2(2040),
                               dec("123456789012345678901234567890") * dec("-987654321098765432109876543210")};
    for (int base = 2; base <= 36; ++base) {
        for (const BigInt& v : values) {
            std::string s = v.to_string(base);
            auto back = BigInt::from_string(s, base);
            ASSERT_TRUE(back) << s;
            EXPECT_EQ(*back, v) << "base " << base << ": " << s;
        }
    }
}

TEST(BigInt, TenThousandDigitsParseQuicklyAndAgreeWithErl) {
    std::string digits(10000, '7');
    auto start = std::chrono::steady_clock::now();
    auto v = BigInt::from_string(digits);
    std::string back = v->to_string();
    std::string hex = v->to_string(16);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(back, digits);
    // H = integer_to_list(list_to_integer(lists:duplicate(10000, $7)), 16):
    // length(H) = 8305, first 16 = 78F599AD97C5BC8A, last 16 = 1C71C71C71C71C71
    ASSERT_EQ(hex.size(), 8305u);
    EXPECT_EQ(hex.substr(0, 16), "78F599AD97C5BC8A");
    EXPECT_EQ(hex.substr(hex.size() - 16), "1C71C71C71C71C71");
    // Quadratic in limbs with word-sized steps is a few milliseconds; digit-at-a-time bignum
    // arithmetic would be far slower.
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 2000);

    // The chunked parser agrees with plain digit-by-digit Horner evaluation.
    BigInt horner;
    const BigInt ten(10), seven(7);
    for (int i = 0; i < 2000; ++i) horner = horner * ten + seven;
    EXPECT_EQ(BigInt::from_string(std::string(2000, '7')), horner);
}

// --- Doubles ----------------------------------------------------------------------------------

TEST(BigInt, ToDoubleIsExactWhereADoubleCanBe) {
    EXPECT_EQ(BigInt(0).to_double(), 0.0);
    EXPECT_EQ(BigInt(-3).to_double(), -3.0);
    EXPECT_EQ(pow2(64).to_double(), std::ldexp(1.0, 64));
    EXPECT_EQ(pow2(1023).to_double(), std::ldexp(1.0, 1023));
    EXPECT_EQ((-pow2(2040)).to_double(), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(BigInt(std::numeric_limits<std::int64_t>::min()).to_double(), -std::ldexp(1.0, 63));
}

TEST(BigInt, ToDoubleRoundsToNearestTiesToEven) {
    // float(1 bsl 200 - 12345) => 1.6069380442589903e60
    EXPECT_EQ((pow2(200) - BigInt(12345)).to_double(), 1.6069380442589903e60);
    // float((1 bsl 53) + 1) => 9.007199254740992e15 (a tie, to even)
    EXPECT_EQ((pow2(53) + BigInt(1)).to_double(), 9007199254740992.0);
    const double two80 = std::ldexp(1.0, 80);
    // At 2^80 one ulp is 2^28. float((1 bsl 80) + (1 bsl 27)) == math:pow(2, 80): a tie, to even.
    EXPECT_EQ((pow2(80) + pow2(27)).to_double(), two80);
    // float((1 bsl 80) + (1 bsl 27) + 1) => 1.2089258196146294e24: just above the tie, so up;
    // the deciding bit lies below the top 64 bits.
    EXPECT_EQ((pow2(80) + pow2(27) + BigInt(1)).to_double(), two80 + std::ldexp(1.0, 28));
    EXPECT_EQ((pow2(200) + pow2(147) + BigInt(1)).to_double(), std::ldexp(1.0, 200) + std::ldexp(1.0, 148));
    // float((1 bsl 80) + 3 * (1 bsl 27)) == math:pow(2, 80) + math:pow(2, 29): a tie, to even.
    EXPECT_EQ((pow2(80) + BigInt(3) * pow2(27)).to_double(), two80 + std::ldexp(1.0, 29));
    EXPECT_EQ((-(pow2(80) + pow2(27) + BigInt(1))).to_double(), -(two80 + std::ldexp(1.0, 28)));
}

TEST(BigInt, ToDoubleOverflowsToInfinityOnlyPastTheLargestDouble) {
    const double max = std::numeric_limits<double>::max();
    // float((1 bsl 1024) - (1 bsl 970) - 1) => 1.7976931348623157e308
    EXPECT_EQ((pow2(1024) - pow2(970) - BigInt(1)).to_double(), max);
    // Exactly halfway between the largest double and 2^1024 rounds (to even) away.
    EXPECT_EQ((pow2(1024) - pow2(970)).to_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(pow2(1024).to_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ((-pow2(100000)).to_double(), -std::numeric_limits<double>::infinity());
}

// --- Arithmetic -------------------------------------------------------------------------------

TEST(BigInt, ProductMatchesErl) {
    BigInt a = dec("123456789012345678901234567890");
    BigInt b = dec("987654321098765432109876543210");
    // integer_to_list(123456789012345678901234567890 * 987654321098765432109876543210)
    EXPECT_EQ((a * b).to_string(), "121932631137021795226185032733622923332237463801111263526900");
    // integer_to_list(-123456789012345678901234567890 * 987654321098765432109876543210 + 55)
    EXPECT_EQ((-a * b + BigInt(55)).to_string(), "-121932631137021795226185032733622923332237463801111263526845");
    EXPECT_EQ((a * -b), -(a * b));
    EXPECT_EQ((-a * -b), a * b);
    EXPECT_TRUE((a * BigInt(0)).is_zero());
    EXPECT_FALSE((-a * BigInt(0)).negative());
}

TEST(BigInt, CarriesAndBorrowsRunAcrossEveryLimb) {
    BigInt all_ones = pow2(256) - BigInt(1);
    EXPECT_EQ(all_ones.limbs().size(), 8u);
    for (auto l : all_ones.limbs()) EXPECT_EQ(l, 0xFFFFFFFFu);
    BigInt sum = all_ones + BigInt(1);
    EXPECT_EQ(sum, pow2(256));
    EXPECT_EQ(sum.limbs().size(), 9u);
    EXPECT_EQ(sum - BigInt(1), all_ones);
    EXPECT_EQ(BigInt(1) - sum, -all_ones);
    // (2^256 - 1)^2 = 2^512 - 2^257 + 1
    EXPECT_EQ(all_ones * all_ones, pow2(512) - pow2(257) + BigInt(1));
    EXPECT_EQ(BigInt::from_uint64(0xFFFFFFFFFFFFFFFFull) * BigInt::from_uint64(0xFFFFFFFFFFFFFFFFull),
              pow2(128) - pow2(65) + BigInt(1));
}

TEST(BigInt, ArithmeticIdentitiesHoldAcrossSigns) {
    std::vector<BigInt> vs{BigInt(0), BigInt(1), BigInt(-1), BigInt(std::numeric_limits<std::int64_t>::min()),
                           pow2(64), -pow2(64) + BigInt(3), pow2(200) - BigInt(12345), -pow2(2040),
                           dec("-123456789012345678901234567890")};
    for (const auto& a : vs) {
        EXPECT_EQ(a + BigInt(0), a);
        EXPECT_EQ(a - a, BigInt(0));
        EXPECT_EQ(a + (-a), BigInt(0));
        EXPECT_EQ(-(-a), a);
        EXPECT_EQ(a * BigInt(1), a);
        EXPECT_EQ(a * BigInt(-1), -a);
        for (const auto& b : vs) {
            EXPECT_EQ(a + b, b + a);
            EXPECT_EQ(a * b, b * a);
            EXPECT_EQ((a + b) - b, a);
            EXPECT_EQ(a - b, -(b - a));
            for (const auto& c : vs) {
                EXPECT_EQ(a * (b + c), a * b + a * c);
                EXPECT_EQ((a + b) + c, a + (b + c));
            }
        }
    }
}

TEST(BigInt, SmallArithmeticAgreesWithInt64) {
    // Magnitudes stay below sqrt(2^63) so that the int64 reference products cannot overflow.
    const std::int64_t xs[] = {0, 1, -1, 7, -13, 65535, -65536, 2147483647, -2147483648, 3037000499, -3037000499};
    for (auto x : xs)
        for (auto y : xs) {
            EXPECT_EQ((BigInt(x) + BigInt(y)).to_int64(), x + y);
            EXPECT_EQ((BigInt(x) - BigInt(y)).to_int64(), x - y);
            EXPECT_EQ((BigInt(x) * BigInt(y)).to_int64(), x * y);
            EXPECT_EQ(BigInt(x) <=> BigInt(y), x <=> y);
        }
}

// --- Order and hash ---------------------------------------------------------------------------

TEST(BigInt, OrderIsNumeric) {
    std::vector<BigInt> ascending{-pow2(2040), -pow2(64) - BigInt(1), -pow2(64), -pow2(63), BigInt(-1), BigInt(0),
                                  BigInt(1), pow2(32) - BigInt(1), pow2(32), pow2(63), pow2(64), pow2(2040)};
    for (std::size_t i = 0; i < ascending.size(); ++i)
        for (std::size_t j = 0; j < ascending.size(); ++j)
            EXPECT_EQ(ascending[i] <=> ascending[j], i <=> j) << i << " vs " << j;
}

TEST(BigInt, EqualValuesHashEqually) {
    BigInt a = pow2(200) - BigInt(12345);
    BigInt b = *BigInt::from_string("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFCFC7", 16);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.hash(), b.hash());
    EXPECT_EQ(BigInt(0).hash(), (BigInt(3) - BigInt(3)).hash());
    EXPECT_EQ(BigInt(0).hash(), BigInt::from_le_bytes(std::vector<std::uint8_t>{0, 0}, true).hash());
    EXPECT_NE(a.hash(), (-a).hash());
    EXPECT_NE(pow2(64).hash(), pow2(65).hash());
}
