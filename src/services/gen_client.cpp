// The client half of gen_server: call, cast and stop, with gen:call's protocol — monitor the
// server, send {'$gen_call', {Self, [alias|Alias]}, Request}, wait for {[alias|Alias], Reply}
// or the monitor's DOWN, then drop the alias so that a reply after a timeout is discarded.
#include "services/gen_internal.hpp"

#include <edist/gen_server.hpp>
#include <edist/node.hpp>
#include <edist/text.hpp>

#include <variant>

namespace edist::gen_server {

using detail::is_down_for;
using detail::is_tagged;

Term ServerRef::term() const {
    if (target.is_pid() || node == Atom()) return target;
    return tuple(target, node);
}

Term CallError::exit_reason() const {
    Term r = reason.is_atom(atoms::noconnection) ? tuple(atom("nodedown"), node) : reason;
    return location.is_nil() ? r : tuple(r, location);
}

std::string CallError::message() const { return "gen_server call failed: " + to_string(exit_reason()); }

const Term& CallResult::value() const {
    if (error_) throw ExitError(error_->exit_reason());
    return reply_;
}

const CallError& CallResult::error() const {
    if (!error_) throw Error(atoms::badarg, "the call succeeded; there is no error");
    return *error_;
}

namespace {

Term timeout_term(std::chrono::milliseconds t) {
    return t == infinity ? Term(atoms::infinity) : Term(static_cast<std::int64_t>(t.count()));
}

// A call in flight.
struct Pending {
    Ref mref;
    Ref alias;
    Term mref_t;
    Term tag; // [alias|Alias]
    Atom node;
    Term location;

    bool is_reply(const Term& t) const { return t.is_tuple(2) && t[0] == tag; }
    bool matches(const Term& t) const { return is_reply(t) || is_down_for(t, mref_t); }
};

Atom node_of(Self self, const ServerRef& s) {
    if (s.target.is_pid()) return s.target.as_pid().node;
    return s.node == Atom() ? self.node().name() : s.node;
}

void send_to(Self self, const ServerRef& s, Term message) {
    if (s.target.is_pid())
        self.send(s.target.as_pid(), std::move(message));
    else
        self.send(s.target.as_atom(), node_of(self, s), std::move(message));
}

// Monitors the server and sends the request; or the error the call ends with at once.
std::variant<Pending, CallError> begin(Self self, const ServerRef& s, Atom label, const Term& request, Term location) {
    Atom node = node_of(self, s);
    if (node == self.node().name() &&
        (s.target.is_pid() ? s.target.as_pid() == self.pid() : self.node().whereis(s.target.as_atom()) == self.pid()))
        return CallError{atom("calling_self"), node, location};
    Pending p;
    p.mref = s.target.is_pid() ? self.monitor(s.target.as_pid()) : self.monitor(s.target.as_atom(), node);
    p.mref_t = p.mref;
    p.alias = self.make_alias();
    p.tag = list_from({atom("alias")}, p.alias);
    p.node = node;
    p.location = std::move(location);
    send_to(self, s, tuple(label, tuple(self.pid(), p.tag), request));
    return p;
}

// The call's result from the message that ended the wait (a reply or the DOWN).
CallResult end(Self self, Pending& p, const Term& msg) {
    self.unalias(p.alias);
    if (p.is_reply(msg)) {
        self.demonitor(p.mref, true);
        return CallResult(msg[1]);
    }
    return CallError{msg[4], p.node, p.location};
}

// After a timeout: no reply can arrive through the alias any more; one may already be queued.
void cancel(Self self, Pending& p) {
    self.unalias(p.alias);
    self.demonitor(p.mref, true);
}

Term call_location(const ServerRef& s, const Term& request, std::chrono::milliseconds timeout) {
    return tuple(atom("gen_server"), atom("call"), list(s.term(), request, timeout_term(timeout)));
}

} // namespace

Task<CallResult> call(Self self, ServerRef server, Term request, std::chrono::milliseconds timeout) {
    auto started = begin(self, server, atom("$gen_call"), request, call_location(server, request, timeout));
    if (auto* e = std::get_if<CallError>(&started)) co_return *e;
    Pending& p = std::get<Pending>(started);
    auto msg = co_await self.receive([&](const Term& t) { return p.matches(t); }, timeout);
    if (msg) co_return end(self, p, *msg);
    cancel(self, p);
    auto late = co_await self.receive([&](const Term& t) { return p.is_reply(t); }, std::chrono::milliseconds(0));
    if (late) co_return CallResult((*late)[1]);
    co_return CallError{atoms::timeout, p.node, p.location};
}

CallResult call(Mailbox& box, ServerRef server, Term request, std::chrono::milliseconds timeout) {
    Self self = box.self();
    auto started = begin(self, server, atom("$gen_call"), request, call_location(server, request, timeout));
    if (auto* e = std::get_if<CallError>(&started)) return *e;
    Pending& p = std::get<Pending>(started);
    auto msg = box.receive([&](const Term& t) { return p.matches(t); }, timeout);
    if (msg) return end(self, p, *msg);
    cancel(self, p);
    if (auto late = box.receive([&](const Term& t) { return p.is_reply(t); }, std::chrono::milliseconds(0)))
        return CallResult((*late)[1]);
    return CallError{atoms::timeout, p.node, p.location};
}

CallResult call(Node& node, ServerRef server, Term request, std::chrono::milliseconds timeout) {
    return detail::run_blocking<CallResult>(node, [=](Self self) { return call(self, server, request, timeout); });
}

void cast(Self self, ServerRef server, Term message) {
    send_to(self, server, tuple(atom("$gen_cast"), std::move(message)));
}

void cast(Node& node, ServerRef server, Term message) {
    Term m = tuple(atom("$gen_cast"), std::move(message));
    if (server.target.is_pid())
        node.send(server.target.as_pid(), std::move(m));
    else if (server.node == Atom() || server.node == node.name())
        node.send(server.target.as_atom(), std::move(m));
    else
        node.send(server.target.as_atom(), server.node, std::move(m));
}

Task<CallResult> stop(Self self, ServerRef server, Term reason, std::chrono::milliseconds timeout) {
    Term location = tuple(atom("gen_server"), atom("stop"), list(server.term(), reason, timeout_term(timeout)));
    auto started = begin(self, server, atom("system"), tuple(atom("terminate"), reason), location);
    if (auto* e = std::get_if<CallError>(&started)) co_return *e;
    Pending& p = std::get<Pending>(started);
    // The server answers ok, then exits: what counts is the reason it exits with.
    auto down = co_await self.receive([&](const Term& t) { return is_down_for(t, p.mref_t); }, timeout);
    cancel(self, p);
    (void)co_await self.receive([&](const Term& t) { return p.is_reply(t); }, std::chrono::milliseconds(0));
    if (!down) co_return CallError{atoms::timeout, p.node, p.location};
    const Term& why = (*down)[4];
    if (why == reason) co_return CallResult(atoms::ok);
    co_return CallError{why, p.node, p.location};
}

CallResult stop(Node& node, ServerRef server, Term reason, std::chrono::milliseconds timeout) {
    return detail::run_blocking<CallResult>(node, [=](Self self) { return stop(self, server, reason, timeout); });
}

} // namespace edist::gen_server
