// `edist send NODE NAME 'TERM'`: {NAME, NODE} ! TERM from a short-lived hidden node.
#include "command.hpp"
#include "io.hpp"
#include "node_options.hpp"

#include <edist/text.hpp>

#include <fmt/core.h>

#include <memory>

namespace edist::cli {

namespace {

struct SendOptions {
    std::string node;
    std::string name;
    std::string term;
    NodeCommandOptions node_options;
};

int run_send(const SendOptions& o) {
    const std::string peer = full_node_name(o.node);
    if (peer.empty()) return fail(fmt::format("send: not a node name: {}", o.node));
    std::string error;
    const auto text = argument_or_stdin(o.term, error);
    if (!text) return fail(fmt::format("send: {}", error));
    auto message = parse(*text);
    if (!message) return fail("send: TERM", message.error());

    NodeGuard guard{start_command_node(o.node_options, peer)};
    if (!guard.node) return exit_failure;
    Node& node = *guard.node;
    const Deadline deadline(*parse_timeout(o.node_options.timeout));
    if (!connect_or_report(node, "send", peer, deadline.left())) return exit_failure;
    auto from = node.make_mailbox();
    node.send(atom(o.name), atom(peer), *message, from ? std::optional<Pid>(from->pid()) : std::nullopt);
    // The message is on its way once written; a ping over the same connection comes back only
    // after the peer has read everything sent before it, so stopping the node cannot drop it.
    if (!node.ping(atom(peer), deadline.left()))
        return fail(fmt::format("send: the connection to '{}' closed before the message was delivered", peer));
    return exit_ok;
}

} // namespace

Command add_send_command(CLI::App& root) {
    auto o = std::make_shared<SendOptions>();
    auto* send = root.add_subcommand("send", "Send a term to a registered process: {NAME, NODE} ! TERM");
    send->add_option("NODE", o->node, "name@host, or name for this host")->required();
    send->add_option("NAME", o->name, "The registered name on NODE")->required();
    send->add_option("TERM", o->term, "The message, in Erlang syntax, e.g. '{hello, [1,2,3]}'; - reads it from stdin")
        ->required();
    add_node_options(*send, o->node_options);
    return {send, [o] { return run_send(*o); }};
}

} // namespace edist::cli
