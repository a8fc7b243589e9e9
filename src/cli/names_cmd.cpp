// `edist names [HOST]`: the names an epmd has registered, printed exactly as OTP's
// `epmd -names` prints them, for any host (net_adm:names/1's question).
#include "command.hpp"
#include "node_options.hpp"

#include <edist/epmd.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <memory>

namespace edist::cli {
namespace {

// OTP's `epmd -names` text for a NAMES reply.
std::string format_epmd_names(std::uint16_t port, const std::vector<epmd::NameEntry>& names) {
    std::string out = fmt::format("epmd: up and running on port {} with data:\n", port);
    for (const auto& n : names) out += fmt::format("name {} at port {}\n", n.name, n.port);
    return out;
}

struct NamesOptions {
    std::string host = "localhost";
    std::uint16_t port = 0;
    std::string timeout = "10";
};

int run_names(const NamesOptions& o) {
    epmd::ClientOptions c;
    c.host = o.host == "localhost" ? "127.0.0.1" : o.host;
    if (o.port != 0) c.port = o.port;
    c.timeout = *parse_timeout(o.timeout); // checked when parsed
    auto names = epmd::names(c);
    if (!names)
        return fail(fmt::format("names: {}", names.error().what()));
    std::fputs(format_epmd_names(c.port, *names).c_str(), stdout);
    return exit_ok;
}

} // namespace

Command add_names_command(CLI::App& root) {
    auto o = std::make_shared<NamesOptions>();
    auto* names = root.add_subcommand("names", "List the nodes registered with epmd on HOST, as `epmd -names` does");
    names->add_option("HOST", o->host, "The host whose epmd to ask")->default_val("localhost");
    names->add_option("--epmd-port", o->port, "Where epmd listens; default: $ERL_EPMD_PORT or 4369")
        ->check(CLI::Range(1, 65535));
    names->add_option("--timeout", o->timeout, "Seconds to wait for epmd, or infinity")
        ->default_val("10")
        ->check(check_timeout);
    return {names, [o] { return run_names(*o); }};
}

} // namespace edist::cli
