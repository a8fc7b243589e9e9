// What every command that talks to a node (ping, send, call, eval) shares: the options naming
// this side (--name/--sname, --cookie, --epmd-port, --erl-epmd-port or --address, --timeout) and
// starting the short-lived hidden C++ node that speaks for the command, as erl_call does.
#pragma once

#include <edist/node.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace edist::cli {

struct NodeCommandOptions {
    std::string name;   // --name: long names
    std::string sname;  // --sname: short names
    std::string cookie; // empty: ~/.erlang.cookie, as erl
    std::uint16_t epmd_port = 0; // 0: ERL_EPMD_PORT or 4369
    std::uint16_t erl_epmd_port = 0; // --erl-epmd-port: epmd-less, the peer listens on this port
    std::string address;             // --address [HOST:]PORT: the peer listens there (erl_call -address)
    std::string timeout = "10";  // seconds (fractions allowed) or "infinity"
    bool verbose = false;        // the node's log lines to stderr
};

// Adds --name, --sname, --cookie, --epmd-port, --erl-epmd-port, --address, --timeout and
// --verbose to `app`.
void add_node_options(CLI::App& app, NodeCommandOptions& o);

// --timeout as a duration (infinity for "infinity"); nullopt if it is neither.
std::optional<std::chrono::milliseconds> parse_timeout(const std::string& text);
// CLI11's check for a --timeout value: empty when parse_timeout reads it, else why not.
std::string check_timeout(const std::string& text);

// --timeout as a bound on the whole command, as erl_call's -timeout is: connecting and every
// call the command makes share it, so `eval` (a scan, a parse per form, the evaluation) gives
// up within the time asked for, not within that time per step.
class Deadline {
public:
    explicit Deadline(std::chrono::milliseconds total)
        : infinite_(total == std::chrono::milliseconds::max()), at_(infinite_ ? Clock::time_point() : Clock::now() + total) {}
    // What is left: infinity for an infinite deadline; at least 1 ms once it has passed, so a
    // step started then fails as a timeout rather than waiting.
    std::chrono::milliseconds left() const {
        if (infinite_) return std::chrono::milliseconds::max();
        const auto rest = std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now());
        return std::max(rest, std::chrono::milliseconds(1));
    }

private:
    using Clock = std::chrono::steady_clock;
    bool infinite_;
    Clock::time_point at_;
};

// --address's [HOST:]PORT as (HOST, PORT), HOST empty when not given; nullopt if malformed.
std::optional<std::pair<std::string, std::uint16_t>> parse_address(const std::string& text);

// "name@host" or "name" (the local short host is added, as erl does for net_adm:ping(name)).
// Empty on a malformed name.
std::string full_node_name(const std::string& node);

// Starts the hidden node a command speaks through: the name from --name/--sname, else a
// generated c<pid> (erl_call's style), with long names when the peer's host has a dot. It does
// not register with epmd (nobody needs to find it) and never starts an embedded epmd; with
// --erl-epmd-port or --address it asks no epmd at all: the peer is at that host and port.
// On failure prints `edist: ...` and returns nullptr.
std::shared_ptr<Node> start_command_node(const NodeCommandOptions& o, const std::string& peer);

// Stops the node when the command returns, however it returns.
struct NodeGuard {
    std::shared_ptr<Node> node;
    ~NodeGuard() {
        if (node) node->stop();
    }
};

} // namespace edist::cli

namespace edist {
struct CallOutcome;
}

namespace edist::cli {

// For call and eval: connects to `peer` within `timeout`; on failure prints why and returns false.
bool connect_or_report(Node& node, const std::string& command, const std::string& peer,
                       std::chrono::milliseconds timeout);

// Prints the one-line error for a failed erpc outcome (timeout, noconnection, an exception
// raised by `what`) and returns exit_failure.
int report_call_failure(const std::string& command, const std::string& what, const std::string& peer,
                        const CallOutcome& out, const std::string& timeout_text);

} // namespace edist::cli
