// How a subcommand plugs into `edist`.
//
// Each subcommand lives in its own file and exposes one registration function that adds its
// CLI11 sub-app (options, help text) to the root and returns how to run it. main.cpp lists the
// registration functions; adding `edist ping` means writing ping_cmd.cpp and adding one line to
// the list below and one to main.cpp.
#pragma once

#include <edist/error.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <string_view>

namespace edist::cli {

// Exit codes every subcommand uses.
enum ExitCode : int {
    exit_ok = 0,
    exit_failure = 1, // the command ran and failed: bad input, an unreachable node, ...
    exit_usage = 2,   // the command line itself was wrong
};

struct Command {
    CLI::App* app;          // the sub-app added to the root
    std::function<int()> run; // called after parsing when `app` was chosen; returns an ExitCode
};

Command add_term_command(CLI::App& root);
Command add_demo_command(CLI::App& root);
Command add_epmd_command(CLI::App& root);
Command add_names_command(CLI::App& root);
Command add_ping_command(CLI::App& root);
Command add_send_command(CLI::App& root);
Command add_call_command(CLI::App& root);
Command add_eval_command(CLI::App& root);
Command add_serve_command(CLI::App& root);

// Prints the one-line "edist: <message>" to stderr and returns exit_failure.
int fail(std::string_view message);
// Same, for an edist::Error met while reading `what`, with the byte offset when it has one.
int fail(std::string_view what, const Error& e);

} // namespace edist::cli
