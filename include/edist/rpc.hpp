// Calling functions on other nodes, with OTP's semantics.
//
// erpc: the result, or how the call failed, as erpc reports it: the function's own exception
// (class throw / exit / error with its stack), or error:{erpc, Reason} for the transport
// (timeout, noconnection, notsup, badarg).
//
// rpc: rpc:call's answer as a term: the result, or {badrpc, Reason}. erpc is used when the
// peer offers it (DFLAG_SPAWN); otherwise the peer's rex server, as rpc does with old nodes.
//
// Each call has a coroutine form (from a process: co_await) and a blocking form (from any
// thread). The call runs in the calling process, or in a temporary one for blocking calls.
#pragma once

#include <edist/exports.hpp>
#include <edist/process.hpp>
#include <edist/term.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace edist {

class Node;

struct CallOptions {
    std::chrono::milliseconds timeout = infinity;
    // Where the remote function's output goes (its group leader); default: the caller's.
    std::optional<Pid> group_leader;
};

namespace erpc {
Task<CallOutcome> call(Self self, Atom node, Atom module, Atom function, Term args, CallOptions opts = {});
CallOutcome call(Node& local, Atom node, Atom module, Atom function, Term args, CallOptions opts = {});
// erpc:cast: fire and forget.
void cast(Node& local, Atom node, Atom module, Atom function, Term args);
// erpc:multicall: one outcome per node, in order; the calls run concurrently, each in a process
// of its own on the node's threads.
Task<std::vector<CallOutcome>> multicall(Self self, std::vector<Atom> nodes, Atom module, Atom function, Term args,
                                         CallOptions opts = {});
std::vector<CallOutcome> multicall(Node& local, const std::vector<Atom>& nodes, Atom module, Atom function,
                                   Term args, CallOptions opts = {});
} // namespace erpc

namespace rpc {
Task<Term> call(Self self, Atom node, Atom module, Atom function, Term args, CallOptions opts = {});
Term call(Node& local, Atom node, Atom module, Atom function, Term args, CallOptions opts = {});
void cast(Node& local, Atom node, Atom module, Atom function, Term args);
// rpc:multicall: {Results, BadNodes}, Results in the order of `nodes` without the bad ones.
Task<Term> multicall(Self self, std::vector<Atom> nodes, Atom module, Atom function, Term args, CallOptions opts = {});
Term multicall(Node& local, const std::vector<Atom>& nodes, Atom module, Atom function, Term args,
               CallOptions opts = {});
// The {badrpc, Reason} or value rpc:call gives for an erpc outcome.
Term rpcify(const CallOutcome& out);
} // namespace rpc

} // namespace edist
