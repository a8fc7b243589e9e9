// `edist epmd ...`: a drop-in for OTP's `epmd` executable, with its single-dash options.
//
//   edist epmd [-d|-debug]... [-address List] [-port No] [-daemon] [-relaxed_command_check]
//              [-packet_timeout S] [-delay_accept S] [-delay_write S]
//   edist epmd [-d] [-port No] -names | -dump | -kill | -stop Name
//
// The client requests print what OTP's epmd prints, byte for byte, so scripts that read
// `epmd -names` read `edist epmd -names` too. Two deliberate differences: a bad command line
// exits 2 (OTP: 1), and -daemon returns only once the daemon listens (or says why it cannot),
// so `edist epmd -daemon && erl ...` never races the bind.
#include "command.hpp"

#include <edist/epmd.hpp>

#include <asio.hpp>
#include <fmt/core.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace edist::cli {

std::string format_epmd_names(std::uint16_t port, const std::vector<epmd::NameEntry>& names); // names_cmd.cpp

namespace {

constexpr const char* usage_text = R"(usage: edist epmd [-d|-debug] [DbgExtra...] [-address List]
                  [-port No] [-daemon] [-relaxed_command_check]
       edist epmd [-d|-debug] [-port No] [-names|-dump|-kill|-stop name]

A drop-in for OTP's epmd, the Erlang port mapper daemon. Options as OTP's epmd
(a double dash works too: --port). Without an interactive option it runs the
daemon in the foreground. ERL_EPMD_PORT, ERL_EPMD_ADDRESS and
ERL_EPMD_RELAXED_COMMAND_CHECK are read as OTP's epmd reads them.

Regular options
    -address List            listen only on these comma-separated addresses
                             (and on loopback)
    -port No                 listen on / talk to port No (default 4369)
    -d, -debug               log to stderr; repeat for more
    -daemon                  detach and run in the background
    -relaxed_command_check   allow -kill with live names, and -stop
DbgExtra options
    -packet_timeout Seconds  idle limit for a request connection (default 60)
    -delay_accept Seconds    simulate a busy server: delay accepting
    -delay_write Seconds     simulate a busy server: delay replies
Interactive options (ask the epmd on localhost:port)
    -names                   list the registered names
    -dump                    list every name epmd knows, live and old
    -kill                    stop epmd (only with no names registered, unless
                             it runs with -relaxed_command_check)
    -stop Name               unregister Name (needs -relaxed_command_check)
)";

enum class Action { serve, names, dump, kill, stop };

struct EpmdArgs {
    Action action = Action::serve;
    std::string stop_name;
    bool daemon = false;
    epmd::ServerOptions server = epmd::ServerOptions::from_environment();
};

int usage_error(const std::string& message) {
    fmt::print(stderr, "edist: epmd: {} (see edist epmd -help)\n", message);
    return exit_usage;
}

std::optional<long> parse_number(const std::string& s, long lo, long hi) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return std::nullopt;
    return v;
}

std::vector<std::string> split_addresses(const std::string& list) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : list + ",") {
        if (c == ',' || c == ' ') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return out;
}

// Returns an exit code when parsing ends the command (help, errors), else nullopt.
std::optional<int> parse_args(const std::vector<std::string>& args, EpmdArgs& a) {
    int actions = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string opt = args[i];
        if (opt.starts_with("--")) opt.erase(0, 1); // --port as -port
        auto value = [&](const char* what) -> std::optional<std::string> {
            if (i + 1 >= args.size()) return std::nullopt;
            (void)what;
            return args[++i];
        };
        auto seconds = [&](std::chrono::seconds& out) -> std::optional<int> {
            auto v = value("Seconds");
            auto n = v ? parse_number(*v, 0, 86400) : std::nullopt;
            if (!n) return usage_error(opt + " needs a number of seconds");
            out = std::chrono::seconds(*n);
            return std::nullopt;
        };
        if (opt == "-h" || opt == "-help") {
            std::fputs(usage_text, stdout);
            return exit_ok;
        } else if (opt == "-d" || opt == "-debug") {
            ++a.server.debug;
        } else if (opt == "-port") {
            auto v = value("No");
            auto n = v ? parse_number(*v, 1, 65535) : std::nullopt;
            if (!n) return usage_error("-port needs a port number (1-65535)");
            a.server.port = static_cast<std::uint16_t>(*n);
        } else if (opt == "-address") {
            auto v = value("List");
            if (!v || split_addresses(*v).empty()) return usage_error("-address needs a comma-separated list");
            a.server.addresses = split_addresses(*v);
        } else if (opt == "-daemon") {
            a.daemon = true;
        } else if (opt == "-relaxed_command_check") {
            a.server.relaxed_command_check = true;
        } else if (opt == "-packet_timeout") {
            if (auto r = seconds(a.server.packet_timeout)) return r;
        } else if (opt == "-delay_accept") {
            if (auto r = seconds(a.server.delay_accept)) return r;
        } else if (opt == "-delay_write") {
            if (auto r = seconds(a.server.delay_write)) return r;
        } else if (opt == "-systemd") {
            return usage_error("-systemd (socket activation) is not supported");
        } else if (opt == "-names") {
            a.action = Action::names, ++actions;
        } else if (opt == "-dump") {
            a.action = Action::dump, ++actions;
        } else if (opt == "-kill") {
            a.action = Action::kill, ++actions;
        } else if (opt == "-stop") {
            auto v = value("Name");
            if (!v || v->empty()) return usage_error("-stop needs a node name");
            a.action = Action::stop, ++actions;
            a.stop_name = *v;
        } else {
            return usage_error("unknown option " + args[i]);
        }
    }
    if (actions > 1) return usage_error("give at most one of -names, -dump, -kill and -stop");
    if (actions == 1 && a.daemon) return usage_error("-daemon starts a server; it does not go with -names, -dump, -kill or -stop");
    return std::nullopt;
}

// The interactive requests, printing what OTP's epmd prints (and exiting as it does).
int run_client(const EpmdArgs& a) {
    epmd::ClientOptions c;
    c.port = a.server.port;
    auto cannot_connect = [] {
        std::fputs("epmd: Cannot connect to local epmd\n", stderr);
        return exit_failure;
    };
    switch (a.action) {
    case Action::names: {
        auto r = epmd::names(c);
        if (!r) return cannot_connect();
        std::fputs(format_epmd_names(c.port, *r).c_str(), stdout);
        return exit_ok;
    }
    case Action::dump: {
        auto r = epmd::dump(c);
        if (!r) return cannot_connect();
        fmt::print("epmd: up and running on port {} with data:\n{}", r->epmd_port, r->text);
        return exit_ok;
    }
    case Action::kill: {
        auto r = epmd::kill(c);
        if (!r) return cannot_connect();
        if (*r) {
            std::fputs("Killed\n", stdout);
            return exit_ok;
        }
        std::fputs("Killing not allowed - living nodes in database.\n", stdout);
        return exit_failure;
    }
    case Action::stop: {
        auto r = epmd::stop(a.stop_name, c);
        if (!r) return cannot_connect();
        switch (*r) {
        case epmd::StopResult::stopped: std::fputs("STOPPED\n", stdout); return exit_ok;
        case epmd::StopResult::noexist: std::fputs("NOEXIST\n", stdout); return exit_ok;
        case epmd::StopResult::disallowed: std::fputs("epmd: local epmd responded with <>\n", stderr); return exit_failure;
        }
        return exit_failure;
    }
    case Action::serve: break;
    }
    return exit_failure;
}

// Runs the server until a KILL_REQ, SIGINT or SIGTERM. `ready` is called once with the
// outcome of binding: an empty string when listening, else why not.
int serve(const EpmdArgs& a, const std::function<void(const std::string&, bool in_use)>& ready) {
    asio::io_context io;
    epmd::Server server(io, a.server);
    auto port = server.start();
    if (!port) {
        const bool in_use = port.error().reason() == Atom("eaddrinuse");
        ready(port.error().what(), in_use);
        // As OTP's epmd: another epmd on the port means one is running, which is what was asked.
        if (in_use) {
            if (a.server.debug > 0)
                fmt::print(stderr, "epmd: there is already an epmd running at port {}\n", a.server.port);
            return exit_ok;
        }
        return fail(fmt::format("epmd: cannot listen on port {}: {}", a.server.port, port.error().what()));
    }
    ready({}, false);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code& ec, int) {
        if (!ec) server.stop();
    });
    server.on_killed([&] { signals.cancel(); });
    io.run();
    return exit_ok;
}

// OTP's -daemon: fork, the child leaves the session and the terminal and serves. Unlike OTP,
// the parent waits to hear that the child listens, and reports a bind failure itself.
int run_daemon(const EpmdArgs& a) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return fail(fmt::format("epmd: pipe: {}", std::strerror(errno)));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) return fail(fmt::format("epmd: fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::close(pipe_fds[0]);
        ::setsid();
        ::signal(SIGHUP, SIG_IGN);
        if (::chdir("/") != 0) { /* stays where it is, as OTP would */ }
        ::umask(0);
        const int report = pipe_fds[1];
        int code = serve(a, [&](const std::string& error, bool in_use) {
            // 'O'k, 'U' (in use), 'E'rror + message; then the daemon lets go of the terminal.
            std::string msg = error.empty() ? "O" : (in_use ? "U" : "E" + error);
            [[maybe_unused]] auto n = ::write(report, msg.data(), msg.size());
            ::close(report);
            if (error.empty()) {
                const int null_fd = ::open("/dev/null", O_RDWR);
                if (null_fd >= 0) {
                    ::dup2(null_fd, STDIN_FILENO);
                    ::dup2(null_fd, STDOUT_FILENO);
                    ::dup2(null_fd, STDERR_FILENO);
                    if (null_fd > STDERR_FILENO) ::close(null_fd);
                }
            }
        });
        ::_exit(code);
    }
    ::close(pipe_fds[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(pipe_fds[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        msg.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    if (msg == "O" || msg == "U") return exit_ok;
    if (msg.starts_with("E")) return fail(fmt::format("epmd: cannot listen on port {}: {}", a.server.port, msg.substr(1)));
    return fail("epmd: the daemon ended before it listened");
}

} // namespace

Command add_epmd_command(CLI::App& root) {
    auto* cmd = root.add_subcommand("epmd", "A drop-in for OTP's epmd: same options (-daemon, -port, -names, -kill, ...)");
    // OTP's single-dash long options are not CLI11's: take everything as it comes and parse
    // it here. `edist epmd --help` and `-help` both print the usage.
    cmd->set_help_flag();
    cmd->prefix_command();
    cmd->allow_extras();
    return {cmd, [cmd] {
                EpmdArgs a;
                std::vector<std::string> args = cmd->remaining();
                if (auto done = parse_args(args, a)) return *done;
                if (a.action != Action::serve) return run_client(a);
                if (a.daemon) return run_daemon(a);
                return serve(a, [](const std::string&, bool) {});
            }};
}

} // namespace edist::cli
