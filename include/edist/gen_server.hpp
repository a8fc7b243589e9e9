// gen_server in C++: servers that BEAM nodes call with gen_server:call / cast (and Elixir's
// GenServer.call), and a client that calls and casts to any gen_server, C++ or BEAM.
//
//   struct Echo : edist::gen_server::Server {
//       edist::Task<Next> handle_call(edist::Term request, From) override {
//           co_return reply(request);
//       }
//   };
//   auto pid = gen_server::start(*node, std::make_unique<Echo>(), {.name = "echo"});
//   // erl:  gen_server:call({echo, 'cpp@host'}, hello, 5000) -> hello
//
//   // From a process: gen_server:call({Name, Node}, Request, Timeout).
//   auto r = co_await gen_server::call(self, {atom("kv"), atom("erl@host")}, atom("get"), 5s);
//   if (!r) ... r.error().reason   // timeout | noproc | noconnection | the server's exit reason
//
// The server runs as a coroutine process and speaks OTP's protocol: {'$gen_call', {Pid, Tag},
// Request} answered with {Tag, Reply} (to the alias when Tag is [alias|Ref]), {'$gen_cast',
// Msg}, and the system messages sys:get_state / get_status / suspend / resume / terminate use.
// The client monitors the server and waits on an alias, as gen:call does, so a late reply after
// a timeout never reaches the caller.
#pragma once

#include <edist/error.hpp>
#include <edist/process.hpp>
#include <edist/task.hpp>
#include <edist/term.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace edist {

class Mailbox;
class Node;

namespace gen_server {

using namespace std::chrono_literals;

// Who called: the {Pid, Tag} of a '$gen_call'. Copy it to answer later with reply().
struct From {
    Pid pid;
    Term tag;
    Term term() const { return tuple(pid, tag); }
};

// What a callback asks the server loop to do next ({reply, R, S}, {noreply, S}, {stop, ...}).
// `timeout`: when no message comes within it, handle_info(timeout) runs, as in OTP.
struct Next {
    enum class Kind { reply, noreply, stop } kind = Kind::noreply;
    Term reply;                           // for reply, and for stop with a reply
    bool has_reply = false;
    Term reason;                          // for stop
    std::chrono::milliseconds timeout = infinity;
};
inline Next reply(Term r, std::chrono::milliseconds timeout = infinity) {
    return {Next::Kind::reply, std::move(r), true, Term(), timeout};
}
inline Next noreply(std::chrono::milliseconds timeout = infinity) { return {Next::Kind::noreply, Term(), false, Term(), timeout}; }
inline Next stop(Term reason) { return {Next::Kind::stop, Term(), false, std::move(reason), infinity}; }
inline Next stop(Term reason, Term reply) { return {Next::Kind::stop, std::move(reply), true, std::move(reason), infinity}; }

// What init returns: {ok, State} (the state is the object), {stop, Reason} or ignore.
struct Init {
    enum class Kind { ok, stop, ignore } kind = Kind::ok;
    Term reason;
    std::chrono::milliseconds timeout = infinity;
    static Init ok(std::chrono::milliseconds timeout = infinity) { return {Kind::ok, Term(), timeout}; }
    static Init stop(Term reason) { return {Kind::stop, std::move(reason), infinity}; }
    static Init ignore() { return {Kind::ignore, Term(), infinity}; }
};

// The server's behaviour. The object is the server's state; its callbacks run one at a time in
// the server's process and may co_await (calls to other servers, receives, sleeps).
//
// A callback that throws ends the server: terminate(Reason) runs, then the process exits with
// Reason (ExitError's reason, raise_error(R) and an edist::Error of reason R as {R, []}, any
// other exception as {cpp_exception, <<"what()">>}).
class Server {
public:
    // So that derived classes name these without qualification.
    using Next = gen_server::Next;
    using Init = gen_server::Init;
    using From = gen_server::From;

    virtual ~Server() = default;

    virtual Task<Init> init() { co_return Init::ok(); }
    // Default: stop with {bad_call, Request}, as a gen_server without the clause would crash.
    virtual Task<Next> handle_call(Term request, From from);
    // Default: stop with {bad_cast, Msg}.
    virtual Task<Next> handle_cast(Term message);
    // Default: ignore the message (OTP logs it).
    virtual Task<Next> handle_info(Term message);
    virtual Task<> terminate(Term reason) { (void)reason; co_return; }
    // What sys:get_state and sys:get_status show as the server's state.
    virtual Term state() const { return atoms::undefined; }

protected:
    // The server's process; valid from init() on.
    Self self() const { return *self_; }
    static Next reply(Term r, std::chrono::milliseconds timeout = infinity) { return gen_server::reply(std::move(r), timeout); }
    static Next noreply(std::chrono::milliseconds timeout = infinity) { return gen_server::noreply(timeout); }
    static Next stop(Term reason) { return gen_server::stop(std::move(reason)); }
    static Next stop(Term reason, Term r) { return gen_server::stop(std::move(reason), std::move(r)); }
    // gen_server:reply/2 from the server itself, for a call answered later.
    void reply(const From& from, Term r) const;

private:
    friend struct ServerAccess;
    std::optional<Self> self_;
};

// gen_server:reply/2: answer a call after handle_call returned noreply(). Any process may
// answer; `self` is the one sending.
void reply(Self self, const From& from, Term reply);

// How a start ended, as OTP's {ok, Pid} | ignore | {error, Reason}.
class StartResult {
public:
    static StartResult started(const Pid& pid) { return StartResult(pid, Term(), false); }
    static StartResult ignore() { return StartResult(std::nullopt, Term(), true); }
    static StartResult error(Term reason) { return StartResult(std::nullopt, std::move(reason), false); }

    bool ok() const noexcept { return pid_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    bool ignored() const noexcept { return ignored_; }
    const Pid& pid() const; // throws Error(badarg) when not started
    const Term& reason() const noexcept { return reason_; } // {error, Reason}'s Reason
    Term term() const;                                       // {ok, Pid} | ignore | {error, Reason}

private:
    StartResult(std::optional<Pid> p, Term r, bool ign) : pid_(std::move(p)), reason_(std::move(r)), ignored_(ign) {}
    std::optional<Pid> pid_;
    Term reason_;
    bool ignored_ = false;
};

struct StartOptions {
    std::string_view name; // register the server locally under this name
    // How long init may take; then the server is killed and the start fails with timeout.
    std::chrono::milliseconds timeout = infinity;
};

// gen_server:start_link/3,4 from a process: the server is linked to `self`, its parent.
Task<StartResult> start_link(Self self, std::unique_ptr<Server> server, StartOptions opts = {});
// gen_server:start/3,4 from a process (no link; the server is its own parent).
Task<StartResult> start(Self self, std::unique_ptr<Server> server, StartOptions opts = {});
// gen_server:start from a plain thread (not from a node thread: it blocks until init is done).
StartResult start(Node& node, std::unique_ptr<Server> server, StartOptions opts = {});

// Where a server is: a pid, a locally registered name, or {Name, Node}.
struct ServerRef {
    ServerRef(const Pid& p) : target(p) {}
    ServerRef(Atom name) : target(name) {}
    ServerRef(Atom name, Atom node) : target(name), node(node) {}
    Term target;
    Atom node; // for a name: its node; Atom() means this node
    Term term() const; // Pid | Name | {Name, Node}, as gen_server:call's first argument
};

// Why a call failed.
struct CallError {
    // timeout, noproc, noconnection, calling_self, or the exit reason of the server.
    Term reason;
    Atom node;     // with noconnection: the node that went away
    Term location; // {gen_server, call, [Server, Request, Timeout]}
    // What gen_server:call exits with: {Reason, Location}, noconnection being {nodedown, Node}.
    Term exit_reason() const;
    std::string message() const;
};

// A reply, or a CallError. value() on an error throws ExitError(exit_reason()), so
// `co_await call(...)).value()` in a process body fails the way gen_server:call does.
class CallResult {
public:
    CallResult(Term reply) : reply_(std::move(reply)) {}
    CallResult(CallError error) : error_(std::move(error)) {}
    bool ok() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return ok(); }
    const Term& value() const;
    const Term& operator*() const { return value(); }
    const Term* operator->() const { return &value(); }
    const CallError& error() const; // throws Error(badarg) when ok

private:
    Term reply_;
    std::optional<CallError> error_;
};

inline constexpr std::chrono::milliseconds default_timeout = 5000ms; // gen_server:call/2's

// gen_server:call/3 from a process.
Task<CallResult> call(Self self, ServerRef server, Term request, std::chrono::milliseconds timeout = default_timeout);
// gen_server:call/3 from a Mailbox's thread: blocks on the mailbox's own queue.
CallResult call(Mailbox& box, ServerRef server, Term request, std::chrono::milliseconds timeout = default_timeout);
// gen_server:call/3 from any plain thread, through a temporary process.
CallResult call(Node& node, ServerRef server, Term request, std::chrono::milliseconds timeout = default_timeout);

// gen_server:cast/2: {'$gen_cast', Msg}; never fails, never waits.
void cast(Self self, ServerRef server, Term message);
void cast(Node& node, ServerRef server, Term message);

// gen_server:stop/3: asks the server to terminate with `reason` (terminate/1 runs) and waits for
// it to exit. ok when it exited with `reason`; otherwise noproc, timeout or the other reason.
Task<CallResult> stop(Self self, ServerRef server, Term reason = atoms::normal,
                      std::chrono::milliseconds timeout = infinity);
CallResult stop(Node& node, ServerRef server, Term reason = atoms::normal, std::chrono::milliseconds timeout = infinity);

} // namespace gen_server
} // namespace edist
