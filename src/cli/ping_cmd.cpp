// `edist ping NODE`: net_adm:ping from a short-lived hidden node. Prints pong (exit 0) or pang
// (exit 1), as an operator reads net_adm:ping's answer.
#include "command.hpp"
#include "node_options.hpp"

#include <fmt/core.h>

#include <memory>

namespace edist::cli {

namespace {

struct PingOptions {
    std::string node;
    NodeCommandOptions node_options;
};

int run_ping(const PingOptions& o) {
    const std::string peer = full_node_name(o.node);
    if (peer.empty()) return fail(fmt::format("ping: not a node name: {}", o.node));
    NodeGuard guard{start_command_node(o.node_options, peer)};
    if (!guard.node) return exit_failure;
    const bool pong = guard.node->ping(atom(peer), *parse_timeout(o.node_options.timeout));
    fmt::print("{}\n", pong ? "pong" : "pang");
    return pong ? exit_ok : exit_failure;
}

} // namespace

Command add_ping_command(CLI::App& root) {
    auto o = std::make_shared<PingOptions>();
    auto* ping = root.add_subcommand("ping", "net_adm:ping a node: prints pong (exit 0) or pang (exit 1)");
    ping->add_option("NODE", o->node, "name@host, or name for this host")->required();
    add_node_options(*ping, o->node_options);
    return {ping, [o] { return run_ping(*o); }};
}

} // namespace edist::cli
