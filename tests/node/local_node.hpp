// A node for tests that need no peer: not registered with epmd, two threads of its own unless told.
#pragma once

#include <edist/node.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace edist::test {

// `quiet` drops the node's log lines, for tests where crashes are the point.
inline std::shared_ptr<Node> start_local_node(const std::string& name, bool quiet = false, unsigned threads = 2) {
    NodeOptions o;
    o.name = name + "@localhost";
    o.cookie = "test";
    o.register_with_epmd = false;
    o.threads = threads;
    if (quiet) o.log = [](LogLevel, std::string_view) {};
    auto n = Node::start(o);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().what());
    return n.ok() ? *n : nullptr;
}

} // namespace edist::test
