// Fixtures for tests/interop/process_interop_test.cpp: processes on both sides of a connection
// that the test drives with the same command protocol, so that every link, monitor, exit and
// alias can be set up from either side and every outcome is seen where it happens.
//
//   {'$cmd', ReplyTo, Tag, Cmd}  ->  ReplyTo ! {done, Tag, Result}
//
// A *puppet* is a C++ process (spawn_puppet, or proc_peer:puppet/1 spawned from erl); an
// *agent* is an erl process running proc_peer:agent/1 (the module below). Both forward every
// other message they receive (EXIT and DOWN messages included) to their observer as
// {got, Self, Msg}, so a BEAM-side 'DOWN' reaches the test as it was on the BEAM side.
//
// Commands: {link, P} {unlink, P} {monitor, P} {monitor, Name, Node} {demonitor, Ref, Flush}
// {trap_exit, Bool} {exit, P, Reason} {die, Reason} (no reply) {send, To, Msg} (To: pid, alias
// or {Name, Node}) alias {unalias, A} ping (-> pong) hold / release (stop / resume forwarding)
// drain (-> the messages held, oldest first). Puppets also take {spawn_request, Node, M, F,
// Args, Opts} (-> {ok, Pid, MonitorRef | undefined} | {error, Reason}); agents take links,
// monitored_by and {register, Name}.
#pragma once

#include "interop/node_support.hpp"

#include <edist/exports.hpp>
#include <edist/node.hpp>
#include <edist/process.hpp>
#include <edist/text.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace edist::test {

using namespace std::chrono_literals;

// The erl side. factory/0 (registered as `factory`) starts agents for whoever asks; crash/2
// fails like the C++ export of the same name, so the two exit reasons can be compared.
constexpr const char* proc_peer_erl = R"(-module(proc_peer).
-export([factory/0, agent/1, crash/2]).

factory() ->
    receive
        {'$cmd', ReplyTo, Tag, {agent, Report}} -> ReplyTo ! {done, Tag, spawn(?MODULE, agent, [Report])}
    end,
    factory().

agent(Report) -> agent(Report, false).
agent(Report, Holding) ->
    receive
        {'$cmd', ReplyTo, _Tag, {die, Reason}} when is_pid(ReplyTo) ->
            exit(Reason);
        {'$cmd', ReplyTo, Tag, hold} ->
            ReplyTo ! {done, Tag, ok},
            agent(Report, true);
        {'$cmd', ReplyTo, Tag, release} ->
            ReplyTo ! {done, Tag, ok},
            agent(Report, false);
        {'$cmd', ReplyTo, Tag, drain} ->
            ReplyTo ! {done, Tag, drain([])},
            agent(Report, Holding);
        {'$cmd', ReplyTo, Tag, Cmd} ->
            ReplyTo ! {done, Tag, run(Cmd)},
            agent(Report, Holding);
        Other when not Holding ->
            Report ! {got, self(), Other},
            agent(Report, Holding)
    end.

drain(Acc) ->
    receive
        Msg when element(1, Msg) =/= '$cmd' -> drain([Msg | Acc])
    after 0 -> lists:reverse(Acc)
    end.

run({link, P}) -> link(P), ok;
run({unlink, P}) -> unlink(P), ok;
run({monitor, P}) -> monitor(process, P);
run({monitor, Name, Node}) -> monitor(process, {Name, Node});
run({demonitor, Ref, true}) -> demonitor(Ref, [flush]);
run({demonitor, Ref, false}) -> demonitor(Ref);
run({trap_exit, On}) -> process_flag(trap_exit, On), ok;
run({exit, P, Reason}) -> exit(P, Reason), ok;
run({send, To, Msg}) -> To ! Msg, ok;
run(alias) -> alias();
run({unalias, A}) -> unalias(A);
run(ping) -> pong;
run({register, Name}) -> register(Name, self());
run(links) -> {links, L} = process_info(self(), links), lists:sort(L);
run(monitored_by) -> {monitored_by, L} = process_info(self(), monitored_by), lists:sort(L);
run(Other) -> {unknown_command, Other}.

crash(error, R) -> erlang:error(R);
crash(exit, R) -> exit(R);
crash(throw, R) -> throw(R).
)";

inline bool is_cmd(const Term& t) { return t.is_tuple(4) && t[0].is_atom(atom("$cmd")) && t[1].is_pid(); }
inline bool is_op(const Term& c, std::string_view op, std::size_t arity) {
    return arity == 0 ? c.is_atom(atom(op)) : c.is_tuple(arity) && c[0].is_atom(atom(op));
}

// The C++ puppet: the command protocol above, run by a coroutine process.
inline Task<> puppet_body(Self self, Pid observer) {
    bool holding = false;
    for (;;) {
        // Not `holding ? co_await a : co_await b`: GCC 12 destroys the result of a co_await
        // in a ?: operand twice (a double free; see docs/PROCESSES.md).
        std::optional<Term> msg;
        if (holding)
            msg = co_await self.receive(is_cmd);
        else
            msg = co_await self.receive();
        if (!is_cmd(*msg)) {
            self.send(observer, tuple(atom("got"), self.pid(), *msg));
            continue;
        }
        const Pid reply_to = (*msg)[1].as_pid();
        const Term tag = (*msg)[2];
        const Term c = (*msg)[3];
        Term result = atom("ok");
        if (is_op(c, "link", 2)) {
            self.link(c[1].as_pid());
        } else if (is_op(c, "unlink", 2)) {
            self.unlink(c[1].as_pid());
        } else if (is_op(c, "monitor", 2)) {
            result = self.monitor(c[1].as_pid());
        } else if (is_op(c, "monitor", 3)) {
            result = self.monitor(c[1].as_atom(), c[2].as_atom());
        } else if (is_op(c, "demonitor", 3)) {
            result = Term(self.demonitor(c[1].as_ref(), c[2].as_bool()));
        } else if (is_op(c, "trap_exit", 2)) {
            self.trap_exit(c[1].as_bool());
        } else if (is_op(c, "exit", 3)) {
            self.exit(c[1].as_pid(), c[2]);
        } else if (is_op(c, "die", 2)) {
            self.exit(c[1]);
        } else if (is_op(c, "send", 3)) {
            const Term& to = c[1];
            if (to.is_pid()) self.send(to.as_pid(), c[2]);
            else if (to.is_ref()) self.send(to.as_ref(), c[2]);
            else self.send(to[0].as_atom(), to[1].as_atom(), c[2]);
        } else if (is_op(c, "alias", 0)) {
            result = self.make_alias();
        } else if (is_op(c, "unalias", 2)) {
            result = Term(self.unalias(c[1].as_ref()));
        } else if (is_op(c, "ping", 0)) {
            result = atom("pong");
        } else if (is_op(c, "hold", 0)) {
            holding = true;
        } else if (is_op(c, "release", 0)) {
            holding = false;
        } else if (is_op(c, "drain", 0)) {
            std::vector<Term> held;
            for (;;) {
                auto m = co_await self.receive([](const Term& t) { return !is_cmd(t); }, 0ms);
                if (!m) break;
                held.push_back(std::move(*m));
            }
            result = list_from(std::move(held));
        } else if (is_op(c, "spawn_request", 6)) {
            SpawnOptions opts;
            for (const Term& o : c[5].as_list()) {
                if (o.is_atom(atom("link"))) opts.link = true;
                if (o.is_atom(atom("monitor"))) opts.monitor = true;
            }
            auto r = co_await self.spawn_request(c[1].as_atom(), c[2].as_atom(), c[3].as_atom(), c[4], opts);
            if (r)
                result = tuple(atom("ok"), r->pid, r->monitor ? Term(*r->monitor) : Term(atoms::undefined));
            else
                result = tuple(atom("error"), r.error().reason());
        } else {
            result = tuple(atom("unknown_command"), c);
        }
        self.send(reply_to, tuple(atom("done"), tag, result));
    }
}

inline Pid spawn_puppet(Node& node, const Pid& observer, SpawnOptions opts = {}) {
    return node.spawn([observer](Self self) -> Task<> { return puppet_body(self, observer); }, opts).value();
}

// The C++ functions erl and Elixir spawn: proc_peer:puppet/1 (the puppet, observer given) and
// proc_peer:crash/2, which fails as the erl function of the same name does.
inline void export_proc_peer(Node& node) {
    node.export_function("proc_peer", "puppet", 1, [](Self self, Args args) -> Task<Term> {
        co_await puppet_body(self, args[0].as_pid());
        co_return atom("ok");
    });
    node.export_function("proc_peer", "crash", 2, [](Self, Args args) -> Task<Term> {
        const Term& cls = args[0];
        if (cls.is_atom(atom("error"))) raise_error(args[1]);
        if (cls.is_atom(atom("exit"))) raise_exit(args[1]);
        if (cls.is_atom(atom("throw"))) raise_throw(args[1]);
        co_return atom("no_crash");
    });
}

// The test's own process: a mailbox (registered as `observer`) that sends commands, receives
// what puppets and agents forward, and holds monitors of its own.
class Observer {
public:
    explicit Observer(Node& node) : box_(node.make_mailbox("observer").value()) {}

    Mailbox& box() { return box_; }
    Pid pid() const { return box_.pid(); }
    Self self() const { return box_.self(); }

    // Runs `cmd` in `target` (a puppet or an agent) and returns its result, or the atom
    // no_answer after `timeout` (also when the target died).
    Term cmd(const Pid& target, Term cmd, std::chrono::milliseconds timeout = 20s) {
        const Term tag(box_.self().make_ref());
        box_.send(target, tuple(atom("$cmd"), box_.pid(), tag, std::move(cmd)));
        return answer(tag, timeout);
    }
    Term cmd(Atom name, Atom node, Term cmd, std::chrono::milliseconds timeout = 20s) {
        const Term tag(box_.self().make_ref());
        box_.send(name, node, tuple(atom("$cmd"), box_.pid(), tag, std::move(cmd)));
        return answer(tag, timeout);
    }
    // Sends a command without waiting for it (die never answers); returns the tag for answer().
    Term ask(const Pid& target, Term cmd) {
        const Term tag(box_.self().make_ref());
        box_.send(target, tuple(atom("$cmd"), box_.pid(), tag, std::move(cmd)));
        return tag;
    }
    void tell(const Pid& target, Term cmd) { ask(target, std::move(cmd)); }
    // The result of an ask(), or the atom no_answer after `timeout`.
    Term answer(const Term& tag, std::chrono::milliseconds timeout = 20s) {
        auto m = box_.receive([&](const Term& t) { return t.is_tuple(3) && t[0].is_atom(atom("done")) && t[1] == tag; },
                              timeout);
        return m ? (*m)[2] : Term(atom("no_answer"));
    }
    // `from` pings `to` and `to` answers here: whatever `from` sent `to` before (messages, link,
    // unlink, monitor, exit signals) has been handled by `to`, as signals between two
    // processes keep their order on both runtimes.
    bool sync(const Pid& from, const Pid& to, std::chrono::milliseconds timeout = 20s) {
        const Term tag(box_.self().make_ref());
        if (cmd(from, tuple(atom("send"), to, tuple(atom("$cmd"), box_.pid(), tag, atom("ping")))) != Term(atom("ok")))
            return false;
        return answer(tag, timeout) == Term(atom("pong"));
    }

    // The next message `from` forwarded (that `match` accepts, when given).
    std::optional<Term> got(const Pid& from, std::chrono::milliseconds timeout = 20s) {
        return got(from, nullptr, timeout);
    }
    std::optional<Term> got(const Pid& from, const Match& match, std::chrono::milliseconds timeout = 20s) {
        const Term f(from);
        auto m = box_.receive(
            [&](const Term& t) { return t.is_tuple(3) && t[0].is_atom(atom("got")) && t[1] == f && (!match || match(t[2])); },
            timeout);
        if (!m) return std::nullopt;
        return (*m)[2];
    }
    // A 'DOWN' for one of the observer's own monitors.
    std::optional<Term> down(const Ref& ref, std::chrono::milliseconds timeout = 20s) {
        const Term r(ref);
        return box_.receive([&](const Term& t) { return t.is_tuple(5) && t[0].is_atom(atom("DOWN")) && t[1] == r; },
                            timeout);
    }
    // The reason of a 'DOWN' for `ref`, or the atom no_down.
    Term down_reason(const Ref& ref, std::chrono::milliseconds timeout = 20s) {
        auto d = down(ref, timeout);
        return d ? (*d)[4] : Term(atom("no_down"));
    }
    // Every message queued now that nobody waited for, oldest first.
    std::vector<Term> leftovers() {
        std::vector<Term> out;
        while (auto m = box_.receive(0ms)) out.push_back(*m);
        return out;
    }

private:
    Mailbox box_;
};

// {'EXIT', From, Reason} and {'DOWN', Ref, process, Item, Reason}, as terms to compare with.
inline Term exit_msg(const Pid& from, Term reason) { return tuple(atom("EXIT"), from, std::move(reason)); }
inline Term down_msg(const Term& ref, Term item, Term reason) {
    return tuple(atom("DOWN"), ref, atom("process"), std::move(item), std::move(reason));
}
inline bool is_exit_msg(const Term& t) { return t.is_tuple(3) && t[0].is_atom(atom("EXIT")); }
inline bool is_down_msg(const Term& t) { return t.is_tuple(5) && t[0].is_atom(atom("DOWN")); }

} // namespace edist::test
