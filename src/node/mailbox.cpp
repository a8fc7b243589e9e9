// Mailboxes: a queue per pid with selective receive, blocking or asynchronous.
#include "node/node_impl.hpp"

#include <asio.hpp>

namespace edist {

namespace {
bool accepts(const std::function<bool(const Term&)>& match, const Term& t) { return !match || match(t); }
} // namespace

Mailbox::State::~State() {
    if (node) node->impl().remove_process(pid.id, registered);
}

void Mailbox::State::deliver(Term message) {
    std::unique_lock lock(mutex);
    if (closed) return;
    for (auto it = waiters.begin(); it != waiters.end(); ++it) {
        if (!accepts(it->match, message)) continue;
        auto waiter = std::move(*it);
        waiters.erase(it);
        lock.unlock();
        if (waiter.timer) waiter.timer->cancel();
        asio::post(node->io_context(), [h = std::move(waiter.handler), m = std::move(message)]() mutable { h(std::move(m)); });
        return;
    }
    queue.push_back(std::move(message));
    lock.unlock();
    cv.notify_all();
}

Pid Mailbox::pid() const noexcept { return state_->pid; }
Node& Mailbox::node() const noexcept { return *state_->node; }

void Mailbox::send(const Pid& to, Term message) const { state_->node->send(to, std::move(message), state_->pid); }
void Mailbox::send(Atom name, Atom node, Term message) const {
    state_->node->send(name, node, std::move(message), state_->pid);
}

std::optional<Term> Mailbox::receive(std::chrono::milliseconds timeout) { return receive(nullptr, timeout); }

std::optional<Term> Mailbox::receive(const std::function<bool(const Term&)>& match, std::chrono::milliseconds timeout) {
    auto deadline = timeout == std::chrono::milliseconds::max() ? std::chrono::steady_clock::time_point::max()
                                                                : std::chrono::steady_clock::now() + timeout;
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    std::size_t scanned = 0; // messages already refused by `match` are not looked at again
    for (;;) {
        for (auto it = s.queue.begin() + static_cast<std::ptrdiff_t>(scanned); it != s.queue.end(); ++it, ++scanned) {
            if (accepts(match, *it)) {
                Term t = std::move(*it);
                s.queue.erase(it);
                return t;
            }
        }
        if (s.closed) return std::nullopt;
        if (deadline == std::chrono::steady_clock::time_point::max()) {
            s.cv.wait(lock);
        } else if (s.cv.wait_until(lock, deadline) == std::cv_status::timeout) {
            // One last look: a message may have arrived together with the timeout.
            for (auto it = s.queue.begin() + static_cast<std::ptrdiff_t>(scanned); it != s.queue.end(); ++it)
                if (accepts(match, *it)) {
                    Term t = std::move(*it);
                    s.queue.erase(it);
                    return t;
                }
            return std::nullopt;
        }
    }
}

void Mailbox::async_receive(std::function<void(std::optional<Term>)> handler, std::chrono::milliseconds timeout,
                            std::function<bool(const Term&)> match) {
    auto state = state_;
    asio::io_context& io = state->node->io_context();
    std::unique_lock lock(state->mutex);
    for (auto it = state->queue.begin(); it != state->queue.end(); ++it) {
        if (accepts(match, *it)) {
            Term t = std::move(*it);
            state->queue.erase(it);
            lock.unlock();
            asio::post(io, [h = std::move(handler), t = std::move(t)]() mutable { h(std::move(t)); });
            return;
        }
    }
    std::uint64_t id = ++state->next_waiter;
    std::shared_ptr<asio::steady_timer> timer;
    if (timeout != std::chrono::milliseconds::max()) {
        timer = std::make_shared<asio::steady_timer>(io, timeout);
        timer->async_wait([state, id](const std::error_code& ec) {
            if (ec) return;
            std::unique_lock lock(state->mutex);
            for (auto it = state->waiters.begin(); it != state->waiters.end(); ++it) {
                if (it->id != id) continue;
                auto h = std::move(it->handler);
                state->waiters.erase(it);
                lock.unlock();
                h(std::nullopt);
                return;
            }
        });
    }
    state->waiters.push_back({id, std::move(match), std::move(handler), std::move(timer)});
}

std::size_t Mailbox::queued() const {
    std::lock_guard lock(state_->mutex);
    return state_->queue.size();
}

void Mailbox::monitor_nodes(bool on) { state_->node->impl().set_node_monitor(state_, on); }

void Mailbox::close() {
    State& s = *state_;
    std::list<State::Waiter> waiters;
    {
        std::lock_guard lock(s.mutex);
        if (s.closed) return;
        s.closed = true;
        s.queue.clear();
        waiters.swap(s.waiters);
    }
    s.cv.notify_all();
    s.node->impl().remove_process(s.pid.id, s.registered);
    for (auto& w : waiters) {
        if (w.timer) w.timer->cancel();
        asio::post(s.node->io_context(), [h = std::move(w.handler)]() { h(std::nullopt); });
    }
}

} // namespace edist
