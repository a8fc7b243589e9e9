// edist::Node: a C++ program as a node of an Erlang cluster.
//
//   auto node = edist::Node::start({.name = "cpp", .cookie = "secret"}).value();
//   edist::Mailbox box = node->make_mailbox("worker");       // a pid, registered as 'worker'
//   node->send(edist::atom("shell"), edist::atom("erl@host"), edist::tuple(box.pid(), 42));
//   if (auto msg = box.receive(std::chrono::seconds(5))) std::cout << *msg << '\n';
//
// A node runs on its own threads (start(options)) or on an io_context the caller owns and runs
// (start(io, options)). Every method may be called from any thread.
#pragma once

#include <edist/epmd.hpp>
#include <edist/error.hpp>
#include <edist/exports.hpp>
#include <edist/process.hpp>
#include <edist/term.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio {
class io_context;
}

namespace edist {

class Mailbox;
class Node;
class Resolver;  // <edist/transport.hpp>
class Transport; // <edist/transport.hpp>

enum class LogLevel { debug, info, warning, error };

struct NodeOptions {
    // "name" or "name@host". Without a host, the machine's short host name (long names: its
    // fully qualified name) is used, as erl -sname/-name do.
    std::string name;
    // The cookie; when empty, $HOME/.erlang.cookie as erl reads it (created if missing).
    std::string cookie;
    bool long_names = false; // -name instead of -sname
    // A hidden node: not in other nodes' nodes(), global or pg. Visible nodes must take part
    // in global and pg, which edist does not implement yet, so start() refuses hidden = false.
    bool hidden = true;
    // Distribution listen port (0: any free port) and address.
    std::uint16_t listen_port = 0;
    std::string listen_address = "0.0.0.0";
    // epmd: where to register and look names up. When no epmd answers on the port, the node
    // starts one in-process (embedded_epmd) so that a lone C++ program needs no daemon.
    std::uint16_t epmd_port = epmd::default_epmd_port();
    bool embedded_epmd = true;
    bool register_with_epmd = true;
    // How node names become addresses (default: epmd, as the three options above say; or
    // static_resolver(port) to run without epmd) and how bytes move (default: TCP). See
    // <edist/transport.hpp> and docs/TRANSPORT.md.
    std::shared_ptr<Resolver> resolver;
    std::shared_ptr<Transport> transport;
    // Back-pressure, per connection (OTP's dist_buf_busy_limit, erl +zdbbl, 1 MB): while more
    // than this many bytes wait to be written to a peer, a plain thread sending to it
    // (Node::send, Mailbox::send) blocks until they drain below the limit or the connection
    // goes down, and a coroutine process sending to it (Self::send) is suspended at its next
    // co_await until then. The node's threads themselves are never blocked. dist_buf_max is
    // the last resort for senders that cannot be held back (async handlers, a process looping
    // without a co_await): a connection with more unwritten bytes than that when a message is
    // queued is closed (nodedown reason system_limit).
    std::size_t dist_buf_busy_limit = std::size_t(1) << 20;
    std::size_t dist_buf_max = std::size_t(64) << 20;
    // The tick time the node starts with (4 ms to a billion seconds); Node::set_net_ticktime
    // changes it.
    std::chrono::milliseconds net_ticktime = std::chrono::seconds(60);
    std::chrono::milliseconds net_setuptime = std::chrono::seconds(7);
    // Threads the node runs when it owns its io_context.
    unsigned threads = 1;
    // The node's I/O server (`user`): where output goes (default: stdout) and where input
    // lines come from (default: stdin; std::nullopt means end of file).
    std::function<void(std::string_view utf8)> io_output;
    std::function<std::optional<std::string>(std::string_view prompt)> io_input;
    // Where log lines go (default: stderr for warnings and errors). Each is one line without
    // its newline; control characters in what it quotes (a peer's bytes) come escaped (\n, \xHH).
    std::function<void(LogLevel, std::string_view)> log;
};

// A connection to `node` came up or ended, for monitor_nodes subscribers. Every subscriber is
// told a connection's nodeup before its nodedown, and connect() returns after the nodeup.
struct NodeEvent {
    enum class Kind { nodeup, nodedown } kind;
    Atom node;
    // nodedown: why, as net_kernel:monitor_nodes(true, [nodedown_reason]) reports it:
    // connection_closed (the peer closed it: it stopped, died or disconnected), disconnect
    // (disconnect() here), net_tick_timeout, net_kernel_terminated (stop() here), or what made
    // this node close it (system_limit, invalid_message; wait_pending: the peer restarted and
    // its new incarnation connected while this node still held the old connection).
    Term reason;
};

class Node : public std::enable_shared_from_this<Node> {
public:
    static Result<std::shared_ptr<Node>> start(NodeOptions options);
    static Result<std::shared_ptr<Node>> start(asio::io_context& io, NodeOptions options);
    virtual ~Node();

    Atom name() const noexcept;
    std::uint32_t creation() const noexcept;
    std::uint16_t port() const noexcept; // the distribution listen port
    const NodeOptions& options() const noexcept;

    // A new mailbox: a pid of this node, optionally registered under `name`.
    Result<Mailbox> make_mailbox(std::string_view registered_name = {});
    // A new process running `body` on the node's threads (see edist/process.hpp). Fails with
    // badarg when opts.register_name is taken, and with notalive once stop() has begun (as
    // make_mailbox does). Link and monitor options need a spawning process: use Self::spawn
    // for them.
    Result<Pid> spawn(ProcessBody body, SpawnOptions opts = {});
    std::size_t process_count() const;

    // Makes `fn` callable by other nodes as Module:Function/Arity (spawn/4, erpc, rpc). A later
    // export under the same name replaces the earlier one.
    void export_function(std::string_view module, std::string_view function, unsigned arity, ExportedFunction fn);
    // ... or a function that returns its outcome, failures included, without throwing.
    void export_function(std::string_view module, std::string_view function, unsigned arity,
                         ExportedOutcomeFunction fn);
    // ... or a typed function, its arity the number of its parameters (after an optional leading
    // Self): arguments converted by from_term, the result by to_term (edist/exports.hpp).
    template <class F>
        requires detail::HasSignature<F>
    void export_function(std::string_view module, std::string_view function, F fn) {
        export_function(module, function, detail::TypedExport<F>::arity, typed_export(std::move(fn)));
    }
    bool unexport_function(std::string_view module, std::string_view function, unsigned arity);
    std::optional<Pid> whereis(Atom name) const;
    std::vector<Atom> registered() const; // the registered names, as erlang:registered/0

    // Messages. A message to an unreachable node is dropped, as in Erlang. `from` is the
    // sending pid when the peer should see one. Sending from a plain thread blocks while the
    // connection to the peer is busy (NodeOptions::dist_buf_busy_limit); from the node's own
    // threads it never blocks (a coroutine process should use Self::send, which it holds back).
    void send(const Pid& to, Term message, std::optional<Pid> from = std::nullopt);
    void send(Atom name, Atom node, Term message, std::optional<Pid> from = std::nullopt); // {Name, Node} ! Msg
    // To a locally registered name; false (nothing sent) when no process is registered so.
    bool send(Atom name, Term message);

    // net_adm:ping/1: true (pong) when a connection is up or can be set up and the peer
    // answers net_kernel's is_auth; false (pang) otherwise.
    bool ping(Atom node, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Sets up a connection without sending anything (net_kernel:connect_node/1).
    bool connect(Atom node, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    void disconnect(Atom node);
    std::vector<Atom> nodes() const; // connected nodes, visible and hidden
    // Bytes waiting to be written to `node` (0 without a connection), like the queue_size of
    // an OTP distribution port: what dist_buf_busy_limit is compared with.
    std::size_t dist_queue_size(Atom node) const;

    // net_kernel:get_net_ticktime/0: the tick time (NodeOptions::net_ticktime until changed),
    // or, while a change is under way, the one it is changing to (`changing`: OTP's
    // {ongoing_change_to, T}).
    struct NetTicktime {
        std::chrono::milliseconds ticktime;
        bool changing = false;
    };
    NetTicktime net_ticktime() const;
    // net_kernel:set_net_ticktime/2. For `transition` the connections tick for both tick times
    // (ticks written as often as the shorter needs, a silent peer declared down only after the
    // longer), so that peers changing a little earlier or later keep their connections, then
    // for the new one alone. Answers unchanged, change_initiated, or ongoing_change_to (with
    // its target) when an earlier change has not ended; badarg for a tick time under 4 ms, or
    // a tick time or transition over a billion seconds or a negative transition.
    enum class TicktimeChange { unchanged, change_initiated, ongoing_change_to };
    Result<std::pair<TicktimeChange, std::chrono::milliseconds>> set_net_ticktime(
        std::chrono::milliseconds ticktime, std::chrono::milliseconds transition = std::chrono::seconds(60));

    // nodeup/nodedown callbacks; returns an id for unmonitor_nodes. A nodeup callback runs on
    // the node's thread before connect() (or ping()) to that node returns, so it must not wait
    // for a thread that is calling connect(). It may itself call disconnect().
    std::uint64_t monitor_nodes(std::function<void(const NodeEvent&)> callback);
    void unmonitor_nodes(std::uint64_t id);

    asio::io_context& io_context() noexcept;
    // Closes every connection (nodedown reason net_kernel_terminated here, connection_closed
    // on the peers) and the listener, and stops the node's own threads. As with init:stop(),
    // what was sent before reaches the peers: each connection's queue is written out first
    // (at most two seconds for a peer that does not read; not when called from the node's
    // own threads). A node on its own threads stops them; work they left queued (an
    // async_receive's handler told of its mailbox's end, say) then runs on the calling thread
    // before stop() returns. On a user's io_context, that work stays for the user to run.
    void stop();

    struct Impl;
    Impl& impl() noexcept { return *impl_; }

protected:
    explicit Node(std::unique_ptr<Impl> impl);

private:
    std::unique_ptr<Impl> impl_;
};

// A process for plain threads: a pid, a queue and blocking or asynchronous selective receive.
// Closing it (or destroying the last copy) ends the process with reason `normal`. Links,
// monitors and exit trapping are available through self(); an exit signal that is not
// trapped ends the mailbox (receive then returns std::nullopt and exit_reason() says why).
class Mailbox {
public:
    Mailbox() = default;
    Pid pid() const noexcept;
    Node& node() const noexcept;
    Self self() const noexcept; // link, monitor, trap_exit, exit, aliases ...
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    std::optional<Term> exit_reason() const; // set once the mailbox's process has ended

    void send(const Pid& to, Term message) const;
    void send(Atom name, Atom node, Term message) const;

    // The oldest message, waiting at most `timeout` (std::nullopt: nothing arrived).
    std::optional<Term> receive(std::chrono::milliseconds timeout = infinity);
    // The oldest message for which `match` returns true; other messages stay queued, in order,
    // as in an Erlang selective receive. `match` runs with the queue locked: it must only look
    // at the message, not call into the node.
    std::optional<Term> receive(const std::function<bool(const Term&)>& match,
                                std::chrono::milliseconds timeout = infinity);
    // Calls `handler` once, on the node's io_context, with the next message (selected by
    // `match` when given) or std::nullopt after `timeout`.
    void async_receive(std::function<void(std::optional<Term>)> handler,
                       std::chrono::milliseconds timeout = infinity,
                       std::function<bool(const Term&)> match = nullptr);
    std::size_t queued() const;

    // {nodeup, Node} and {nodedown, Node} messages for every connection. Like
    // net_kernel:monitor_nodes(true, [{node_type, all}]) without its info list: this node is
    // hidden, so all its connections are, and a plain monitor_nodes(true) would report none.
    void monitor_nodes(bool on);
    void close();

    struct State;
    explicit Mailbox(std::shared_ptr<State> s) : state_(std::move(s)) {}

private:
    std::shared_ptr<State> state_;
};

} // namespace edist
