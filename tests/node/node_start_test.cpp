// Node::start refuses names erl would refuse, with badarg and a message saying which part, and
// tick times too short to tick by.
#include <edist/node.hpp>

#include <gtest/gtest.h>

using namespace edist;

namespace {

Result<std::shared_ptr<Node>> start_named(const std::string& name) {
    NodeOptions o;
    o.name = name;
    o.cookie = "test";
    o.register_with_epmd = false;
    o.log = [](LogLevel, std::string_view) {};
    return Node::start(o);
}

} // namespace

TEST(NodeStart, NamesErlRefusesAreRefused) {
    for (const std::string name : {"a b@localhost", "a.b@localhost", "a+b@localhost", "\xc3\xa9@localhost",
                                   "x\ny@localhost", "a@b@c", "@localhost", "a@", "a@bad\thost"}) {
        auto n = start_named(name);
        ASSERT_FALSE(n.ok()) << "started as " << name;
        EXPECT_EQ(n.error().reason(), atoms::badarg) << name;
        EXPECT_NE(std::string(n.error().what()).find("name"), std::string::npos) << n.error().what();
    }
}

TEST(NodeStart, NamesErlAcceptsStart) {
    for (const std::string name : {"plain@localhost", "with_under-dash9@localhost", "n@127.0.0.1"}) {
        auto n = start_named(name);
        ASSERT_TRUE(n.ok()) << name << ": " << n.error().what();
        EXPECT_EQ((*n)->name().name(), name);
        (*n)->stop();
    }
}

// A tick is written every quarter of net_ticktime: under 4 ms that would be a timer of 0 ms.
// Durations past a billion seconds are refused too: no steady_clock deadline could hold them.
TEST(NodeStart, ATicktimeTooShortToTickOrTooLongForAClockIsRefusedAtStartAndWhenChanged) {
    using namespace std::chrono_literals;
    NodeOptions o;
    o.name = "ticks@localhost";
    o.cookie = "test";
    o.register_with_epmd = false;
    o.log = [](LogLevel, std::string_view) {};
    o.net_ticktime = 3ms;
    auto refused = Node::start(o);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().reason(), atoms::badarg);
    EXPECT_NE(std::string(refused.error().what()).find("net_ticktime"), std::string::npos) << refused.error().what();

    o.net_ticktime = 4ms;
    auto n = Node::start(o);
    ASSERT_TRUE(n.ok()) << n.error().what();
    EXPECT_EQ((*n)->net_ticktime().ticktime, 4ms);
    auto r = (*n)->set_net_ticktime(3ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), atoms::badarg);
    r = (*n)->set_net_ticktime(10s, -1ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), atoms::badarg);
    // Durations no clock deadline can hold are refused rather than overflowing one.
    r = (*n)->set_net_ticktime(std::chrono::milliseconds::max());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), atoms::badarg);
    r = (*n)->set_net_ticktime(10s, std::chrono::milliseconds::max());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), atoms::badarg);
    EXPECT_EQ((*n)->net_ticktime().ticktime, 4ms) << "a refused change changes nothing";
    r = (*n)->set_net_ticktime(10s, 0s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->first, Node::TicktimeChange::change_initiated);
    EXPECT_EQ((*n)->net_ticktime().ticktime, 10s);
    EXPECT_FALSE((*n)->net_ticktime().changing);
    (*n)->stop();
}
