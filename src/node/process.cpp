// Signals to a process (messages, exits, links, monitors) and the coroutine scheduling of
// process bodies.
#include "node/deadline.hpp"
#include "node/process.hpp"
#include "node/connection.hpp"
#include "node/node_impl.hpp"

#include <edist/text.hpp>

#include <asio.hpp>

namespace edist::detail {

namespace {

bool accepts(const Match& match, const Term& t) { return !match || match(t); }

thread_local bool resume_waiters_now = false;

// The run queue this thread is working through (see resume_soon), if any.
thread_local RunQueue* draining = nullptr;

// Queues `first` (if any) and works through the node's run queue, oldest first, up to the
// budget; then, if some are left, lets the io_context poll for I/O and carries on from a
// handler. Called from a handler of a single-threaded node's io_context.
void run_ready(edist::Node& node, RunQueue::Ready first) {
    RunQueue& q = node.impl().run_queue;
    if (first.handle) q.ready.push_back(std::move(first));
    if (draining == &q) return; // already working through it, further up this thread's stack
    RunQueue* const outer = std::exchange(draining, &q);
    for (std::size_t budget = run_queue_budget; budget > 0 && !q.ready.empty(); --budget) {
        RunQueue::Ready r = std::move(q.ready.front());
        q.ready.pop_front();
        r.handle.resume();
    }
    draining = outer;
    if (!q.ready.empty() && !q.continuation_posted) {
        q.continuation_posted = true;
        // The process queued first holds the node while the handler waits.
        asio::post(node.io_context(), [&node, keep = q.ready.front().keep] {
            node.impl().run_queue.continuation_posted = false;
            run_ready(node, {});
        });
    }
}

// Thrown out of a co_await when the process has been told to die; not a std::exception, so
// `catch (const std::exception&)` in a process body does not swallow it.
struct ProcessKilled {
    Term reason;
};

// The coroutine that runs a body and turns how it ended into an exit reason.
struct Runner {
    struct promise_type {
        Runner get_return_object() noexcept { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
    std::coroutine_handle<promise_type> handle;
};

Runner run(std::shared_ptr<Process> p, ProcessBody body) {
    Term reason = atoms::normal;
    try {
        co_await body(Self(p.get()));
        if (p->return_reason) reason = std::move(*p->return_reason);
    } catch (const ProcessKilled& k) {
        reason = k.reason;
    } catch (...) {
        reason = exit_reason_of(std::current_exception());
    }
    p->finish(std::move(reason));
}

} // namespace

Process::Process(edist::Node& n) : node(n) {}

namespace {
void free_messages(Process::MsgNode*& first) {
    while (first) {
        Process::MsgNode* n = first;
        first = n->next;
        delete n;
    }
}

// Removes and returns the first message from position `from` of the list (first, last)
// accepted by `match`; `scanned` counts the refused ones.
std::optional<Term> take_from(Process::MsgNode*& first, Process::MsgNode**& last, std::uint32_t& n_queued,
                              const Match& match, std::size_t from, std::size_t& scanned) {
    Process::MsgNode** link = &first;
    scanned = 0;
    for (; *link && scanned < from; ++scanned) link = &(*link)->next;
    for (; *link; link = &(*link)->next, ++scanned) {
        if (!accepts(match, (*link)->msg)) continue;
        Process::MsgNode* n = *link;
        *link = n->next;
        if (last == &n->next) last = link;
        --n_queued;
        Term t = std::move(n->msg);
        delete n;
        return t;
    }
    return std::nullopt;
}
} // namespace

Process::~Process() {
    free_messages(head);
    free_messages(own_head);
}

void Process::push(Term msg) {
    auto* n = new MsgNode{std::move(msg)};
    *tail = n;
    tail = &n->next;
    ++count;
}

std::optional<Term> Process::take(const Match& match, std::size_t skip) {
    if (head) { // what arrived since goes to the end of the receiver's own part
        *own_tail = head;
        own_tail = tail;
        own_count += count;
        head = nullptr;
        tail = &head;
        count = 0;
    }
    std::size_t scanned;
    return take_from(own_head, own_tail, own_count, match, skip, scanned);
}

std::optional<Term> Process::take_own(const Match& match, std::size_t& scanned) {
    return take_from(own_head, own_tail, own_count, match, 0, scanned);
}

bool Process::deliver(Term msg) {
    std::unique_lock lock(mutex);
    if (exited) return false;
    if (co_waiter && accepts(co_waiter->match_, msg)) {
        co_waiter->result_ = std::move(msg);
        co_waiter = nullptr;
        auto h = co_handle;
        if (co_timer) co_timer->cancel();
        lock.unlock();
        if (resume_waiters_now) {
            auto keep = shared_from_this();
            ResumeWaitersNow nested(false);
            h.resume();
            return true;
        }
        resume_soon(*this, h);
        return true;
    }
    for (auto it = async_waiters.begin(); it != async_waiters.end(); ++it) {
        if (!accepts(it->match, msg)) continue;
        auto w = std::move(*it);
        async_waiters.erase(it);
        lock.unlock();
        if (w.timer) w.timer->cancel();
        asio::post(node.io_context(), [h = std::move(w.handler), m = std::move(msg)]() mutable { h(std::move(m)); });
        return true;
    }
    push(std::move(msg));
    if (thread_waiter) thread_waiter->notify_all();
    return true;
}

bool Process::kill_locked(Term reason) {
    if (exited || pending_exit) return false;
    if (!coroutine) {
        exited = true; // finish() will run the rest
        exit_reason = reason;
        if (thread_waiter) thread_waiter->notify_all();
        return true;
    }
    pending_exit = std::move(reason);
    exit_flag.store(true, std::memory_order_release);
    // Suspended in a receive, or on a busy connection (it dies now, not when that drains).
    if (ReceiveAwaiter* w = co_waiter ? std::exchange(co_waiter, nullptr) : std::exchange(busy_waiter, nullptr)) {
        w->exiting_ = true;
        if (co_timer) co_timer->cancel();
        resume_soon(*this, co_handle);
    }
    return false;
}

void Process::exit_signal(const Pid& from, const Term& reason, bool via_link) {
    std::unique_lock lock(mutex);
    if (exited) return;
    if (via_link) {
        auto it = std::find_if(links.begin(), links.end(), [&](const Link& l) { return l.peer == from; });
        if (it == links.end() || it->unlink_id != 0) return; // unlinked, or an unlink is under way
        links.erase(it);
    }
    Term kill = atoms::kill;
    bool die = false;
    Term why = reason;
    if (!via_link && reason == kill) {
        die = true; // untrappable
        why = atoms::killed;
    } else if (trapping) {
        lock.unlock();
        deliver(tuple(am::EXIT, from, reason));
        return;
    } else if (reason != Term(atoms::normal)) {
        die = true;
    } else if (!via_link && from == pid) {
        die = true; // exit(self(), normal) ends the caller
    }
    if (!die) return;
    bool now = kill_locked(why);
    lock.unlock();
    if (now) finish(exit_reason);
}

// A process that has exited can still be in the node's table for a moment: finish() marks it
// exited, then takes it out, then signals its links and monitors. Whoever finds it there and
// answers noproc takes it out first, so that, as on BEAM, a process that saw the 'DOWN' or
// 'EXIT' finds the pid gone and the name free. (remove_process leaves a name that has been
// registered again alone.)
void Process::gone_from_table(Atom name) { node.impl().remove_process(pid.id, name); }

void Process::add_link(const Pid& peer) {
    std::unique_lock lock(mutex);
    if (exited) {
        const Atom name = registered;
        lock.unlock();
        gone_from_table(name);
        node.impl().send_exit(pid, peer, atoms::noproc, true);
        return;
    }
    // An entry that exists, even one being unlinked, is left alone (the link protocol).
    for (auto& l : links)
        if (l.peer == peer) return;
    links.push_back({peer, 0});
}

void Process::unlink_received(const Pid& peer, std::uint64_t id) {
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(links.begin(), links.end(), [&](const Link& l) { return l.peer == peer; });
        if (it != links.end() && it->unlink_id == 0) links.erase(it);
    }
    // Always acknowledged, before any other signal to the peer.
    node.impl().route(peer.node, dist::UnlinkIdAckSignal{id, pid, peer});
}

void Process::unlink_acked(const Pid& peer, std::uint64_t id) {
    std::lock_guard lock(mutex);
    auto it = std::find_if(links.begin(), links.end(), [&](const Link& l) { return l.peer == peer; });
    if (it != links.end() && it->unlink_id == id) links.erase(it);
}

void Process::monitored_by(const Pid& watcher, const Ref& ref, const Term& as) {
    std::unique_lock lock(mutex);
    if (!exited) {
        monitors_in.push_back({watcher, ref, as});
        return;
    }
    const Atom name = registered;
    lock.unlock();
    gone_from_table(name);
    node.impl().send_down(watcher, ref, as, atoms::noproc);
}

void Process::demonitored(const Ref& ref) {
    std::lock_guard lock(mutex);
    std::erase_if(monitors_in, [&](const MonitorIn& m) { return m.ref == ref; });
}

void Process::down(const Ref& ref, const Term& item, const Term& reason) {
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(monitors_out.begin(), monitors_out.end(), [&](const MonitorOut& m) { return m.ref == ref; });
        if (it == monitors_out.end()) return; // demonitored meanwhile
        monitors_out.erase(it);
    }
    deliver(tuple(am::DOWN, ref, am::process, item, reason));
}

bool Process::spawn_replied(const Ref& req, std::uint32_t flags, const Term& result) {
    bool error_only = false;
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(pending_spawns.begin(), pending_spawns.end(), [&](const auto& p) { return p.req == req; });
        if (it == pending_spawns.end()) return false;
        error_only = it->error_only;
        pending_spawns.erase(it);
        auto mon = std::find_if(monitors_out.begin(), monitors_out.end(), [&](const MonitorOut& m) { return m.ref == req; });
        if (result.is_pid()) {
            if (flags & 1) links.push_back({result.as_pid(), 0});
            if (mon != monitors_out.end()) {
                if (flags & 2)
                    mon->target = result;
                else
                    monitors_out.erase(mon);
            }
        } else if (mon != monitors_out.end()) {
            monitors_out.erase(mon);
        }
    }
    if (error_only && result.is_pid()) return true;
    deliver(tuple(am::spawn_reply, req, flags, result));
    return true;
}

void Process::finish(Term reason) {
    std::vector<Link> my_links;
    std::vector<MonitorIn> watchers;
    std::vector<MonitorOut> watching;
    std::vector<AsyncWaiter> waiters;
    std::vector<PendingSpawn> spawns;
    Atom name;
    {
        std::lock_guard lock(mutex);
        if (finished) return;
        name = registered;
        finished = true;
        if (pending_exit) reason = *pending_exit; // killed while running: the signal's reason wins
        exited = true;
        exit_reason = reason;
        my_links.swap(links);
        watchers.swap(monitors_in);
        watching.swap(monitors_out);
        waiters.swap(async_waiters);
        spawns.swap(pending_spawns);
        // The receiver's own part too: a coroutine finishes in its body, a Mailbox's receivers
        // hold the lock to touch it.
        free_messages(head);
        tail = &head;
        count = 0;
        free_messages(own_head);
        own_tail = &own_head;
        own_count = 0;
        if (thread_waiter) thread_waiter->notify_all();
    }
    edist::Node::Impl& im = node.impl();
    im.remove_process(pid.id, name);
    for (auto& w : waiters) {
        if (w.timer) w.timer->cancel();
        asio::post(node.io_context(), [h = std::move(w.handler)] { h(std::nullopt); });
    }
    for (const Link& l : my_links)
        if (l.unlink_id == 0) im.send_exit(pid, l.peer, reason, true);
    for (const MonitorIn& m : watchers) im.send_down(m.watcher, m.ref, m.as, reason);
    for (const MonitorOut& m : watching) im.cancel_monitor(pid, m);
    for (const PendingSpawn& s : spawns)
        if (s.link) im.orphan_spawn(s, reason); // the child, when it comes, gets our exit
    if (coroutine) last_to.reset(); // finish() runs in the body: two that sent to each other must not hold each other
    running_ref.reset(); // a coroutine process's last self-reference
}

void Process::resume_busy(std::uint64_t seq) {
    ReceiveAwaiter* awaiter;
    std::coroutine_handle<> h;
    {
        std::lock_guard lock(mutex);
        if (!busy_waiter || wait_seq != seq) return;
        awaiter = busy_waiter;
        busy_waiter = nullptr;
        h = co_handle;
    }
    // The co_await goes on as if just begun: still busy (woken early) holds it again.
    if (!awaiter->await_suspend(h)) h.resume();
}

ResumeWaitersNow::ResumeWaitersNow(bool on) noexcept : previous_(resume_waiters_now) { resume_waiters_now = on; }
ResumeWaitersNow::~ResumeWaitersNow() { resume_waiters_now = previous_; }

namespace {
// Resumes `h` from the io_context's queue, after what is already there (and an I/O poll).
void post_resume(Process& p, std::coroutine_handle<> h) {
    if (p.node.impl().single_threaded())
        asio::post(p.node.io_context(), [h, keep = p.shared_from_this()]() mutable {
            edist::Node& node = keep->node;
            run_ready(node, {h, std::move(keep)});
        });
    else
        asio::post(p.node.io_context(), [h, keep = p.shared_from_this()] { h.resume(); });
}
} // namespace

void resume_soon(Process& p, std::coroutine_handle<> h) {
    RunQueue& q = p.node.impl().run_queue;
    if (draining == &q) {
        q.ready.push_back({h, p.shared_from_this()});
        return;
    }
    post_resume(p, h);
}

void start_body(const std::shared_ptr<Process>& p, ProcessBody body, bool now) {
    // new_process(reg, true, ...) marked it a coroutine and keeps it alive until run() ends.
    auto r = run(p, std::move(body));
    if (now) {
        ResumeWaitersNow nested(false); // what the body sends is delivered the usual way
        r.handle.resume();
    } else
        resume_soon(*p, r.handle);
}

} // namespace edist::detail

namespace edist {

using detail::Process;

// A message the body already holds is taken without the lock and without suspending.
bool ReceiveAwaiter::await_ready() {
    detail::Process& p = *p_;
    if (!p.own_head || yield_ || p.busy_on || p.exit_flag.load(std::memory_order_acquire)) return false;
    std::size_t refused;
    if (auto t = p.take_own(match_, refused)) {
        result_ = std::move(t);
        return true;
    }
    skip_ = refused;
    return false;
}

bool ReceiveAwaiter::await_suspend(std::coroutine_handle<> h) {
    Process& p = *p_;
    std::unique_lock lock(p.mutex);
    if (p.pending_exit) {
        exiting_ = true;
        return false;
    }
    if (p.busy_on) { // a send found its connection busy: wait here until it drains
        if (p.busy_on->hold(p.shared_from_this(), ++p.wait_seq)) {
            p.busy_waiter = this;
            p.co_handle = h;
            return true;
        }
        p.busy_on.reset();
    }
    if (yield_) { // erlang:yield/0: let what else is ready run first
        detail::post_resume(p, h);
        return true;
    }
    if (auto t = p.take(match_, skip_)) {
        result_ = std::move(t);
        return false;
    }
    if (timeout_ == std::chrono::milliseconds(0)) return false;
    p.co_waiter = this;
    p.co_handle = h;
    std::uint64_t seq = ++p.wait_seq;
    if (timeout_ != infinity) {
        if (!p.co_timer) p.co_timer = std::make_unique<asio::steady_timer>(p.node.io_context());
        p.co_timer->expires_at(detail::deadline_after(timeout_)); // saturates, unlike expires_after
        p.co_timer->async_wait([keep = p.shared_from_this(), seq](const std::error_code& ec) {
            if (ec) return;
            std::unique_lock l(keep->mutex);
            if (!keep->co_waiter || keep->wait_seq != seq) return;
            keep->co_waiter = nullptr;
            auto handle = keep->co_handle;
            l.unlock();
            if (keep->node.impl().single_threaded())
                detail::run_ready(keep->node, {handle, keep});
            else
                handle.resume();
        });
    }
    return true;
}

std::optional<Term> ReceiveAwaiter::await_resume() {
    if (yield_ && !exiting_) {
        std::lock_guard lock(p_->mutex);
        exiting_ = p_->pending_exit.has_value(); // an exit signal that came while yielding
    }
    if (exiting_) {
        Term reason;
        {
            std::lock_guard lock(p_->mutex);
            reason = p_->pending_exit ? *p_->pending_exit : Term(atoms::killed);
        }
        throw detail::ProcessKilled{reason};
    }
    return std::move(result_);
}

} // namespace edist
