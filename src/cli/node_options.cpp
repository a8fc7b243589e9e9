#include "node_options.hpp"

#include "command.hpp"

#include <edist/transport.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <unistd.h>

namespace edist::cli {

void add_node_options(CLI::App& app, NodeCommandOptions& o) {
    auto* name = app.add_option("--name", o.name,
                                "This node's name (long names), name or name@host; default: a generated edist_c<pid>");
    auto* sname = app.add_option("--sname", o.sname, "This node's name (short names)");
    name->excludes(sname);
    app.add_option("--cookie", o.cookie, "The magic cookie; default: ~/.erlang.cookie as erl reads it");
    auto* epmd = app.add_option("--epmd-port", o.epmd_port, "Where epmd listens; default: $ERL_EPMD_PORT or 4369")
                     ->check(CLI::Range(1, 65535));
    auto* erl_epmd = app.add_option("--erl-epmd-port", o.erl_epmd_port,
                                    "epmd-less, as erl -erl_epmd_port P: the peer listens on port P of its host; no "
                                    "epmd is asked")
                         ->check(CLI::Range(1, 65535))
                         ->excludes(epmd);
    app.add_option("--address", o.address,
                   "[HOST:]PORT, as erl_call -address: the peer listens there (default HOST: the one in NODE); no "
                   "epmd is asked")
        ->check([](const std::string& s) {
            return parse_address(s) ? std::string() : "not [HOST:]PORT with PORT in 1-65535: " + s;
        })
        ->excludes(epmd)
        ->excludes(erl_epmd);
    app.add_option("--timeout", o.timeout, "Seconds the whole command may take (connecting and the answer), or infinity")
        ->default_val("10")
        ->check(check_timeout);
    app.add_flag("--verbose", o.verbose, "Print the node's log lines (connections, errors) to stderr");
}

std::optional<std::chrono::milliseconds> parse_timeout(const std::string& text) {
    if (text == "infinity") return infinity;
    if (text.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    double seconds = std::strtod(text.c_str(), &end);
    // Zero would not leave time to connect; anything above zero waits at least a millisecond.
    if (errno != 0 || *end != '\0' || !(seconds > 0) || seconds > 1e9) return std::nullopt;
    return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(seconds * 1000)));
}

std::optional<std::pair<std::string, std::uint16_t>> parse_address(const std::string& text) {
    const auto colon = text.rfind(':');
    const std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
    const std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const int p = std::stoi(port);
    if (p < 1 || p > 65535 || (colon != std::string::npos && host.empty())) return std::nullopt;
    return std::pair{host, static_cast<std::uint16_t>(p)};
}

std::string check_timeout(const std::string& text) {
    return parse_timeout(text) ? std::string() : "not a positive number of seconds (at most 1e9) or infinity: " + text;
}

namespace {

std::string short_host() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    std::string h = buf;
    return h.substr(0, h.find('.'));
}

// The command node talks to one peer, so the last warning it logged is why a connection to it
// failed (epmd down, a name epmd does not know, a cookie the peer rejected).
std::mutex last_warning_mutex;
std::string last_warning;

void keep_warning(LogLevel level, std::string_view line) {
    if (level < LogLevel::warning) return;
    std::lock_guard lock(last_warning_mutex);
    last_warning = line;
}

std::string take_last_warning() {
    std::lock_guard lock(last_warning_mutex);
    std::string w = std::move(last_warning);
    last_warning.clear();
    // The node ends its lines with the nodedown reason Erlang code would see; the command
    // names its own reason (noconnection).
    if (auto at = w.rfind(" (reason: "); at != std::string::npos && w.ends_with(')')) w.resize(at);
    return w;
}

bool is_ipv4_literal(const std::string& host) {
    if (host.empty()) return false;
    for (char c : host)
        if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
    return true;
}

} // namespace

std::string full_node_name(const std::string& node) {
    if (node.empty() || node.front() == '@' || node.back() == '@') return {};
    if (node.find('@') != std::string::npos) return node;
    return node + "@" + short_host();
}

std::shared_ptr<Node> start_command_node(const NodeCommandOptions& o, const std::string& peer) {
    const std::string peer_host = peer.substr(peer.find('@') + 1);
    NodeOptions n;
    n.hidden = true;
    n.embedded_epmd = false;
    n.register_with_epmd = false;
    if (o.epmd_port != 0) n.epmd_port = o.epmd_port;
    // Only the peer is known; this node listens on any free port.
    if (o.erl_epmd_port != 0)
        n.resolver = static_resolver({.port = 0, .nodes = {{peer, NodeAddress{peer_host, o.erl_epmd_port, {}}}}});
    if (auto address = parse_address(o.address); !o.address.empty() && address) {
        const std::string host = address->first.empty() ? peer_host : address->first;
        n.resolver = static_resolver({.port = 0, .nodes = {{peer, NodeAddress{host, address->second, {}}}}});
    }
    n.cookie = o.cookie;
    if (!o.name.empty()) {
        n.name = o.name;
        n.long_names = true;
    } else if (!o.sname.empty()) {
        n.name = o.sname;
    } else {
        // erl_call's c<pid>, with a prefix that says who it is in the peer's nodes(hidden).
        n.name = fmt::format("edist_c{}", ::getpid());
        n.long_names = peer_host.find('.') != std::string::npos;
        // A peer named by a loopback address accepts a node named the same way.
        if (n.long_names && is_ipv4_literal(peer_host) && peer_host.starts_with("127.")) n.name += "@127.0.0.1";
    }
    // The command reports what went wrong itself, with the last warning as the reason.
    n.log = [verbose = o.verbose](LogLevel level, std::string_view line) {
        keep_warning(level, line);
        if (!verbose) return;
        static constexpr const char* names[] = {"debug", "info", "warning", "error"};
        fmt::print(stderr, "edist: node {}: {}\n", names[static_cast<int>(level)], line);
    };
    auto started = Node::start(std::move(n));
    if (!started) {
        fail(fmt::format("cannot start a node: {}", started.error().what()));
        return nullptr;
    }
    return *started;
}

} // namespace edist::cli

#include <edist/exports.hpp>
#include <edist/text.hpp>

namespace edist::cli {

bool connect_or_report(Node& node, const std::string& command, const std::string& peer,
                       std::chrono::milliseconds timeout) {
    const auto start = std::chrono::steady_clock::now();
    if (node.connect(atom(peer), timeout)) return true;
    const bool timed_out = std::chrono::steady_clock::now() - start >= timeout;
    std::string why = take_last_warning();
    // The node's line names the peer as this one does; say it once.
    if (const std::string again = "cannot connect to " + peer + ": "; why.starts_with(again)) why.erase(0, again.size());
    if (!why.empty())
        fail(fmt::format("{}: noconnection: cannot connect to '{}': {}", command, peer, why));
    else if (timed_out) // a node that does not answer (stopped, overloaded), or a blackholed host
        fail(fmt::format("{}: noconnection: '{}' did not complete the connection within {:g} s", command, peer,
                         std::chrono::duration<double>(timeout).count()));
    else
        fail(fmt::format("{}: noconnection: cannot connect to '{}' (is it running, registered with epmd, with the "
                         "same cookie?)",
                         command, peer));
    return false;
}

namespace {

// " in M:F/A": the function an error was raised in, as the shell names it, from the top of the
// stacktrace (erl_call prints the whole of it). Nothing when that is erl_eval itself (a badmatch
// in the expressions) or `what` was called and raised it directly.
std::string raised_in(const Term& stacktrace, const std::string& what) {
    if (!stacktrace.is_list() || stacktrace.as_list().size() == 0) return {};
    const Term& frame = *stacktrace.as_list().begin(); // {Module, Function, Arity | Args, Location}
    if (!frame.is_tuple(4) || !frame[0].is_atom() || !frame[1].is_atom() || frame[0].is_atom(atom("erl_eval")))
        return {};
    std::string arity;
    if (frame[2].is_proper_list()) arity = std::to_string(frame[2].as_list().size());
    else if (frame[2].is_int64()) arity = to_string(frame[2]);
    else return {};
    const std::string mfa = fmt::format("{}:{}/{}", to_string(frame[0]), to_string(frame[1]), arity);
    return mfa == what ? std::string() : " in " + mfa;
}

} // namespace

int report_call_failure(const std::string& command, const std::string& what, const std::string& peer,
                        const CallOutcome& out, const std::string& timeout_text) {
    const Term& v = out.value;
    if (out.cls == ErlangClass::error && v.is_tuple(2) && v[0].is_atom(atom("erpc"))) {
        if (v[1].is_atom(atoms::timeout))
            return fail(fmt::format("{}: timeout: no answer from '{}' within {} s", command, peer, timeout_text));
        if (v[1].is_atom(atoms::noconnection))
            return fail(fmt::format("{}: noconnection: lost the connection to '{}'", command, peer));
        return fail(fmt::format("{}: {{badrpc,{}}} from '{}'", command, to_string(v[1]), peer));
    }
    const char* cls = out.cls == ErlangClass::error ? "error" : out.cls == ErlangClass::exit ? "exit" : "throw";
    const std::string where = out.cls == ErlangClass::error ? raised_in(out.stacktrace, what) : std::string();
    return fail(fmt::format("{}: {} raised {}:{}{}", command, what, cls, to_pretty_string(v, {.line_length = 1000}),
                            where));
}

} // namespace edist::cli
