// Mailboxes: processes for plain threads, with blocking or asynchronous selective receive.
#include "node/deadline.hpp"
#include "node/node_impl.hpp"

#include <asio.hpp>

namespace edist {

using detail::Process;

Mailbox::State::~State() {
    if (process) process->finish(atoms::normal);
}

Pid Mailbox::pid() const noexcept { return state_->process->pid; }
Node& Mailbox::node() const noexcept { return state_->process->node; }
Self Mailbox::self() const noexcept { return Self(state_->process.get()); }

void Mailbox::send(const Pid& to, Term message) const { node().send(to, std::move(message), pid()); }
void Mailbox::send(Atom name, Atom node_name, Term message) const {
    node().send(name, node_name, std::move(message), pid());
}

std::optional<Term> Mailbox::receive(std::chrono::milliseconds timeout) { return receive(nullptr, timeout); }

std::optional<Term> Mailbox::receive(const std::function<bool(const Term&)>& match, std::chrono::milliseconds timeout) {
    const auto deadline = detail::deadline_after(timeout);
    Process& p = *state_->process;
    std::condition_variable cv;
    std::unique_lock lock(p.mutex);
    std::size_t skip = 0; // messages already refused by `match` are not looked at again
    for (;;) {
        if (auto t = p.take(match, skip)) return t;
        skip = p.queued();
        if (p.exited) return std::nullopt;
        p.thread_waiter = &cv;
        const bool timed_out = detail::wait_until(cv, lock, deadline);
        p.thread_waiter = nullptr;
        if (timed_out) return p.take(match, skip); // a message may have come with the timeout
    }
}

void Mailbox::async_receive(std::function<void(std::optional<Term>)> handler, std::chrono::milliseconds timeout,
                            std::function<bool(const Term&)> match) {
    auto p = state_->process;
    asio::io_context& io = p->node.io_context();
    std::unique_lock lock(p->mutex);
    if (auto t = p->take(match)) {
        lock.unlock();
        asio::post(io, [h = std::move(handler), t = std::move(*t)]() mutable { h(std::move(t)); });
        return;
    }
    if (p->exited) {
        lock.unlock();
        asio::post(io, [h = std::move(handler)] { h(std::nullopt); });
        return;
    }
    std::uint64_t id = ++p->wait_seq;
    std::shared_ptr<asio::steady_timer> timer;
    if (timeout != infinity) {
        timer = std::make_shared<asio::steady_timer>(io, detail::deadline_after(timeout));
        timer->async_wait([p, id](const std::error_code& ec) {
            if (ec) return;
            std::unique_lock l(p->mutex);
            for (auto it = p->async_waiters.begin(); it != p->async_waiters.end(); ++it) {
                if (it->id != id) continue;
                auto h = std::move(it->handler);
                p->async_waiters.erase(it);
                l.unlock();
                h(std::nullopt);
                return;
            }
        });
    }
    p->async_waiters.push_back({id, std::move(match), std::move(handler), std::move(timer)});
}

std::size_t Mailbox::queued() const {
    std::lock_guard lock(state_->process->mutex);
    return state_->process->queued();
}

std::optional<Term> Mailbox::exit_reason() const {
    std::lock_guard lock(state_->process->mutex);
    if (!state_->process->exited) return std::nullopt;
    return state_->process->exit_reason;
}

void Mailbox::monitor_nodes(bool on) { node().impl().set_node_monitor(state_->process, on); }

void Mailbox::close() { state_->process->finish(atoms::normal); }

} // namespace edist
