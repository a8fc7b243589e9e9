// `edist`: the command-line face of the library. Parsing and dispatch only; each subcommand is
// in its own <name>_cmd.cpp.
#include "command.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace edist::cli {

namespace {

// A closed stdin, stdout or stderr would be taken by the first socket the node opens, and
// output meant for the terminal would go to a peer. Each is opened on /dev/null instead,
// read-only, so that writing to it fails as writing to a closed descriptor does.
void keep_standard_descriptors() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0 && null != fd) {
            ::dup2(null, fd);
            ::close(null);
        }
    }
}

// Output lost on the way out (a full disk, a closed stdout) is a failure, as for any Unix tool.
int check_stdout(int code) {
    if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return code;
    const int err = errno;
    std::clearerr(stdout);
    fmt::print(stderr, "edist: cannot write <stdout>: {}\n", std::strerror(err));
    return code == exit_ok ? exit_failure : code;
}

std::string one_line(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

} // namespace

int fail(std::string_view message) {
    fmt::print(stderr, "edist: {}\n", one_line(message));
    return exit_failure;
}

int fail(std::string_view what, const Error& e) {
    std::string_view message = e.what();
    // The codec's messages usually say where already; add it only when they do not.
    if (e.offset() == Error::npos || message.find("offset") != std::string_view::npos)
        return fail(fmt::format("{}: {}", what, message));
    return fail(fmt::format("{}: {} at offset {}", what, message, e.offset()));
}

} // namespace edist::cli

int main(int argc, char** argv) {
    using namespace edist::cli;
    keep_standard_descriptors();

    CLI::App app{"edist: make a C++ program a node in Erlang/Elixir clusters.\n"
                 "Terms and Erlang term syntax, a C++ node to talk to (serve), a client for any node (ping,\n"
                 "send, call, eval), and a drop-in for OTP's epmd (epmd, names).",
                 "edist"};
    app.set_version_flag("--version", "edist " EDIST_VERSION);
    app.require_subcommand(1);
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return fmt::format("edist: {} (see --help)\n", e.what());
    });

    // One line per subcommand; keep in the order `edist --help` should list them.
    std::vector<Command> commands;
    commands.push_back(add_term_command(app));
    commands.push_back(add_demo_command(app));
    commands.push_back(add_ping_command(app));
    commands.push_back(add_send_command(app));
    commands.push_back(add_call_command(app));
    commands.push_back(add_eval_command(app));
    commands.push_back(add_serve_command(app));
    commands.push_back(add_names_command(app));
    commands.push_back(add_epmd_command(app));

    // CLI11 would only say that a subcommand is required: name the word it did not know.
    if (argc > 1) {
        const std::string_view first = argv[1];
        bool known = first == "-h" || first == "--help" || first == "--version";
        for (const auto& c : commands) known = known || c.app->get_name() == first;
        if (!known) {
            std::fprintf(stderr, "edist: unknown %s '%s' (see --help)\n", first.starts_with('-') ? "option" : "command",
                         argv[1]);
            return exit_usage;
        }
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version arrive here too, with exit code 0.
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }

    try {
        for (auto& c : commands)
            if (c.app->parsed()) return check_stdout(c.run());
    } catch (const edist::Error& e) {
        return fail(e.what());
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return exit_usage;
}
