// Node internals shared by the node layer's files: the process table, names, connections.
#pragma once

#include "dist/control.hpp"
#include "dist/ticker.hpp"
#include "node/process.hpp"

#include <edist/exports.hpp>
#include <edist/node.hpp>
#include <edist/transport.hpp>

#include <asio.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace edist {

class Connection;

struct Mailbox::State {
    std::shared_ptr<detail::Process> process;
    ~State();
};

struct Node::Impl {
    NodeOptions options;
    Node* self = nullptr;
    std::weak_ptr<Node> weak_self;
    Atom name;
    std::string host; // the part after '@'
    std::uint32_t creation = 0;
    std::string cookie;

    std::unique_ptr<asio::io_context> own_io;
    asio::io_context* io = nullptr;
    // The node runs on one thread of its own: work started from a handler cannot run
    // concurrently with anything else, so it may as well run at once.
    bool single_threaded() const noexcept { return own_io && options.threads <= 1; }
    detail::RunQueue run_queue; // single-threaded nodes only (process.cpp)
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;

    // NodeOptions' transport and resolver, or the defaults (TCP; epmd as the options say).
    std::shared_ptr<Transport> transport;
    std::shared_ptr<Resolver> resolver;
    std::unique_ptr<Acceptor> acceptor;
    // An Acceptor, as an Asio object, takes one call at a time: each async_accept (started from
    // the previous accept's handler, on that connection's strand) and stop's close run here.
    std::optional<asio::strand<asio::io_context::executor_type>> accept_strand;
    std::uint16_t port = 0;
    NodeRegistration registration;
    std::atomic<bool> stopped{false};

    // Processes: pid id -> mailbox; names -> pid id.
    mutable std::mutex procs_mutex;
    std::unordered_map<std::uint32_t, std::weak_ptr<detail::Process>> procs;
    std::unordered_map<std::uint32_t, std::uint32_t> names; // atom index -> pid id
    std::uint32_t next_pid = 0;
    // Active aliases: the alias ref's words -> pid id.
    std::map<std::array<std::uint32_t, 3>, std::uint32_t> aliases;
    std::atomic<std::uint64_t> ref_counter{0};
    // The I/O server new processes get as group leader (none until the services start it).
    std::optional<Pid> default_group_leader;

    // net_ticktime and its changes (set_net_ticktime); connections take their tick schedule
    // from it each time they arm their tick timer.
    mutable std::mutex ticktime_mutex;
    dist::NetTicktime ticktime{std::chrono::seconds(60)}; // NodeOptions' value, set by start
    dist::TickSchedule tick_schedule() {
        std::lock_guard lock(ticktime_mutex);
        return ticktime.schedule(dist::NetTicktime::Clock::now());
    }

    // Connections by peer node name (atom index).
    mutable std::mutex conns_mutex;
    std::unordered_map<std::uint32_t, std::shared_ptr<Connection>> conns;
    std::condition_variable_any conns_cv; // a connection came up or ended
    std::unordered_set<std::uint32_t> nok_nodes; // our attempt got nok: the peer's is coming
    // When a failed attempt to reach a node was last logged as a warning (conns_mutex).
    std::unordered_map<std::uint32_t, std::chrono::steady_clock::time_point> connect_failures_logged;
    struct Orphan {
        Atom node;
        Term reason;
    };
    std::mutex orphans_mutex;
    std::map<Term, Orphan> orphans; // by request ref; until the reply or the node goes down

    std::mutex monitors_mutex;
    std::map<std::uint64_t, std::function<void(const NodeEvent&)>> node_monitors;
    std::vector<std::weak_ptr<detail::Process>> node_monitor_boxes;
    std::uint64_t next_monitor = 0;

    void log(LogLevel level, std::string_view line) const;

    Pid make_pid();
    Ref make_ref();
    bool is_local(const Pid& p) const noexcept { return p.node == name && (p.creation == creation || p.creation == 0); }
    // A new process, in the table and (when `reg` is not '') registered; badarg if taken.
    // Once in the table, other threads can signal it (Node::stop, a lost connection's links
    // and monitors, a peer that names its pid): so a coroutine process is marked as one, and
    // `init` sets up the rest (trap_exit, group leader, links and monitors of a spawn), before
    // it goes in, and needs no lock for it. `init` runs under procs_mutex.
    Result<std::shared_ptr<detail::Process>> new_process(Atom reg, bool coroutine = false,
                                                         const std::function<void(detail::Process&)>& init = {});
    void remove_process(std::uint32_t id, Atom registered);
    std::shared_ptr<detail::Process> find_process(std::uint32_t id) const;
    std::shared_ptr<detail::Process> find_local(const Pid& p) const { return is_local(p) ? find_process(p.id) : nullptr; }
    std::shared_ptr<detail::Process> find_name(Atom name) const;
    std::shared_ptr<detail::Process> find_alias(const Ref& alias) const;
    void add_alias(const Ref& alias, std::uint32_t pid_id);
    bool remove_alias(const Ref& alias);
    void set_node_monitor(const std::shared_ptr<detail::Process>& box, bool on);
    // erlang:monitor_node/2 for `self`: connects to `node` if need be; {nodedown, Node} when
    // that connection ends or cannot be made.
    void monitor_node(const std::shared_ptr<detail::Process>& self, Atom node, bool on);

    // Signals from a local process to any process, local or remote.
    void send_exit(const Pid& from, const Pid& to, const Term& reason, bool via_link);
    // A 'DOWN' for `watcher`: `as` is the monitored pid or registered name of this node.
    void send_down(const Pid& watcher, const Ref& ref, const Term& as, const Term& reason);
    void cancel_monitor(const Pid& watcher, const detail::MonitorOut& m);
    void link(const std::shared_ptr<detail::Process>& self, const Pid& other);
    void unlink(const std::shared_ptr<detail::Process>& self, const Pid& other);
    Ref monitor(const std::shared_ptr<detail::Process>& self, const Term& target, Atom node);
    bool demonitor(const std::shared_ptr<detail::Process>& self, const Ref& ref, bool flush);
    // Links and monitors across a lost connection end with noconnection.
    void node_down(Atom node);
    // A linked remote spawn whose requester finished (`reason`) or abandoned it (abandoned)
    // before the reply: the child it starts is sent that exit, as OTP's runtime does.
    void orphan_spawn(const detail::PendingSpawn& s, const Term& reason);
    // A SPAWN_REPLY nobody waits for: exits the child of an orphaned linked spawn.
    void orphan_spawn_replied(const dist::SpawnReplySignal& s, Atom peer);
    // SPAWN_REQUEST from a peer (remote spawn, erpc).
    void spawn_request(const dist::SpawnRequestSignal& s, Atom peer);
    // Sends a SPAWN_REQUEST for `self` to the remote `node`; the request's ref is the monitor's
    // with opts.monitor. The reply arrives as {spawn_reply, Ref, Flags, PidOrReason}, or, with
    // error_only (OTP's {reply, error_only}), only when the spawn failed.
    Ref send_spawn_request(const std::shared_ptr<detail::Process>& self, Atom node, Atom module, Atom function,
                           const Term& args, const SpawnOptions& opts, bool error_only);
    // Forgets a request whose reply no longer matters: it will be dropped when it comes.
    void abandon_spawn_request(const std::shared_ptr<detail::Process>& self, const Ref& req);

    // Delivery of a signal that arrived from `peer` (or from this node).
    void deliver_local(const dist::Signal& signal, Atom peer);
    // Routes a signal to its destination node, connecting on demand. A message send is held
    // back while the connection is busy (NodeOptions::dist_buf_busy_limit): with `may_block`,
    // a plain thread waits there; with `sender`, a coroutine process is suspended at its next
    // co_await. Other signals, and sends from handlers on the node's threads, are never held.
    void route(Atom node, dist::Signal signal, bool may_block = false, detail::Process* sender = nullptr);
    // Node::send and Self::send: `sender` is the coroutine process sending, if it is one.
    void send(const Pid& to, Term message, std::optional<Pid> from, detail::Process* sender);
    void send(Atom name, Atom node, Term message, std::optional<Pid> from, detail::Process* sender);

    // Connection bookkeeping, called by Connection.
    std::shared_ptr<Connection> connection_for(Atom node, bool create);
    void connection_up(const std::shared_ptr<Connection>& c);
    void connection_down(const std::shared_ptr<Connection>& c, const Term& reason);
    void notify(const NodeEvent& event);

    // Exported functions, by {Module, Function, Arity}.
    using Export = std::variant<ExportedFunction, ExportedOutcomeFunction>;
    mutable std::mutex exports_mutex;
    std::map<std::tuple<std::uint32_t, std::uint32_t, unsigned>, Export> exports;
    std::optional<Export> find_export(Atom module, Atom function, unsigned arity) const;

    void start_accepting();
    Result<bool> start_listening();
    Result<bool> register_node(); // with the resolver (epmd ALIVE2 by default)
};

// (Internal; in namespace edist because detail::Node is the term heap node.)
// Everything of Node::start up to, not including, the system processes and accepting
// connections: those belong to the services layer (src/services/start.cpp).
Result<std::shared_ptr<Node>> start_node(std::unique_ptr<asio::io_context> own, asio::io_context* io,
                                         NodeOptions options);
// Runs an exported function in the calling process, turning how it ended into a CallOutcome
// (undef when nothing is exported under that name). `args` is a proper list.
Task<CallOutcome> apply_export(Self self, Atom module, Atom function, Term args);
// erlang:apply(M, F, A) on terms from the wire: a module or function that is not an atom, or
// arguments that are not a proper list, raise badarg from erlang:apply as BEAM's do.
Task<CallOutcome> apply_export(Self self, const Term& module, const Term& function, const Term& args);
// The exit reason of a process whose function ended with `out`, as OTP reports it.
Term exit_reason_of(const CallOutcome& out);
// The exit reason of a process body or callback that threw `e`: ExitError's reason,
// raise_error(R) as {R, []}, raise_throw(R) as {{nocatch, R}, []}, an edist::Error (a failed
// typed access, badarg) as {Reason, []} as a BIF's error, anything else as
// {cpp_exception, <<"what()">>}.
Term exit_reason_of(std::exception_ptr e);

} // namespace edist
