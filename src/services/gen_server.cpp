// The server half of gen_server: starting a Server as a process, and the loop that turns
// '$gen_call' / '$gen_cast' / system messages / everything else into callbacks.
#include "services/gen_internal.hpp"
#include "services/system.hpp"

#include <edist/exports.hpp>
#include <edist/gen_server.hpp>
#include <edist/node.hpp>
#include <edist/text.hpp>


namespace edist::gen_server {

struct ServerAccess {
    static void bind(Server& s, Self self) { s.self_ = self; }
};

Task<Next> Server::handle_call(Term request, From) { co_return stop(tuple(atom("bad_call"), request)); }
Task<Next> Server::handle_cast(Term message) { co_return stop(tuple(atom("bad_cast"), message)); }
Task<Next> Server::handle_info(Term) { co_return noreply(); }
void Server::reply(const From& from, Term r) const { gen_server::reply(self(), from, std::move(r)); }

void reply(Self self, const From& from, Term r) { services::gen_reply(self, from.term(), std::move(r)); }

const Pid& StartResult::pid() const {
    if (!pid_) throw Error(atoms::badarg, "gen_server start did not return a pid: " + to_string(term()));
    return *pid_;
}

Term StartResult::term() const {
    if (pid_) return tuple(atoms::ok, *pid_);
    if (ignored_) return atom("ignore");
    return tuple(atoms::error, reason_);
}

namespace detail {

Term exception_reason(std::exception_ptr e) { return exit_reason_of(e); }

bool is_tagged(const Term& t, std::string_view tag, std::size_t arity) {
    return t.is_tuple(arity) && t[0].is_atom(atom(tag));
}

bool is_down_for(const Term& t, const Term& ref) { return is_tagged(t, "DOWN", 5) && t[1] == ref; }

} // namespace detail

namespace {

using detail::exception_reason;
using detail::is_tagged;

bool normal_exit(const Term& r) {
    return r.is_atom(atoms::normal) || r.is_atom(atom("shutdown")) || (is_tagged(r, "shutdown", 2));
}

bool is_system(const Term& t) { return is_tagged(t, "system", 3); }

// What one server process knows besides the Server object.
struct Loop {
    Self self;
    Server& server;
    Pid parent;
    bool suspended = false;
    std::chrono::milliseconds timeout = infinity;
};

// The gen_server status list sys:get_status shows (its shape is what sys and observer read).
Term status_of(const Loop& l) {
    Term header = string("Status for generic server " + to_string(Term(l.self.pid())));
    Term sys_state = atom(l.suspended ? "suspended" : "running");
    Term misc = list(tuple(atom("header"), header),
                     tuple(atom("data"), list(tuple(string("Status"), sys_state), tuple(string("Parent"), l.parent),
                                              tuple(string("Logged events"), Term()))),
                     tuple(atom("data"), list(tuple(string("State"), l.server.state()))));
    return tuple(atom("status"), l.self.pid(), tuple(atom("module"), atom("gen_server")),
                 list(Term(), sys_state, l.parent, Term(), misc));
}

// Runs terminate(Reason) and answers a pending stop-with-reply; returns the reason the process
// must exit with (terminate's own crash wins). Never throws, so callers exit outside any try.
Task<Term> finish(Loop& l, Term reason, std::optional<std::pair<From, Term>> last_reply = std::nullopt) {
    std::optional<Term> crashed;
    try {
        co_await l.server.terminate(reason);
    } catch (const std::exception&) {
        crashed = exception_reason(std::current_exception());
    }
    if (crashed) reason = *crashed;
    if (last_reply) reply(l.self, last_reply->first, std::move(last_reply->second));
    if (!normal_exit(reason))
        l.self.node().impl().log(LogLevel::error, "gen_server " + to_string(Term(l.self.pid())) +
                                                      " terminating, reason: " + to_string(reason));
    co_return reason;
}

// A system message; returns the reason to terminate with for sys:terminate.
std::optional<Term> handle_system(Loop& l, const Term& msg) {
    const Term& from = msg[1];
    const Term& req = msg[2];
    Term answer;
    std::optional<Term> terminate_with;
    if (req.is_atom(atom("get_state"))) {
        answer = l.server.state();
    } else if (req.is_atom(atom("get_status"))) {
        answer = status_of(l);
    } else if (req.is_atom(atom("suspend"))) {
        l.suspended = true;
        answer = atoms::ok;
    } else if (req.is_atom(atom("resume"))) {
        l.suspended = false;
        answer = atoms::ok;
    } else if (is_tagged(req, "terminate", 2)) {
        answer = atoms::ok;
        terminate_with = req[1];
    } else {
        // replace_state needs an Erlang fun run on the server's state, which a C++ server
        // cannot; debug options are not kept.
        answer = tuple(atoms::error, tuple(atom("unknown_system_msg"), req));
    }
    services::gen_reply(l.self, from, std::move(answer));
    return terminate_with;
}

Task<> serve(Self self, std::unique_ptr<Server> server, Pid parent, Pid starter, Term ack_tag, bool linked) {
    ServerAccess::bind(*server, self);
    Loop l{self, *server, parent};
    auto ack = [&](Term result) { self.send(starter, tuple(atom("$gen_ack"), ack_tag, std::move(result))); };

    Init init;
    std::optional<Term> init_crash;
    try {
        init = co_await server->init();
    } catch (const std::exception&) {
        init_crash = exception_reason(std::current_exception());
    }
    if (init_crash) init = Init::stop(*init_crash);
    if (init.kind != Init::Kind::ok) {
        // The starter learns why from the ack; unlinking first spares it an exit signal too.
        if (linked) self.unlink(parent);
        self.unregister(); // as gen does: the name is free before the starter hears of the failure
        bool ignored = init.kind == Init::Kind::ignore;
        ack(ignored ? Term(atom("ignore")) : tuple(atoms::error, init.reason));
        self.exit(ignored ? Term(atoms::normal) : init.reason);
    }
    ack(tuple(atoms::ok, self.pid()));
    l.timeout = init.timeout;

    const Term parent_t(parent);
    for (;;) {
        std::optional<Term> msg;
        if (l.suspended)
            msg = co_await self.receive([&](const Term& t) {
                return is_system(t) || (is_tagged(t, "EXIT", 3) && t[1] == parent_t);
            });
        else
            msg = co_await self.receive(l.timeout);

        Next next;
        std::optional<From> from;
        std::optional<Term> stop_reason; // terminate without a callback's verdict
        std::optional<Term> crashed;
        try {
            if (!msg) {
                next = co_await server->handle_info(atoms::timeout);
            } else if (is_tagged(*msg, "$gen_call", 3) && (*msg)[1].is_tuple(2) && (*msg)[1][0].is_pid()) {
                from = From{(*msg)[1][0].as_pid(), (*msg)[1][1]};
                next = co_await server->handle_call((*msg)[2], *from);
            } else if (is_tagged(*msg, "$gen_cast", 2)) {
                next = co_await server->handle_cast((*msg)[1]);
            } else if (is_system(*msg)) {
                stop_reason = handle_system(l, *msg);
                if (!stop_reason) continue;
            } else if (is_tagged(*msg, "EXIT", 3) && (*msg)[1] == parent_t && self.trap_exit()) {
                // The parent is gone: a gen_server that traps exits terminates with its reason.
                stop_reason = (*msg)[2];
            } else {
                next = co_await server->handle_info(*msg);
            }
        } catch (const std::exception&) {
            crashed = exception_reason(std::current_exception());
        }
        if (crashed) stop_reason = crashed;
        if (stop_reason) self.exit(co_await finish(l, *stop_reason));

        switch (next.kind) {
        case Next::Kind::reply:
            if (!from) self.exit(co_await finish(l, tuple(atom("bad_return_value"), tuple(atom("reply"), next.reply))));
            reply(self, *from, next.reply);
            break;
        case Next::Kind::noreply: break;
        case Next::Kind::stop:
            if (next.has_reply && from) self.exit(co_await finish(l, next.reason, std::pair{*from, next.reply}));
            self.exit(co_await finish(l, next.reason));
        }
        l.timeout = next.timeout;
    }
}

Task<StartResult> do_start(Self self, std::unique_ptr<Server> server, StartOptions opts, bool link) {
    Term tag(self.make_ref());
    auto holder = std::make_shared<std::unique_ptr<Server>>(std::move(server));
    const Pid starter = self.pid();
    SpawnOptions so;
    so.link = link;
    so.monitor = true;
    so.register_name = opts.name;
    Spawned child;
    try {
        child = self.spawn(
            [holder, starter, tag, link](Self s) -> Task<> {
                // Without a link the server is its own parent, as gen_server:start makes it.
                return serve(s, std::move(*holder), link ? starter : s.pid(), starter, tag, link);
            },
            so);
    } catch (const Error& e) {
        if (!opts.name.empty()) {
            if (auto holder_pid = self.node().whereis(atom(opts.name)))
                co_return StartResult::error(tuple(atom("already_started"), *holder_pid));
        }
        co_return StartResult::error(e.reason());
    }
    const Term child_t(child.pid);
    const Term mref(*child.monitor);
    auto answer = co_await self.receive(
        [&](const Term& t) {
            return (is_tagged(t, "$gen_ack", 3) && t[1] == tag) || detail::is_down_for(t, mref) ||
                   (link && is_tagged(t, "EXIT", 3) && t[1] == child_t);
        },
        opts.timeout);
    self.demonitor(*child.monitor, true);
    if (!answer) {
        // init took too long: the server is killed, as proc_lib does.
        if (link) self.unlink(child.pid);
        self.exit(child.pid, atoms::kill);
        co_return StartResult::error(atoms::timeout);
    }
    if (!is_tagged(*answer, "$gen_ack", 3)) co_return StartResult::error((*answer)[answer->tuple_size() - 1]);
    const Term& result = (*answer)[2];
    if (result.is_atom(atom("ignore"))) co_return StartResult::ignore();
    if (is_tagged(result, "ok", 2)) co_return StartResult::started(result[1].as_pid());
    co_return StartResult::error(result[1]);
}

} // namespace

Task<StartResult> start_link(Self self, std::unique_ptr<Server> server, StartOptions opts) {
    return do_start(self, std::move(server), opts, true);
}

Task<StartResult> start(Self self, std::unique_ptr<Server> server, StartOptions opts) {
    return do_start(self, std::move(server), opts, false);
}

StartResult start(Node& node, std::unique_ptr<Server> server, StartOptions opts) {
    std::string name(opts.name); // the caller's view may not outlive this call's process
    auto holder = std::make_shared<std::unique_ptr<Server>>(std::move(server));
    return detail::run_blocking<StartResult>(node, [holder, opts, name](Self self) mutable -> Task<StartResult> {
        opts.name = name;
        co_return co_await do_start(self, std::move(*holder), opts, false);
    });
}

} // namespace edist::gen_server
