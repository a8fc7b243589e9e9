// Supervisors in C++: a process that starts children, watches them through links and restarts
// them by OTP's rules. Children may be C++ processes, C++ gen_servers, other supervisors, or
// processes on BEAM nodes (spawned there and linked to the supervisor).
//
//   using namespace edist::supervisor;
//   auto sup = co_await start_link(self, {.strategy = Strategy::one_for_one, .intensity = 3, .period = 5s}, {
//       {.id = atom("cache"), .start = server([] { return std::make_unique<Cache>(); })},
//       {.id = atom("worker"), .start = worker(worker_body), .restart = Restart::transient},
//       {.id = atom("beam"), .start = remote(atom("erl@host"), atom("my_mod"), atom("start_link"), list())},
//   }, {.name = "my_sup"});
//
// The supervisor is a gen_server: supervisor:which_children({my_sup, CppNode}),
// count_children, get_childspec, terminate_child, restart_child, delete_child and
// (simple_one_for_one) start_child(Sup, ExtraArgs) work from erl too, and the functions below
// work against OTP supervisors.
//
// Semantics follow supervisor.erl: more than `intensity` restarts within `period` make the
// supervisor terminate its children and exit with reason shutdown; children stop in reverse
// start order, each by exit(Child, shutdown) and, after its shutdown time, exit(Child, kill).
// A simple_one_for_one supervisor stops all its children at once and waits at most one shutdown
// time for them together.
#pragma once

#include <edist/gen_server.hpp>
#include <edist/process.hpp>
#include <edist/task.hpp>
#include <edist/term.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edist {

class Node;

namespace supervisor {

using namespace std::chrono_literals;
using gen_server::CallResult;
using gen_server::ServerRef;
using gen_server::StartOptions;
using gen_server::StartResult;

enum class Strategy { one_for_one, one_for_all, rest_for_one, simple_one_for_one };
enum class Restart { permanent, transient, temporary };
enum class ChildType { worker, supervisor };

// Shutdown "brutal_kill": exit(Child, kill) at once. Otherwise a timeout, or edist::infinity.
inline constexpr std::chrono::milliseconds brutal_kill{-1};

// Starts one child, linked to `supervisor` (the calling process), and says how it went.
// `extra_args` is [] for static children, and start_child's ExtraArgs for simple_one_for_one.
using StartFunction = std::function<Task<StartResult>(Self supervisor, Term extra_args)>;

struct ChildSpec {
    Term id; // any term; unused (undefined) for simple_one_for_one
    StartFunction start;
    Restart restart = Restart::permanent;
    // Default: 5 s for a worker, infinity for a supervisor, as OTP.
    std::optional<std::chrono::milliseconds> shutdown;
    ChildType type = ChildType::worker;
    // The child spec's modules, as which_children and get_childspec report them: a list of
    // module atoms, or the atom dynamic. Unset: [M] for a remote(Node, M, F, A) child (OTP's
    // default, the start module), [] for a C++ child (no Erlang module runs it, so a release
    // upgrade has nothing of it to suspend or reload).
    std::optional<Term> modules;
};

struct Flags {
    Strategy strategy = Strategy::one_for_one;
    int intensity = 1;
    std::chrono::milliseconds period = 5s;
};

// --- Start functions for common children --------------------------------------------------------
// A C++ coroutine process, spawned linked.
StartFunction worker(ProcessBody body);
// A C++ gen_server, start_link'ed (optionally registered as `name`).
StartFunction server(std::function<std::unique_ptr<gen_server::Server>()> make, std::string name = {});
// A C++ supervisor as a child (type should be ChildType::supervisor).
StartFunction child_supervisor(Flags flags, std::vector<ChildSpec> children, std::string name = {});
// Module:Function(Args ++ ExtraArgs) spawned on a BEAM node and linked (spawn_request with
// link), so a crash there reaches the supervisor as an exit signal. The function runs the
// child itself (it does not return a pid like a start_link function does).
StartFunction remote(Atom node, Atom module, Atom function, Term args);

// --- Starting a supervisor ----------------------------------------------------------------------
// Fails with {shutdown, {failed_to_start_child, Id, Reason}} when a child does not start.
Task<StartResult> start_link(Self self, Flags flags, std::vector<ChildSpec> children, StartOptions opts = {});
StartResult start(Node& node, Flags flags, std::vector<ChildSpec> children, StartOptions opts = {});

// --- Talking to a running supervisor (C++ or OTP), as supervisor.erl's API ----------------------
// simple_one_for_one: a new child with these extra arguments; {ok, Pid} | {error, Reason}.
Task<CallResult> start_child(Self self, ServerRef sup, Term extra_args);
// ok | {error, not_found}; for simple_one_for_one, `id` is the child's pid (anything else is
// {error, simple_one_for_one}). A child waiting for a restart attempt is not restarted after.
Task<CallResult> terminate_child(Self self, ServerRef sup, Term id);
// {ok, Pid} | {error, running | restarting | not_found}; simple_one_for_one: {error, simple_one_for_one}.
Task<CallResult> restart_child(Self self, ServerRef sup, Term id);
// ok | {error, running | restarting | not_found}; simple_one_for_one: {error, simple_one_for_one}.
Task<CallResult> delete_child(Self self, ServerRef sup, Term id);
// {ok, #{id, start, restart, shutdown, type, modules, significant}} | {error, not_found}; for
// simple_one_for_one, `id` is a child's pid and the map is the template's. A C++ child's start
// function has no MFA: its map says start => undefined (a remote child's: {M, F, Args}).
Task<CallResult> get_childspec(Self self, ServerRef sup, Term id);
// [{Id, Pid | restarting | undefined, worker | supervisor, Modules}], Modules as ChildSpec::modules.
Task<CallResult> which_children(Self self, ServerRef sup);
// [{specs, N}, {active, N}, {supervisors, N}, {workers, N}].
Task<CallResult> count_children(Self self, ServerRef sup);

} // namespace supervisor
} // namespace edist
