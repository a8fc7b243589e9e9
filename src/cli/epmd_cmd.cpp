// `edist epmd ...`: a drop-in for OTP's `epmd` executable, with its single-dash options.
//
//   edist epmd [-d|-debug]... [-address List] [-port No] [-daemon] [-relaxed_command_check]
//              [-packet_timeout S] [-delay_accept S] [-delay_write S]
//   edist epmd [-d] [-port No] -names | -dump | -kill | -stop Name | -started
//
// The client requests print what OTP's epmd prints, byte for byte and on the same stream, so
// scripts that read `epmd -names` read `edist epmd -names` too. They talk to the epmd as OTP's
// epmd executable does (::1 first, then 127.0.0.1; the reply copied as it comes), not through
// the library's client, which checks replies as erl_epmd does. Deliberate differences: a bad
// command line exits 2 (OTP: 1), -help prints the usage on stdout and exits 0 (as every edist
// command's help), and -daemon returns only once the daemon listens (or says why it cannot),
// so `edist epmd -daemon && erl ...` never races the bind.
#include "command.hpp"

#include <edist/epmd.hpp>

#include <asio.hpp>
#include <fmt/core.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace edist::cli {

namespace {

constexpr const char* usage_text = R"(usage: edist epmd [-d|-debug] [DbgExtra...] [-address List]
                  [-port No] [-daemon] [-relaxed_command_check]
       edist epmd [-d|-debug] [-port No] [-names|-dump|-kill|-stop name|-started]

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
    -started                 exit 0 if an epmd answers, else 1; print nothing
An interactive option comes last: nothing may follow it (Name for -stop).
)";

enum class Action { serve, names, dump, kill, stop, started };

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
        // OTP's epmd takes 0 (or anything atoi reads as 0) as a usage error for these.
        auto seconds = [&](std::chrono::seconds& out) -> std::optional<int> {
            auto v = value("Seconds");
            auto n = v ? parse_number(*v, 1, 86400) : std::nullopt;
            if (!n) return usage_error(opt + " needs a number of seconds (1-86400)");
            out = std::chrono::seconds(*n);
            return std::nullopt;
        };
        // As OTP's epmd, an interactive option runs as soon as it is read: it must come last.
        auto last = [&](Action action, std::size_t operands) -> std::optional<int> {
            if (i + operands + 1 < args.size())
                return usage_error(opt + " must be the last option (as OTP's epmd)");
            a.action = action, ++actions;
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
            if (auto r = last(Action::names, 0)) return r;
        } else if (opt == "-dump") {
            if (auto r = last(Action::dump, 0)) return r;
        } else if (opt == "-kill") {
            if (auto r = last(Action::kill, 0)) return r;
        } else if (opt == "-started") {
            if (auto r = last(Action::started, 0)) return r;
        } else if (opt == "-stop") {
            // Any name is sent as given, even an empty one: the epmd judges it (as OTP's client).
            if (i + 1 >= args.size()) return usage_error("-stop needs a node name");
            if (auto r = last(Action::stop, 1)) return r;
            a.stop_name = args[++i];
        } else {
            return usage_error("unknown option " + args[i]);
        }
    }
    if (actions == 1 && a.daemon)
        return usage_error("-daemon starts a server; it does not go with -names, -dump, -kill, -stop or -started");
    return std::nullopt;
}

// --- the interactive requests, as OTP's epmd executable makes them --------------------------

// A connection to the epmd on this host: ::1 first, then 127.0.0.1 (OTP's order). -1: none.
int connect_local(std::uint16_t port) {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        sockaddr_in6 a6{};
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(port);
        a6.sin6_addr = in6addr_loopback;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a6), sizeof a6) == 0) return fd;
        ::close(fd);
    }
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a4{};
    a4.sin_family = AF_INET;
    a4.sin_port = htons(port);
    a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a4), sizeof a4) == 0) return fd;
    ::close(fd);
    return -1;
}

bool send_all(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads exactly `want` bytes: `want` when it got them, 0 at an end of file before that (with
// `got` holding what came), -1 on a read error.
ssize_t read_exactly(int fd, char* buf, std::size_t want, std::size_t& got) {
    got = 0;
    while (got < want) {
        ssize_t n = ::read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n;
        got += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(want);
}

// A request packet: Len:16, the opcode, the body.
std::string request(char opcode, const std::string& body = {}) {
    const std::size_t len = body.size() + 1;
    std::string out{static_cast<char>(len >> 8), static_cast<char>(len & 0xff), opcode};
    return out + body;
}

void say(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
}

// What OTP's client prints when a 2- or 7-byte answer does not come whole.
int no_answer(ssize_t rval) {
    say(rval < 0 ? "epmd: failed to read answer from local epmd\n"
                 : "epmd: local epmd responded with <>\n");
    return exit_failure;
}

// The interactive requests, printing what OTP's epmd prints where it prints it (and exiting
// as it does). The replies are not checked: OTP's client prints the epmd port the reply names
// (through a port forward it differs from the one asked) and copies the rest as it comes
// (DUMP entries with their NULs).
int run_client(const EpmdArgs& a) {
    const bool silent = a.action == Action::started;
    if (a.action == Action::stop && a.stop_name.size() > 1000) {
        say("epmd: Name too long!");  // no newline, as OTP
        return exit_failure;
    }
    const int fd = connect_local(a.server.port);
    if (fd < 0) {
        if (!silent) std::fputs("epmd: Cannot connect to local epmd\n", stderr);
        return exit_failure;
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    std::string req = a.action == Action::dump   ? request('d')
                      : a.action == Action::kill ? request('k')
                      : a.action == Action::stop ? request('s', a.stop_name)
                                                 : request('n');
    if (!send_all(fd, req)) {
        say("epmd: Can't write to epmd\n");
        return exit_failure;
    }
    char buf[4096];
    std::size_t got = 0;
    switch (a.action) {
    case Action::names:
    case Action::dump:
    case Action::started: {
        if (read_exactly(fd, buf, 4, got) != 4) {
            if (!silent) say("epmd: no response from local epmd\n");
            return exit_failure;
        }
        if (silent) return exit_ok;
        std::uint32_t port = 0;
        std::memcpy(&port, buf, 4);
        say(fmt::format("epmd: up and running on port {} with data:\n",
                        static_cast<std::int32_t>(ntohl(port))));
        while (true) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return exit_ok;
            std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout);
        }
    }
    case Action::kill: {
        ssize_t r = read_exactly(fd, buf, 2, got);
        if (r != 2) return no_answer(r);
        if (buf[0] == 'O' && buf[1] == 'K') {
            say("Killed\n");
            return exit_ok;
        }
        say("Killing not allowed - living nodes in database.\n");
        return exit_failure;
    }
    case Action::stop: {
        // STOPPED or NOEXIST, printed as they come (up to a NUL, as OTP's printf would).
        ssize_t r = read_exactly(fd, buf, 7, got);
        if (r != 7) return no_answer(r);
        say(std::string(buf, ::strnlen(buf, 7)) + "\n");
        return exit_ok;
    }
    case Action::serve: break;
    }
    return exit_failure;
}

// OTP's foreground log line: "epmd: <ctime>: <text>" and CR LF, on stderr.
void log_line(std::string_view text) {
    const std::time_t now = std::time(nullptr);
    char when[64] = "?";
    if (char* t = ::ctime_r(&now, when)) when[std::strcspn(t, "\n")] = '\0';
    fmt::print(stderr, "epmd: {}: {}\r\n", when, text);
    std::fflush(stderr);
}

// Runs the server until a KILL_REQ, SIGINT or SIGTERM. `ready` is called once with the
// outcome of binding: an empty string when listening, else why not. A signal ends the process
// by that signal (status 128 + signal to a shell), as it ends OTP's epmd.
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
                log_line(fmt::format("there is already an epmd running at port {}", a.server.port));
            return exit_ok;
        }
        return fail(fmt::format("epmd: cannot listen on port {}: {}", a.server.port, port.error().what()));
    }
    ready({}, false);
    int signalled = 0;
    // A signal that came in ignored stays ignored (a background job's SIGINT), as for OTP's
    // epmd, which keeps the default dispositions.
    asio::signal_set signals(io);
    for (int sig : {SIGINT, SIGTERM}) {
        struct sigaction was {};
        if (::sigaction(sig, nullptr, &was) == 0 && was.sa_handler == SIG_IGN) continue;
        signals.add(sig);
    }
    signals.async_wait([&](const std::error_code& ec, int sig) {
        if (ec) return;
        signalled = sig;
        server.stop();
    });
    server.on_killed([&] { signals.cancel(); });
    io.run();
    if (signalled != 0) {
        server.stop();
        std::fflush(stdout);
        std::fflush(stderr);
        ::signal(signalled, SIG_DFL);
        ::raise(signalled);
        return 128 + signalled;  // not reached unless the signal is blocked
    }
    return exit_ok;
}

// Closes every descriptor from `from` up, as OTP's daemon closes everything it inherited.
void close_from(int from) {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(from), ~0U, 0U) == 0) return;
#endif
    long max = ::sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 1 << 20) max = 1 << 20;
    for (int fd = from; fd < max; ++fd) ::close(fd);
}

// OTP's -daemon: fork, setsid, fork again (no controlling terminal can come back), `/` as the
// working directory, stdio on /dev/null and every other inherited descriptor closed. Unlike
// OTP, the caller waits until the daemon listens and reports a bind failure itself: the
// daemon tells it through a pipe, its only descriptor besides its own sockets.
int run_daemon(const EpmdArgs& a) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail(fmt::format("epmd: pipe: {}", std::strerror(errno)));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) return fail(fmt::format("epmd: fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::close(pipe_fds[0]);
        if (::setsid() < 0) ::_exit(exit_failure);
        ::signal(SIGHUP, SIG_IGN);
        const pid_t daemon_pid = ::fork();
        if (daemon_pid != 0) ::_exit(daemon_pid < 0 ? exit_failure : exit_ok);
        if (::chdir("/") != 0) { /* stays where it is, as OTP would */ }
        ::umask(0);
        // The report pipe on descriptor 3, stdio on /dev/null, nothing else.
        int report = pipe_fds[1];
        if (report != 3) {
            report = ::dup2(pipe_fds[1], 3);
            ::close(pipe_fds[1]);
            if (report < 0) ::_exit(exit_failure);
        }
        close_from(4);
        const int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd >= 0) {
            ::dup2(null_fd, STDIN_FILENO);
            ::dup2(null_fd, STDOUT_FILENO);
            ::dup2(null_fd, STDERR_FILENO);
            if (null_fd > STDERR_FILENO && null_fd != report) ::close(null_fd);
        }
        int code = serve(a, [&](const std::string& error, bool in_use) {
            // 'O'k, 'U' (in use), 'E'rror + message.
            std::string msg = error.empty() ? "O" : (in_use ? "U" : "E" + error);
            [[maybe_unused]] auto n = ::write(report, msg.data(), msg.size());
            ::close(report);
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
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
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
                // The daemon's level-0 lines (and more with -d) on stderr, as OTP's epmd in the
                // foreground; a library Server stays quiet unless given a log.
                a.server.log = log_line;
                if (a.daemon) return run_daemon(a);
                return serve(a, [](const std::string&, bool) {});
            }};
}

} // namespace edist::cli
