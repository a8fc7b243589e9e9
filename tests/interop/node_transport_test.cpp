// Pluggable resolution against real erl: epmd-less clusters. erl runs as
// `-erl_epmd_port P -start_epmd false` (every node listens on P, nobody asks epmd), the C++
// node uses static_resolver(P) or a node -> host:port map, and they connect both ways with no
// epmd running anywhere.
//
// Two nodes cannot both listen on P on one host, so each gets its own loopback address
// (127.0.0.2, 127.0.0.3: long names, erl bound with inet_dist_use_interface), which is the
// epmd-less model itself: the same port on every host.
#include "interop/node_support.hpp"

#include <edist/node.hpp>
#include <edist/text.hpp>
#include <edist/transport.hpp>

#include <gtest/gtest.h>

using namespace edist;
using namespace edist::test;
using namespace std::chrono_literals;

namespace {

// A TCP listener that counts connections: stands where an epmd would be, so a test can show
// that nobody asked it anything.
class NotAnEpmd {
public:
    NotAnEpmd() : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~NotAnEpmd() {
        asio::post(io_, [this] { acceptor_.close(); });
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    int connections() const { return connections_; }

private:
    void accept() {
        acceptor_.async_accept([this](const std::error_code& ec, asio::ip::tcp::socket) {
            if (ec) return;
            ++connections_;
            accept();
        });
    }
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::atomic<int> connections_{0};
    std::thread thread_;
};

class NodeTransport : public ::testing::Test {
protected:
    void SetUp() override {
        if (!erl_available()) GTEST_SKIP() << "erl is not installed";
    }

    // erl name@127.0.0.2, epmd-less: listens on dist_port, ERL_EPMD_PORT points at nothing.
    std::unique_ptr<ErlNode> start_erl(const std::string& name, std::uint16_t dist_port) {
        ErlOptions o;
        o.name = name;
        o.long_names = true;
        o.host = "127.0.0.2";
        o.epmd_port = not_epmd_.port();
        o.args = {"-erl_epmd_port", std::to_string(dist_port), "-kernel", "inet_dist_use_interface", "{127,0,0,2}"};
        return std::make_unique<ErlNode>(o);
    }

    // cpp name@127.0.0.3 with `resolver`; its epmd options point at a listener that must stay
    // unasked.
    std::unique_ptr<CppNode> start_cpp(const std::string& name, std::shared_ptr<Resolver> resolver,
                                       std::uint16_t listen_port = 0) {
        return std::make_unique<CppNode>(name + "@127.0.0.3", cpp_epmd_.port(), "edist_node_test",
                                         [&](NodeOptions& o) {
                                             o.long_names = true;
                                             o.listen_address = "127.0.0.3";
                                             o.listen_port = listen_port;
                                             o.resolver = resolver;
                                         });
    }

    NotAnEpmd not_epmd_; // erl's ERL_EPMD_PORT: erl tries to register there, and fails
    NotAnEpmd cpp_epmd_; // the C++ node's epmd_port: a static resolver never dials it
};

} // namespace

TEST_F(NodeTransport, ErlWithErlEpmdPortReachesCppWithStaticPortAndNoEpmdRuns) {
    const std::uint16_t p = free_port();
    auto cpp = start_cpp(unique_name("cpp_static"), static_resolver(p));
    ASSERT_TRUE(*cpp) << cpp->error();
    EXPECT_EQ((*cpp)->port(), p) << "a static resolver's port is the port this node listens on too";
    EXPECT_GE((*cpp)->creation(), 4u) << "without epmd the creation is random and never 0..3, as OTP's";
    auto box = (*cpp)->make_mailbox("static_box");
    ASSERT_TRUE(box.ok());

    auto erl = start_erl(unique_name("erl_static"), p);
    ASSERT_TRUE(erl->ready()) << erl->transcript();
    const std::string cpp_node((*cpp)->name().name());
    EXPECT_EQ(erl->eval("net_adm:ping('" + cpp_node + "')"), "pong") << erl->transcript() << cpp->log.text();
    EXPECT_EQ(erl->eval("{static_box, '" + cpp_node + "'} ! {from_erl, node()}, ok"), "ok");
    auto got = box->receive(10s);
    ASSERT_TRUE(got) << cpp->log.text();
    EXPECT_EQ(*got, tuple(atom("from_erl"), erl->name()));
    EXPECT_EQ(cpp_epmd_.connections(), 0) << "the C++ node asked an epmd";
}

TEST_F(NodeTransport, CppWithStaticPortReachesErlWithErlEpmdPortAndMessagesFlowBothWays) {
    const std::uint16_t p = free_port();
    auto erl = start_erl(unique_name("erl_dial"), p);
    ASSERT_TRUE(erl->ready()) << erl->transcript();
    // Same port on its own address: the node name's host says where.
    auto cpp = start_cpp(unique_name("cpp_dial"), static_resolver(p));
    ASSERT_TRUE(*cpp) << cpp->error();

    ASSERT_TRUE((*cpp)->ping(erl->name(), 10s)) << cpp->log.text() << erl->transcript();
    auto box = (*cpp)->make_mailbox();
    ASSERT_TRUE(box.ok());
    box->send(atom("echo"), erl->name(), tuple(box->pid(), atom("over_a_static_port")));
    auto reply = box->receive(10s);
    ASSERT_TRUE(reply) << cpp->log.text();
    EXPECT_EQ(*reply, tuple(atom("echo"), atom("over_a_static_port")));
    EXPECT_EQ(cpp_epmd_.connections(), 0) << "the C++ node asked an epmd";
}

TEST_F(NodeTransport, StaticNodeMapSendsEachNodeToItsListedAddressAndPort) {
    const std::uint16_t p = free_port();
    auto erl = start_erl(unique_name("erl_map"), p);
    ASSERT_TRUE(erl->ready()) << erl->transcript();
    StaticResolverOptions ro;
    ro.nodes[erl->node()] = NodeAddress{"127.0.0.2", p, std::nullopt};
    auto cpp = start_cpp(unique_name("cpp_map"), static_resolver(ro)); // listens on any port
    ASSERT_TRUE(*cpp) << cpp->error();
    EXPECT_NE((*cpp)->port(), p);

    ASSERT_TRUE((*cpp)->ping(erl->name(), 10s)) << cpp->log.text() << erl->transcript();
    // A node the map does not list, with no common port: a clear error, no epmd asked.
    EXPECT_FALSE((*cpp)->ping(atom("nobody@127.0.0.2"), 5s));
    EXPECT_TRUE(cpp->log.wait_for("no address known for nobody@127.0.0.2", 5s)) << cpp->log.text();
    EXPECT_EQ(cpp_epmd_.connections(), 0) << "the C++ node asked an epmd";
}

TEST_F(NodeTransport, DefaultResolverStillAsksEpmd) {
    // The control for the tests above: without a resolver option, the node registers with
    // epmd at epmd_port (which here is not one, so start fails) and never runs an embedded one
    // when told not to.
    auto cpp = std::make_unique<CppNode>(unique_name("cpp_default") + "@127.0.0.3", cpp_epmd_.port(),
                                         "edist_node_test", [](NodeOptions& o) {
                                             o.long_names = true;
                                             o.listen_address = "127.0.0.3";
                                             o.embedded_epmd = false;
                                             o.net_setuptime = 1s;
                                         });
    EXPECT_FALSE(*cpp);
    EXPECT_GE(cpp_epmd_.connections(), 1);
}
