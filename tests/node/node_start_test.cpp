// Node::start refuses names erl would refuse, with badarg and a message saying which part.
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
