// Shared fixtures for tests/interop/node_*_test.cpp: real epmd / erl / elixir processes whose
// output the test reads as lines, a free-port allocator, and a capture of an edist node's log.
//
// Header-only: tests/CMakeLists.txt builds each *_test.cpp as its own program, so a helper
// .cpp would not be linked. Waiting is always on an event (a line printed by a child, a log
// line, a message) with a deadline; every process started here is killed with its whole
// process group when its guard goes out of scope, pass or fail.
#pragma once

#include "interop/erl_runner.hpp"

#include <edist/node.hpp>

#include <asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace edist::test {

using Clock = std::chrono::steady_clock;

// A port nobody listens on right now (the OS picks it), for a private epmd per test process.
inline std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::address_v4::any(), 0));
    return a.local_endpoint().port();
}

// What erl -sname puts after the '@': the host name up to its first dot.
inline std::string short_host() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    std::string h = buf;
    return h.substr(0, h.find('.'));
}

// A name no other test process uses at the same time: prefix + pid (+ a counter).
inline std::string unique_name(std::string_view prefix) {
    static std::atomic<int> counter{0};
    return std::string(prefix) + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

// Lines written by a child or an edist node's log, kept in order. A line can be claimed by one
// wait only, so waits for different kinds of lines (RESULT, NODEDOWN) never steal each other's.
class Lines {
public:
    void add(std::string line) {
        {
            std::lock_guard lock(mutex_);
            lines_.push_back(std::move(line));
            claimed_.push_back(false);
        }
        cv_.notify_all();
    }
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        cv_.notify_all();
    }
    // The first unclaimed line containing `needle`, claimed; nullopt if none came in time (or
    // the writer closed first).
    std::optional<std::string> wait_for(std::string_view needle, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        const auto until = Clock::now() + timeout;
        std::size_t from = 0;
        for (;;) {
            for (; from < lines_.size(); ++from) {
                if (!claimed_[from] && lines_[from].find(needle) != std::string::npos) {
                    claimed_[from] = true;
                    return lines_[from];
                }
            }
            if (closed_) return std::nullopt;
            if (cv_.wait_until(lock, until) == std::cv_status::timeout && from == lines_.size())
                return std::nullopt;
        }
    }
    std::size_t count(std::string_view needle) const {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const std::string& l) {
            return l.find(needle) != std::string::npos;
        }));
    }
    // Waits until at least `n` lines contain `needle`.
    bool wait_count(std::string_view needle, std::size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] {
            return static_cast<std::size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const std::string& l) {
                       return l.find(needle) != std::string::npos;
                   })) >= n;
        });
    }
    std::string text() const {
        std::lock_guard lock(mutex_);
        std::string out;
        for (const auto& l : lines_) out += l + "\n";
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> lines_;
    std::vector<bool> claimed_;
    bool closed_ = false;
};

// NodeOptions::log for a test: every line the node logs, with its level, as an event to wait
// on. The sink shares ownership, so it stays valid however long the node keeps it.
class LogCapture {
public:
    std::function<void(LogLevel, std::string_view)> sink() const {
        return [lines = lines_](LogLevel level, std::string_view line) {
            static constexpr const char* names[] = {"debug", "info", "warning", "error"};
            lines->add(std::string(names[static_cast<int>(level)]) + ": " + std::string(line));
        };
    }
    std::optional<std::string> wait_for(std::string_view needle,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return lines_->wait_for(needle, timeout);
    }
    bool wait_count(std::string_view needle, std::size_t n, std::chrono::milliseconds timeout) {
        return lines_->wait_count(needle, n, timeout);
    }
    std::size_t count(std::string_view needle) const { return lines_->count(needle); }
    std::string text() const { return lines_->text(); }

private:
    std::shared_ptr<Lines> lines_ = std::make_shared<Lines>();
};

// Process groups of the children alive now, so a Watchdog can end them before it aborts.
inline std::mutex& live_groups_mutex() {
    static std::mutex m;
    return m;
}
inline std::vector<pid_t>& live_groups() {
    static std::vector<pid_t> v;
    return v;
}

// A child process in its own process group, stdout and stderr read line by line on a thread
// (so a chatty child never blocks on a full pipe), stdin on a pipe. The destructor kills the
// whole group with SIGKILL and reaps the child.
class Process {
public:
    Process(std::vector<std::string> argv, std::vector<std::string> env_overrides = {}) {
        int in[2], out[2];
        if (::pipe(in) != 0 || ::pipe(out) != 0 || ::pipe(stop_) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, out[1], 2);
        for (int fd : {in[0], in[1], out[0], out[1], stop_[0], stop_[1]}) posix_spawn_file_actions_addclose(&fa, fd);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
        posix_spawnattr_setpgroup(&attr, 0);
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attr, &none);

        std::vector<std::string> env;
        for (char** e = environ; *e; ++e) {
            std::string_view v(*e);
            const auto key = v.substr(0, v.find('=') + 1);
            bool overridden = std::any_of(env_overrides.begin(), env_overrides.end(),
                                          [&](const std::string& x) { return x.substr(0, x.find('=') + 1) == key; });
            if (!overridden) env.emplace_back(v);
        }
        for (auto& x : env_overrides) env.push_back(x);
        std::vector<char*> args, envp;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        const int rc = posix_spawnp(&pid_, args[0], &fa, &attr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        out_ = out[0];
        ::fcntl(stdin_, F_SETFD, FD_CLOEXEC);
        ::fcntl(out_, F_SETFD, FD_CLOEXEC);
        ::fcntl(stop_[0], F_SETFD, FD_CLOEXEC);
        ::fcntl(stop_[1], F_SETFD, FD_CLOEXEC);
        if (rc != 0) {
            pid_ = -1;
            close_fds();
            throw std::runtime_error("cannot start " + argv[0]);
        }
        command_ = argv[0];
        {
            std::lock_guard lock(live_groups_mutex());
            live_groups().push_back(pid_);
        }
        reader_ = std::thread([this] { read_lines(); });
    }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process() {
        if (pid_ > 0) {
            {
                std::lock_guard lock(live_groups_mutex());
                std::erase(live_groups(), pid_);
            }
            ::kill(-pid_, SIGCONT); // a stopped group still dies of SIGKILL, but be explicit
            ::kill(-pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        const char x = 'x';
        [[maybe_unused]] auto n = ::write(stop_[1], &x, 1);
        if (reader_.joinable()) reader_.join();
        close_fds();
    }

    pid_t pid() const { return pid_; }
    // Signals the child itself (not its group): SIGKILL, SIGSTOP, SIGCONT.
    void signal(int sig) const { ::kill(pid_, sig); }

    void write_line(std::string_view line) {
        std::string l(line);
        l += '\n';
        std::size_t done = 0;
        while (done < l.size()) {
            const ssize_t n = ::write(stdin_, l.data() + done, l.size() - done);
            if (n <= 0) throw std::runtime_error("cannot write to " + command_ + "'s stdin");
            done += static_cast<std::size_t>(n);
        }
    }

    std::optional<std::string> wait_line(std::string_view needle,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        return lines_.wait_for(needle, timeout);
    }
    bool wait_count(std::string_view needle, std::size_t n, std::chrono::milliseconds timeout) {
        return lines_.wait_count(needle, n, timeout);
    }
    std::size_t count(std::string_view needle) const { return lines_.count(needle); }
    // Everything the child printed so far.
    std::string transcript() const { return lines_.text(); }

private:
    void read_lines() {
        std::string buffer;
        char buf[8192];
        for (;;) {
            pollfd p[2] = {{out_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
            if (::poll(p, 2, -1) < 0) continue;
            if (p[1].revents) break;
            const ssize_t n = ::read(out_, buf, sizeof buf);
            if (n <= 0) break;
            buffer.append(buf, static_cast<std::size_t>(n));
            for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
                std::string line = buffer.substr(0, nl);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                lines_.add(std::move(line));
                buffer.erase(0, nl + 1);
            }
        }
        if (!buffer.empty()) lines_.add(buffer);
        lines_.close();
    }
    void close_fds() {
        for (int* fd : {&stdin_, &out_, &stop_[0], &stop_[1]})
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
    }

    pid_t pid_ = -1;
    int stdin_ = -1, out_ = -1;
    int stop_[2] = {-1, -1};
    std::string command_;
    Lines lines_;
    std::thread reader_;
};

// Ends the test program if a scope outlives `timeout` — a deadlock in the code under test would
// otherwise hang the whole test binary (and its teardown). It prints `what`, kills every child
// process group, and exits with status 1, so the test fails loudly instead of hanging.
class Watchdog {
public:
    Watchdog(std::chrono::milliseconds timeout, std::string what)
        : thread_([this, timeout, what = std::move(what)] {
              std::unique_lock lock(mutex_);
              if (cv_.wait_for(lock, timeout, [&] { return done_; })) return;
              std::fprintf(stderr, "\nWATCHDOG: %s (still running after %lld ms); aborting the test program\n",
                           what.c_str(), static_cast<long long>(timeout.count()));
              std::fflush(stderr);
              {
                  std::lock_guard groups(live_groups_mutex());
                  for (pid_t g : live_groups()) {
                      ::kill(-g, SIGCONT);
                      ::kill(-g, SIGKILL);
                  }
              }
              std::_Exit(1);
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_; // last: starts after the members it uses
};

// OTP's epmd on a private port, in the foreground (no -daemon). It runs under a shell that
// ends it when its stdin (our pipe) closes, so even a test program that dies without running
// destructors leaves no epmd behind; erl nodes end the same way (node_peer halts on EOF).
class OtpEpmd {
public:
    explicit OtpEpmd(std::uint16_t port = free_port())
        : port_(port),
          proc_({"/bin/sh", "-c",
                 "epmd -port " + std::to_string(port) + " -d -d & e=$!; cat >/dev/null; kill $e; wait $e"}) {
        // "epmd running" comes before epmd binds its port; this second-level debug line comes
        // after it listens. A node started in between would find no epmd and serve its own.
        ready_ = proc_.wait_line("entering the main select() loop", std::chrono::seconds(10)).has_value();
    }
    bool ready() const { return ready_; }
    std::uint16_t port() const { return port_; }
    std::string transcript() const { return proc_.transcript(); }

private:
    std::uint16_t port_;
    Process proc_;
    bool ready_ = false;
};

// `epmd -port P -names`, as an operator would type it.
inline RunResult epmd_names(std::uint16_t port) {
    return run("epmd -port " + std::to_string(port) + " -names");
}

struct ErlOptions {
    std::string name;       // the part before '@'
    bool long_names = false; // -name name@127.0.0.1 instead of -sname name@<short host>
    std::string host;        // the host part, when not the default (e.g. 127.0.0.2 with long names)
    std::string cookie = "edist_node_test";
    std::uint16_t epmd_port = 0;
    std::vector<std::string> args; // more erl arguments, e.g. {"-kernel", "net_ticktime", "4"}
};

// A real erl node running tests/data/node/node_peer.erl: an `echo` process, a printer of
// NODEUP/NODEDOWN lines, and a command loop (eval) on stdin.
class ErlNode {
public:
    explicit ErlNode(ErlOptions o)
        : node_(o.name + "@" + (!o.host.empty() ? o.host : o.long_names ? std::string("127.0.0.1") : short_host())) {
        const std::string src = test_data("node/node_peer.erl").string();
        const std::string boot = "{ok, M, B} = compile:file(\"" + src + "\", [binary, report]), "
                                 "{module, M} = code:load_binary(M, \"" + src + "\", B), node_peer:main().";
        std::vector<std::string> argv{"erl", "-noshell", o.long_names ? "-name" : "-sname", node_,
                                      "-setcookie", o.cookie, "-start_epmd", "false"};
        argv.insert(argv.end(), o.args.begin(), o.args.end());
        argv.insert(argv.end(), {"-eval", boot});
        proc_ = std::make_unique<Process>(argv, std::vector<std::string>{"ERL_EPMD_PORT=" + std::to_string(o.epmd_port)});
        ready_ = proc_->wait_line("READY ", std::chrono::seconds(30)).has_value();
    }
    bool ready() const { return ready_; }
    const std::string& node() const { return node_; }
    Atom name() const { return Atom(node_); }
    Process& process() { return *proc_; }
    std::string transcript() const { return proc_->transcript(); }

    // Evaluates `exprs` (Erlang expressions; the final '.' may be left out) and returns the
    // value as ~w prints it, or "<no answer>" after `timeout`.
    std::string eval(std::string exprs, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        while (!exprs.empty() && (exprs.back() == ' ' || exprs.back() == '\n')) exprs.pop_back();
        if (exprs.empty() || exprs.back() != '.') exprs += '.';
        const std::string tag = "RESULT " + std::to_string(++commands_) + " ";
        proc_->write_line(exprs);
        auto line = proc_->wait_line(tag, timeout);
        return line ? line->substr(line->find(tag) + tag.size()) : std::string("<no answer>");
    }
    // Starts evaluating `exprs` without waiting; collect the value with result().
    int eval_async(std::string exprs) {
        if (exprs.empty() || exprs.back() != '.') exprs += '.';
        proc_->write_line(exprs);
        return ++commands_;
    }
    std::string result(int command, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        const std::string tag = "RESULT " + std::to_string(command) + " ";
        auto line = proc_->wait_line(tag, timeout);
        return line ? line->substr(line->find(tag) + tag.size()) : std::string("<no answer>");
    }

private:
    std::string node_;
    std::unique_ptr<Process> proc_;
    bool ready_ = false;
    int commands_ = 0;
};

// An edist node that is stopped when the guard goes (Node keeps itself alive through its
// connections until stop()), with its log captured.
class CppNode {
public:
    // `tweak` adjusts the options after the defaults a test needs: name, cookie, epmd port.
    CppNode(std::string name, std::uint16_t epmd_port, std::string cookie = "edist_node_test",
            const std::function<void(NodeOptions&)>& tweak = {}) {
        NodeOptions o;
        o.name = std::move(name);
        o.cookie = std::move(cookie);
        o.epmd_port = epmd_port;
        o.log = log.sink();
        if (tweak) tweak(o);
        auto started = Node::start(std::move(o));
        if (started) node_ = *started;
        else error_ = started.error().what();
    }
    CppNode(const CppNode&) = delete;
    CppNode& operator=(const CppNode&) = delete;
    ~CppNode() {
        if (node_) node_->stop();
    }
    explicit operator bool() const { return static_cast<bool>(node_); }
    const std::string& error() const { return error_; }
    Node* operator->() const { return node_.get(); }
    Node& operator*() const { return *node_; }
    const std::shared_ptr<Node>& ptr() const { return node_; }

    LogCapture log;

private:
    std::shared_ptr<Node> node_;
    std::string error_;
};

// NodeEvent callbacks as a queue a test can wait on.
class NodeEvents {
public:
    explicit NodeEvents(Node& node) : node_(node) {
        id_ = node.monitor_nodes([state = state_](const NodeEvent& e) {
            {
                std::lock_guard lock(state->mutex);
                state->events.push_back({e, Clock::now()});
                state->taken.push_back(false);
            }
            state->cv.notify_all();
        });
    }
    ~NodeEvents() { node_.unmonitor_nodes(id_); }
    NodeEvents(const NodeEvents&) = delete;
    NodeEvents& operator=(const NodeEvents&) = delete;

    struct Timed {
        NodeEvent event;
        Clock::time_point at;
    };
    // The first event of `kind` for `node` not yet taken by an earlier wait.
    std::optional<Timed> wait(NodeEvent::Kind kind, Atom node, std::chrono::milliseconds timeout) {
        std::unique_lock lock(state_->mutex);
        std::optional<Timed> found;
        state_->cv.wait_for(lock, timeout, [&] {
            for (std::size_t i = 0; i < state_->events.size(); ++i) {
                const Timed& t = state_->events[i];
                if (!state_->taken[i] && t.event.kind == kind && t.event.node == node) {
                    state_->taken[i] = true;
                    found = t;
                    return true;
                }
            }
            return false;
        });
        return found;
    }
    std::size_t count(NodeEvent::Kind kind, Atom node) const {
        std::lock_guard lock(state_->mutex);
        return static_cast<std::size_t>(std::count_if(state_->events.begin(), state_->events.end(), [&](const Timed& t) {
            return t.event.kind == kind && t.event.node == node;
        }));
    }

private:
    struct State {
        std::mutex mutex;
        std::condition_variable cv;
        std::vector<Timed> events;
        std::vector<bool> taken;
    };
    Node& node_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
    std::uint64_t id_ = 0;
};

} // namespace edist::test
