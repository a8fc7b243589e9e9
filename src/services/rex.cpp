// rex, the rpc server: gen_server calls {call | block_call, M, F, A, GL}, casts
// {cast, M, F, A, GL}, and the plain-message forms erl_interface clients (ei_rpc) send.
#include "services/system.hpp"

#include <edist/text.hpp>

#include <map>

namespace edist::services {

namespace {

// What rpc:call returns for each way the call can end (rpc's execute_call).
Term rpc_result(const CallOutcome& out) {
    if (out.ok) return out.value;
    switch (out.cls) {
    case ErlangClass::throw_: return out.value;
    case ErlangClass::exit: return tuple(atoms::badrpc, tuple(atom("EXIT"), out.value));
    case ErlangClass::error: return tuple(atoms::badrpc, tuple(atom("EXIT"), tuple(out.value, out.stacktrace)));
    }
    return out.value;
}

// {Tag, M, F, A, GroupLeader}. M, F and A are checked by apply, as OTP's rex leaves them to
// erlang:apply: a bad one is answered {badrpc, {'EXIT', {badarg, ...}}}, never dropped.
bool is_mfa_request(const Term& r, const char* tag) { return r.is_tuple(5) && r[0].is_atom(atom(tag)); }

using Answer = std::function<void(Self, Term)>;

// Calls whose worker has not answered yet, by the worker's monitor: if it dies first (killed by
// an exit signal), rex answers {badrpc, {'EXIT', Reason}} itself, as OTP's rex does, so the
// caller is never left waiting.
using Pending = std::map<Term, Answer>;

// Runs M:F(A) in a new process (so rex never blocks) and hands the result to `done`.
void run_call(Self self, const Term& request, Answer done, Pending* pending) {
    SpawnOptions opts;
    if (request[4].is_pid()) opts.group_leader = request[4].as_pid();
    opts.monitor = pending != nullptr;
    Term m = request[1], f = request[2], args = request[3];
    try {
        Spawned worker = self.spawn(
            [m, f, args, done](Self w) -> Task<> {
                CallOutcome out = co_await apply_export(w, m, f, args);
                done(w, rpc_result(out));
            },
            opts);
        if (pending && worker.monitor) pending->emplace(Term(*worker.monitor), std::move(done));
    } catch (const Error& e) {
        // No process to run it (system_limit): rex stays up and says so, as OTP's does.
        done(self, tuple(atoms::badrpc, tuple(atom("EXIT"), Term(e.reason()))));
    }
}

void worker_down(Self self, Pending& pending, const Term& down) {
    auto it = pending.find(down[1]);
    if (it == pending.end()) return;
    Answer answer = std::move(it->second);
    pending.erase(it);
    if (!down[4].is_atom(atoms::normal)) answer(self, tuple(atoms::badrpc, tuple(atom("EXIT"), down[4])));
}

Task<> rex(Self self) {
    Pending pending;
    for (;;) {
        Term msg = *co_await self.receive();
        if (msg.is_tuple(5) && msg[0].is_atom(atom("DOWN"))) {
            worker_down(self, pending, msg);
            continue;
        }
        if (msg.is_tuple(3) && msg[0].is_atom(atom("$gen_call"))) {
            Term from = msg[1];
            const Term& req = msg[2];
            if (is_mfa_request(req, "call") || is_mfa_request(req, "block_call")) {
                run_call(self, req, [from](Self w, Term reply) { gen_reply(w, from, std::move(reply)); }, &pending);
                continue;
            }
        } else if (msg.is_tuple(2) && msg[0].is_atom(atom("$gen_cast"))) {
            if (is_mfa_request(msg[1], "cast")) {
                run_call(self, msg[1], [](Self, Term) {}, nullptr);
                continue;
            }
        } else if (msg.is_tuple(2) && msg[0].is_pid()) {
            Pid from = msg[0].as_pid();
            const Term& req = msg[1];
            if (is_mfa_request(req, "call")) {
                // The form hidden C nodes send: the answer is {rex, Reply}.
                run_call(self, req, [from](Self w, Term reply) { w.send(from, tuple(atom("rex"), std::move(reply))); },
                         &pending);
                continue;
            }
            if (req.is_atom(atom("features_request"))) {
                self.send(from, tuple(atom("features_reply"), self.node().name(), list(atom("erpc"))));
                continue;
            }
            if ((req.is_tuple(3) && req[0].is_atom(atom("send"))) || (req.is_tuple(3) && req[0].is_atom(atom("sbcast")))) {
                bool sbcast = req[0].is_atom(atom("sbcast"));
                Atom name = req[1].is_atom() ? req[1].as_atom() : Atom();
                if (name == Atom() || !self.node().whereis(name)) {
                    self.send(from, tuple(atom("rex"), self.node().name(), tuple(atom("nonexisting_name"), req[1])));
                    continue;
                }
                self.node().send(name, sbcast ? req[2] : tuple(from, req[2])); // gone meanwhile: dropped
                if (sbcast) self.send(from, tuple(atom("rex"), self.node().name(), self.node().name()));
                continue;
            }
        }
        self.node().impl().log(LogLevel::info, "rex: ignoring " + to_string(msg));
    }
}

} // namespace

Result<bool> start_rex(Node& node) {
    auto pid = node.spawn(rex, {.register_name = "rex"});
    if (!pid) return pid.error();
    return true;
}

} // namespace edist::services
