// `edist serve`: a C++ node that stays up for erl and iex users to try: a registered `echo`
// process and the module edist_demo (serve_demo_module.cpp). Runs until SIGINT or SIGTERM.
#include "command.hpp"
#include "serve_demo_module.hpp"

#include <edist/node.hpp>
#include <edist/text.hpp>
#include <edist/transport.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <pthread.h>

#include <chrono>

namespace edist::cli {

namespace {

struct ServeOptions {
    std::string name;
    std::string sname;
    std::string cookie;
    std::uint16_t epmd_port = 0;
    std::uint16_t erl_epmd_port = 0;
    std::uint16_t port = 0;
    unsigned net_ticktime = 60; // seconds, as erl -kernel net_ticktime
    bool verbose = false;
};

int run_serve(const ServeOptions& o) {
    // Blocked before the node's threads start, so they inherit the mask and only sigwait below
    // sees the signals.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    NodeOptions n;
    n.name = !o.name.empty() ? o.name : !o.sname.empty() ? o.sname : "edist";
    n.long_names = !o.name.empty();
    n.cookie = o.cookie;
    if (o.epmd_port != 0) n.epmd_port = o.epmd_port;
    n.listen_port = o.port;
    n.net_ticktime = std::chrono::seconds(o.net_ticktime);
    if (o.erl_epmd_port != 0) n.resolver = static_resolver(o.erl_epmd_port); // listens there, no epmd
    if (o.verbose)
        n.log = [](LogLevel level, std::string_view line) {
            static constexpr const char* names[] = {"debug", "info", "warning", "error"};
            fmt::print(stderr, "{}: {}\n", names[static_cast<int>(level)], line);
        };
    auto started = Node::start(std::move(n));
    if (!started) return fail(fmt::format("serve: cannot start the node: {}", started.error().what()));
    std::shared_ptr<Node> node = *started;

    export_demo_module(*node);
    if (auto echo = spawn_echo(*node); !echo) {
        node->stop();
        return fail(fmt::format("serve: cannot register echo: {}", echo.error().what()));
    }
    fmt::print("node {} is up (distribution port {}): registered process echo, module edist_demo; "
               "Ctrl-C stops it\n",
               to_string(Term(node->name())), node->port());
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    node->stop();
    return exit_ok;
}

} // namespace

Command add_serve_command(CLI::App& root) {
    auto o = std::make_shared<ServeOptions>();
    auto* serve = root.add_subcommand(
        "serve", "Run a C++ node with a registered echo process and the module edist_demo, until Ctrl-C");
    auto* name = serve->add_option("--name", o->name, "The node's name (long names), name or name@host");
    auto* sname = serve->add_option("--sname", o->sname, "The node's name (short names); default: edist");
    name->excludes(sname);
    serve->add_option("--cookie", o->cookie, "The magic cookie; default: ~/.erlang.cookie as erl reads it");
    auto* epmd = serve->add_option("--epmd-port", o->epmd_port,
                                   "Where epmd listens (started in-process if none runs); default: $ERL_EPMD_PORT or 4369")
                     ->check(CLI::Range(1, 65535));
    auto* port = serve->add_option("--port", o->port, "The distribution listen port; default: any free port")
                     ->check(CLI::Range(0, 65535));
    serve->add_option("--erl-epmd-port", o->erl_epmd_port,
                      "epmd-less, as erl -erl_epmd_port P: listen on port P and reach every node at port P of its "
                      "host; no epmd is asked or started")
        ->check(CLI::Range(1, 65535))
        ->excludes(epmd)
        ->excludes(port);
    serve->add_option("--net-ticktime", o->net_ticktime,
                      "The tick time in seconds, as erl -kernel net_ticktime: a silent peer is declared down after "
                      "about this long. It must match the cluster's (net_kernel:set_net_ticktime changes it "
                      "later); default: 60")
        ->check(CLI::Range(1, 1'000'000'000));
    serve->add_flag("--verbose", o->verbose, "Print the node's log lines to stderr");
    return {serve, [o] { return run_serve(*o); }};
}

} // namespace edist::cli
