// Lightweight processes: C++20 coroutines scheduled on the node's threads, each with a pid, a
// mailbox with selective receive, links, monitors, exit trapping, a group leader and aliases.
//
//   Pid echo = node->spawn([](Self self) -> Task<> {
//       for (;;) {
//           auto msg = co_await self.receive();          // suspends; no thread is blocked
//           if (msg->is_tuple(2)) self.send((*msg)[0].as_pid(), (*msg)[1]);
//       }
//   });
//
// A process ends when its body returns (reason `normal`, or the one given to
// self.set_exit_reason), calls self.exit(Reason), throws (edist::ExitError carries an Erlang
// reason; any other exception becomes {cpp_exception, <<"what()">>}), or receives an exit
// signal it does not trap. C++ code cannot be preempted: an exit signal that arrives while a
// process is running takes effect at its next co_await, and so does the back-pressure of a
// busy connection (see Self::send).
#pragma once

#include <edist/error.hpp>
#include <edist/task.hpp>
#include <edist/term.hpp>

#include <chrono>
#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace edist {

class Node;
namespace detail {
struct Process;

} // namespace detail

inline constexpr std::chrono::milliseconds infinity = std::chrono::milliseconds::max();

// Thrown to end the current process with an Erlang exit reason.
class ExitError : public std::exception {
public:
    explicit ExitError(Term reason) : reason_(std::move(reason)) {}
    const Term& reason() const noexcept { return reason_; }
    const char* what() const noexcept override { return "process exit"; }

private:
    Term reason_;
};

// A selective receive's pattern. It runs while the process's queue is locked, so it must only
// look at the message: calling into the node from it (whereis, send, spawn) may deadlock.
using Match = std::function<bool(const Term&)>;

// What `co_await self.receive(...)` suspends on.
class ReceiveAwaiter {
public:
    ReceiveAwaiter(detail::Process* p, Match match, std::chrono::milliseconds timeout)
        : p_(p), match_(std::move(match)), timeout_(timeout) {}
    bool await_ready();
    bool await_suspend(std::coroutine_handle<> h);
    std::optional<Term> await_resume();

private:
    friend struct detail::Process;
    friend class Self;
    detail::Process* p_;
    Match match_;
    std::chrono::milliseconds timeout_;
    std::optional<Term> result_;
    std::size_t skip_ = 0; // messages the receive has already refused
    bool exiting_ = false;
    bool yield_ = false; // Self::yield: receives nothing, always suspends
};

struct SpawnOptions {
    bool link = false;    // spawn_link
    bool monitor = false; // spawn_monitor: the monitor's ref is in Spawned::monitor
    std::string_view register_name; // also register the new process under this name
    std::optional<Pid> group_leader; // default: the spawner's (or the node's I/O server)
    bool trap_exit = false;
};

class Self;
using ProcessBody = std::function<Task<>(Self)>;

struct Spawned {
    Pid pid;
    std::optional<Ref> monitor;
};

// The running process's view of itself. Cheap to copy; valid while the process runs.
class Self {
public:
    explicit Self(detail::Process* p) : p_(p) {}

    Pid pid() const noexcept;
    Node& node() const noexcept;

    // The oldest message (matching `match`, when given), or std::nullopt after `timeout`.
    ReceiveAwaiter receive(std::chrono::milliseconds timeout = infinity) const { return {p_, nullptr, timeout}; }
    ReceiveAwaiter receive(Match match, std::chrono::milliseconds timeout = infinity) const {
        return {p_, std::move(match), timeout};
    }
    // receive after Ms -> ok end.
    ReceiveAwaiter sleep(std::chrono::milliseconds ms) const {
        return {p_, [](const Term&) { return false; }, ms};
    }

    // Sending never blocks the thread. When the connection to the peer is busy (more than
    // NodeOptions::dist_buf_busy_limit bytes unwritten, e.g. the peer is slow or stopped), the
    // message is queued and the process is suspended at its next co_await until the backlog
    // drains or the connection goes, as BEAM suspends a process sending on a busy distribution
    // port. A loop that sends without ever reaching a co_await cannot be held back: past
    // NodeOptions::dist_buf_max the connection is closed (system_limit). Such a loop should
    // `co_await self.yield()` now and then.
    void send(const Pid& to, Term message) const;
    void send(Atom name, Atom node, Term message) const;
    void send(Atom name, Term message) const; // local name; Error(badarg) if none, as Name ! Msg
    void send(const Ref& alias, Term message) const; // to an alias
    // erlang:yield/0: lets other ready processes and I/O run, then continues; waits first for
    // a busy connection this process sent to (see send). Always suspends.
    ReceiveAwaiter yield() const {
        ReceiveAwaiter a{p_, nullptr, std::chrono::milliseconds(0)};
        a.yield_ = true;
        return a;
    }

    void link(const Pid& other) const;
    void unlink(const Pid& other) const;
    Ref monitor(const Pid& target) const;
    Ref monitor(Atom name, Atom node) const;
    // demonitor/2: with flush, a 'DOWN' message already queued for `ref` is removed too.
    // Returns what erlang:demonitor(Ref, [info]) does: whether the monitor was still active
    // (false when it had already fired or never existed), flush or not.
    bool demonitor(const Ref& ref, bool flush = false) const;
    // erlang:monitor_node/2. With `on`, a {nodedown, Node} message when the connection to
    // `node` ends, or at once if it cannot be made (the node is connected if it is not). Each
    // call adds a monitor and each sends its own message; monitor_node(Node, false) removes
    // one. This node's own name is never down.
    void monitor_node(Atom node, bool on) const;
    // net_kernel:monitor_nodes/1 for this process: {nodeup, Node} and {nodedown, Node} for
    // every connection, as Mailbox::monitor_nodes.
    void monitor_nodes(bool on) const;
    void trap_exit(bool on) const;
    bool trap_exit() const;
    void exit(const Pid& target, Term reason) const; // exit/2
    // exit/1: ends the process now, by throwing ExitError out of the body.
    [[noreturn]] void exit(Term reason) const { throw ExitError(std::move(reason)); }
    // The reason the process exits with when its body returns (default `normal`). Unlike
    // exit/1 it does not throw, so it costs no unwinding: `self.set_exit_reason(R); co_return;`
    // ends the process as exit(R) does. An exit signal that kills the process first wins.
    void set_exit_reason(Term reason) const;

    Pid group_leader() const;
    void group_leader(const Pid& leader) const;
    // register/2 and unregister/1 for this process: false if the name is taken (register) or
    // the process has no name (unregister).
    bool register_name(Atom name) const;
    bool unregister() const;
    Ref make_alias() const;           // alias/0 (explicit unalias)
    bool unalias(const Ref& alias) const;
    Ref make_ref() const;

    Spawned spawn(ProcessBody body, SpawnOptions opts = {}) const;
    // spawn_request/5: starts Module:Function(Args...) on `node` (a BEAM node, or this one),
    // with link / monitor as in opts (the monitor's ref is the request's). Fails with the
    // error the peer reports (badopt, notsup, system_limit) or noconnection.
    Task<Result<Spawned>> spawn_request(Atom node, Atom module, Atom function, Term args, SpawnOptions opts = {}) const;

    detail::Process* core() const noexcept { return p_; }

private:
    detail::Process* p_;
};

} // namespace edist
