// Environment handling, as OTP's epmd and erl read ERL_EPMD_PORT / ERL_EPMD_ADDRESS /
// ERL_EPMD_RELAXED_COMMAND_CHECK.
#include <edist/epmd.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

using namespace edist::epmd;

namespace {
struct Env {
    Env(const char* name, const char* value) : name(name) {
        if (value) setenv(name, value, 1);
        else unsetenv(name);
    }
    ~Env() { unsetenv(name); }
    const char* name;
};
}  // namespace

TEST(EpmdOptions, DefaultPortIs4369WithoutErlEpmdPort) {
    Env e("ERL_EPMD_PORT", nullptr);
    EXPECT_EQ(default_epmd_port(), 4369);
}

TEST(EpmdOptions, ErlEpmdPortOverridesTheDefault) {
    Env e("ERL_EPMD_PORT", "5369");
    EXPECT_EQ(default_epmd_port(), 5369);
    EXPECT_EQ(ClientOptions{}.port, 5369);
    EXPECT_EQ(ServerOptions::from_environment().port, 5369);
}

TEST(EpmdOptions, MalformedErlEpmdPortFallsBackTo4369) {
    for (const char* bad : {"", "abc", "70000", "0", "12x"}) {
        Env e("ERL_EPMD_PORT", bad);
        EXPECT_EQ(default_epmd_port(), 4369) << bad;
    }
}

TEST(EpmdOptions, AddressesAndRelaxedCheckComeFromTheEnvironment) {
    Env a("ERL_EPMD_ADDRESS", "10.0.0.1, 10.0.0.2,,::1");
    Env r("ERL_EPMD_RELAXED_COMMAND_CHECK", "");  // set at all = on, as for OTP's epmd
    auto o = ServerOptions::from_environment();
    EXPECT_EQ(o.addresses, (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "::1"}));
    EXPECT_TRUE(o.relaxed_command_check);
}
