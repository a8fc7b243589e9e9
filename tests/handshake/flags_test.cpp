// Distribution flags: the sets each OTP release demands, and the names OTP logs them by.
#include <edist/flags.hpp>

#include <gtest/gtest.h>

using namespace edist;

TEST(DistFlags, MandatorySetsMatchOtp) {
    EXPECT_EQ(dflag::MANDATORY_24, 0x50184u);
    EXPECT_EQ(dflag::MANDATORY_25, 0x1070F94u); // erts_internal:get_dflags() on OTP 25.2.3
    EXPECT_EQ(dflag::MANDATORY_26, 0x403070F94u);
    EXPECT_EQ(dflag::OTP_DEFAULT, 0xD07DF7FBCu); // the default offer of OTP 25.2.3
}

TEST(DistFlags, DigestExpandsToEveryOtp25MandatoryFlag) {
    EXPECT_EQ(dflag::expand_mandatory_25_digest(dflag::MANDATORY_25_DIGEST),
              dflag::MANDATORY_25_DIGEST | dflag::MANDATORY_25);
    EXPECT_EQ(dflag::expand_mandatory_25_digest(dflag::V4_NC), dflag::V4_NC);
}

TEST(DistFlags, MissingFlagsAreNamedHighestFirstLikeOtp) {
    const auto missing = missing_dflags(dflag::MANDATORY_26, dflag::MANDATORY_25);
    ASSERT_EQ(missing.size(), 2u);
    EXPECT_EQ(format_dflag_list(missing), "[\"V4_NC\",\"UNLINK_ID\"]");
    EXPECT_TRUE(missing_dflags(dflag::MANDATORY_26, dflag::OTP_DEFAULT).empty());
}

TEST(DistFlags, EveryKnownBitHasOtpsName) {
    EXPECT_EQ(dflag_name(dflag::MANDATORY_25_DIGEST), "MANDATORY_25_DIGEST");
    EXPECT_EQ(dflag_name(dflag::NAME_ME), "NAME_ME");
    EXPECT_EQ(dflag_name(DistFlags{1} << 40), "UNKNOWN<10000000000>");
    EXPECT_EQ(format_dflags(dflag::PUBLISHED | dflag::SPAWN), "PUBLISHED|SPAWN");
    EXPECT_EQ(format_dflags(0), "0");
}
