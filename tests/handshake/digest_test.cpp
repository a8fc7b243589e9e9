// The cookie digest, against values computed by erl:
//   erlang:md5([Cookie | integer_to_list(Challenge)])   (OTP 25.2.3)
#include "handshake/digest.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

using namespace edist::handshake;

namespace {
std::string hex(const Digest& d) {
    std::string s;
    for (auto b : d) s += fmt::format("{:02X}", b);
    return s;
}
} // namespace

TEST(Digest, CookieThenDecimalChallengeLikeErl) {
    EXPECT_EQ(hex(gen_digest(0, "cookie")), "E607172A1A7ADB262D2D98462463B1A9");
    EXPECT_EQ(hex(gen_digest(123456789, "cookie")), "5080AD74AF33567E1EC1FB4A512923DA");
    EXPECT_EQ(hex(gen_digest(4294967295u, "ABCDEFGHIJKLMNOPQRST")),
              "B115C6B11F3C31A86BCB9AADF6B1DC9A");
}

TEST(Digest, ComparisonNeedsAllSixteenBytes) {
    const Digest d = gen_digest(1, "c");
    EXPECT_TRUE(digest_equal(d, d));
    EXPECT_FALSE(digest_equal(d, std::span(d).first(15)));
    Digest e = d;
    e[15] ^= 1;
    EXPECT_FALSE(digest_equal(d, e));
}

TEST(Digest, ChallengesVary) {
    const auto a = gen_challenge(), b = gen_challenge(), c = gen_challenge();
    EXPECT_FALSE(a == b && b == c);
}
