// The process core shared by coroutine processes and blocking mailboxes: a message queue,
// links (with the UNLINK_ID protocol), monitors, exit handling and the one waiter a process
// can have at a time.
#pragma once

#include <edist/process.hpp>
#include <edist/term.hpp>

#include <asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace edist {
class Node;
class Connection;
namespace detail {

// Atoms that signals build or match on every message, interned once (atom("...") hashes and
// looks the text up at each call).
namespace am {
inline const Atom DOWN{"DOWN"}, EXIT{"EXIT"}, process{"process"}, spawn_reply{"spawn_reply"}, link{"link"},
    monitor{"monitor"};
} // namespace am

// A SPAWN_REQUEST of ours awaiting its SPAWN_REPLY. With error_only (OTP's {reply, error_only})
// a successful reply queues no spawn_reply message.
struct PendingSpawn {
    Ref req;
    Atom node;
    bool error_only = false;
    bool link = false;
};

struct Link {
    Pid peer;
    std::uint64_t unlink_id = 0; // 0: active; otherwise our UNLINK_ID awaiting its ack
};

// Someone monitors this process. `as` is how they named it: our pid or our registered name.
struct MonitorIn {
    Pid watcher;
    Ref ref;
    Term as;
};

// This process monitors someone: a pid, or {Name, Node}.
struct MonitorOut {
    Ref ref;
    Term target;
    Atom node;
};

struct AsyncWaiter {
    std::uint64_t id;
    Match match;
    std::function<void(std::optional<Term>)> handler;
    std::shared_ptr<asio::steady_timer> timer;
};

struct Process : std::enable_shared_from_this<Process> {
    struct MsgNode {
        Term msg;
        MsgNode* next = nullptr;
    };

    explicit Process(edist::Node& node);
    ~Process();

    edist::Node& node;
    std::shared_ptr<edist::Node> keep_node; // a process keeps its node alive
    Pid pid;
    Atom registered;
    Pid group_leader;
    bool coroutine = false;

    mutable std::mutex mutex;
    // Messages in arrival order, in two parts. Senders append to the shared part (under
    // `mutex`); the receiver moves it in one go to the end of its own part, which only the
    // receiver touches (a coroutine's body without the lock; a Mailbox's receivers with it), so
    // a coroutine takes what it already holds without locking, as a BEAM process works
    // through its private message queue and only locks to fetch what arrived since.
    MsgNode* head = nullptr;
    MsgNode** tail = &head;
    MsgNode* own_head = nullptr;
    MsgNode** own_tail = &own_head;
    std::uint32_t count = 0;     // in the shared part
    std::uint32_t own_count = 0; // in the receiver's own part

    bool trapping = false;
    bool exited = false;
    bool finished = false;
    // Set with pending_exit, so that the receiver can see without the lock that it must die.
    std::atomic<bool> exit_flag{false};
    std::optional<Term> pending_exit; // to act on at the next co_await
    // Self::set_exit_reason: the reason when the body returns. Only the body touches it: no lock.
    std::optional<Term> return_reason;
    Term exit_reason;

    std::vector<Link> links;
    std::vector<MonitorIn> monitors_in;
    std::vector<MonitorOut> monitors_out;
    std::vector<PendingSpawn> pending_spawns;
    // monitor_node/2: one entry per monitor_node(Node, true) still active.
    std::vector<Atom> node_monitors;

    // The waiter: a thread in Mailbox::receive, a suspended coroutine, or async handlers.
    std::condition_variable* thread_waiter = nullptr;
    ReceiveAwaiter* co_waiter = nullptr;
    std::coroutine_handle<> co_handle;
    std::unique_ptr<asio::steady_timer> co_timer;
    std::uint64_t wait_seq = 0;
    std::vector<AsyncWaiter> async_waiters;
    std::shared_ptr<Process> running_ref; // a coroutine process lives until it exits

    // A coroutine's body only: the local process it last sent to, so that a stream of messages
    // to one process finds it once (no table lookup, lock or count change per message).
    // Dropped once a send finds it exited, and when this process finishes.
    std::shared_ptr<Process> last_to;

    // Back-pressure on a coroutine process. A send found the connection busy: the process is
    // suspended at its next co_await until the connection drains (as BEAM suspends a process
    // that sends on a busy distribution port). Only the body touches `busy_on`: no lock.
    std::shared_ptr<Connection> busy_on;
    // Under `mutex`: the co_await suspended on busy_on (its wait_seq is the current one).
    ReceiveAwaiter* busy_waiter = nullptr;

    // --- Called with `mutex` held ----------------------------------------------------------
    // By the receiver: removes and returns the first queued message accepted by `match`,
    // scanning from position `skip` (messages before it were already refused).
    std::optional<Term> take(const Match& match, std::size_t skip = 0);
    void push(Term msg);
    std::size_t queued() const noexcept { return std::size_t(own_count) + count; }
    // --- Called by a coroutine's body without the lock ------------------------------------
    // take() among the messages the receiver already holds. `scanned` is set to how many were
    // refused.
    std::optional<Term> take_own(const Match& match, std::size_t& scanned);

    // --- Signals (any thread; they lock) ---------------------------------------------------
    // False when the process has exited (the message is dropped).
    bool deliver(Term msg);
    // An exit signal. via_link: a linked process exited; otherwise exit/2.
    void exit_signal(const Pid& from, const Term& reason, bool via_link);
    void add_link(const Pid& peer);                        // LINK received
    void unlink_received(const Pid& peer, std::uint64_t id); // UNLINK_ID received
    void unlink_acked(const Pid& peer, std::uint64_t id);    // UNLINK_ID_ACK received
    void monitored_by(const Pid& watcher, const Ref& ref, const Term& as);
    void demonitored(const Ref& ref);
    void down(const Ref& ref, const Term& item, const Term& reason); // a monitor of ours fired
    // SPAWN_REPLY (or noconnection): sets up the link and monitor the reply confirms before any
    // later signal from the new process is handled, then queues {spawn_reply, Req, Flags, Result}.
    // False when `req` is no longer pending (abandoned, or the process has finished).
    bool spawn_replied(const Ref& req, std::uint32_t flags, const Term& result);

    // Ends the process: unregisters it, fires links and monitors. Idempotent.
    void finish(Term reason);
    // The connection busy_on drained (or closed): continues the co_await suspended on it,
    // unless `seq` is stale (the process was killed, or woken already).
    void resume_busy(std::uint64_t seq);

private:
    // Marks the process as dying with `reason` and wakes whatever waits; returns whether the
    // caller must run finish() now (blocking mailboxes die at once; coroutines at their
    // next co_await).
    bool kill_locked(Term reason);
    // Takes this exited process out of the node's table before a noproc answer (see add_link).
    void gone_from_table(Atom name);
};

// While one is alive (on a single-threaded node's thread, around delivering what a connection
// received), a message for a coroutine waiting for it resumes the coroutine at once, instead of
// through the io_context's queue: a reply then costs no trip through the scheduler. One level
// deep: what the resumed process itself sends is delivered the usual way.
class ResumeWaitersNow {
public:
    explicit ResumeWaitersNow(bool on) noexcept;
    ~ResumeWaitersNow();
    ResumeWaitersNow(const ResumeWaitersNow&) = delete;
    ResumeWaitersNow& operator=(const ResumeWaitersNow&) = delete;

private:
    bool previous_;
};

// Resumes `h`, the suspended body of `p`, on the node's threads, soon. On a single-threaded
// node, while a process runs on the node's thread, the processes it makes ready go to a run
// queue that is worked through as soon as it suspends, before the io_context polls for I/O
// again (as a BEAM scheduler runs its run queue and checks I/O every so many reductions): a
// local message then costs no trip through the io_context's queue and no epoll_wait. After
// `run_queue_budget` resumptions in a row, what is left goes back to the io_context.
void resume_soon(Process& p, std::coroutine_handle<> h);
inline constexpr std::size_t run_queue_budget = 256;

// A single-threaded node's run queue (in Node::Impl). One thread at a time touches it: the
// node's thread, or the thread that stops the node once the node's thread has ended (it runs
// what is still queued, the continuation included, so no process is left holding the node).
struct RunQueue {
    struct Ready {
        std::coroutine_handle<> handle;
        std::shared_ptr<Process> keep;
    };
    std::deque<Ready> ready;
    bool continuation_posted = false; // the budget ran out: a handler will carry on
};

// Starts the body of a coroutine process (made by new_process(reg, true, ...)) on the node's
// threads: later, from the io_context's queue, or, with `now`, on this thread before returning
// (the caller must be on a node thread).
void start_body(const std::shared_ptr<Process>& p, ProcessBody body, bool now = false);

} // namespace detail
} // namespace edist
