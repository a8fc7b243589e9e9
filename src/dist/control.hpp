// Control messages of a connected distribution channel, as typed signals.
//
// The wire carries a control tuple {Op, ...} and, for some operations, a payload term. parse()
// turns that pair into one Signal after the receiver-side checks OTP applies (a sender pid must
// belong to the peer node, ids must have the right kinds); encode() does the reverse. Trace
// tokens of the *_TT forms are accepted and dropped: edist does not take part in seq_trace.
#pragma once

#include <edist/etf.hpp>
#include <edist/term.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

namespace edist::etf {
class AtomCacheOut;
}

namespace edist::dist {

enum class Op : std::uint8_t {
    link = 1,
    send = 2,
    exit = 3,
    unlink = 4, // obsolete; OTP 26+ kill the connection on it
    node_link = 5,
    reg_send = 6,
    group_leader = 7,
    exit2 = 8,
    send_tt = 12,
    exit_tt = 13,
    reg_send_tt = 16,
    exit2_tt = 18,
    monitor_p = 19,
    demonitor_p = 20,
    monitor_p_exit = 21,
    send_sender = 22,
    send_sender_tt = 23,
    payload_exit = 24,
    payload_exit_tt = 25,
    payload_exit2 = 26,
    payload_exit2_tt = 27,
    payload_monitor_p_exit = 28,
    spawn_request = 29,
    spawn_request_tt = 30,
    spawn_reply = 31,
    spawn_reply_tt = 32,
    alias_send = 33,
    alias_send_tt = 34,
    unlink_id = 35,
    unlink_id_ack = 36,
};

// A message to a pid (SEND, SEND_SENDER). `from` is absent for plain SEND.
struct SendSignal {
    std::optional<Pid> from;
    Pid to;
    Term message;
};
// A message to a registered name on the receiving node (REG_SEND).
struct RegSendSignal {
    Pid from;
    Atom to;
    Term message;
};
// A message to an alias (ALIAS_SEND).
struct AliasSendSignal {
    Pid from;
    Ref alias;
    Term message;
};
struct LinkSignal {
    Pid from;
    Pid to;
};
struct UnlinkIdSignal {
    std::uint64_t id;
    Pid from;
    Pid to;
};
struct UnlinkIdAckSignal {
    std::uint64_t id;
    Pid from;
    Pid to;
};
// An exit signal: through a link (EXIT, PAYLOAD_EXIT) or sent by exit/2 (EXIT2, PAYLOAD_EXIT2).
struct ExitSignal {
    Pid from;
    Pid to;
    Term reason;
    bool via_link; // true: EXIT (a link broke); false: EXIT2 (exit/2)
};
// MONITOR_P / DEMONITOR_P: `to` is a pid or a registered name on the receiving node.
struct MonitorSignal {
    Pid from;
    Term to; // Pid or atom
    Ref ref;
};
struct DemonitorSignal {
    Pid from;
    Term to;
    Ref ref;
};
// MONITOR_P_EXIT: the monitored process (`from`, a pid or a name) went down.
struct MonitorExitSignal {
    Term from; // Pid or atom
    Pid to;
    Ref ref;
    Term reason;
};
struct GroupLeaderSignal {
    Pid leader; // the new group leader
    Pid to;
};
struct SpawnRequestSignal {
    Ref req_id;
    Pid from;
    Pid group_leader;
    Atom module;
    Atom function;
    std::uint32_t arity;
    Term options; // a proper list
    Term args;    // a proper list of `arity` elements
};
struct SpawnReplySignal {
    Ref req_id;
    Pid to;
    std::uint32_t flags; // 1: link set up, 2: monitor set up
    Term result;         // the new pid, or an error atom
};

using Signal = std::variant<SendSignal, RegSendSignal, AliasSendSignal, LinkSignal, UnlinkIdSignal,
                            UnlinkIdAckSignal, ExitSignal, MonitorSignal, DemonitorSignal, MonitorExitSignal,
                            GroupLeaderSignal, SpawnRequestSignal, SpawnReplySignal>;

// Flags of the connection that decide how a signal is written.
struct SendOptions {
    bool send_sender = true;  // DFLAG_SEND_SENDER: SEND_SENDER instead of SEND
    bool exit_payload = true; // DFLAG_EXIT_PAYLOAD: PAYLOAD_EXIT* forms
};

// Checks and converts a received control tuple (and payload, when the operation has one).
// `peer` is the node at the other end: pids that claim to come from the sender must be its own.
// Errors carry reason badarg and say what was wrong; OTP kills the connection on them.
Result<Signal> parse(const Term& control, const std::optional<Term>& payload, Atom peer);

// The common operations (SEND, SEND_SENDER, REG_SEND, ALIAS_SEND, SPAWN_REQUEST, SPAWN_REPLY
// and PAYLOAD_MONITOR_P_EXIT) read straight from the control tuple's bytes at `offset`,
// without decoding the tuple into a Term, and checked as parse() checks them; `offset` then
// follows the tuple, and the payload, when the operation has one, goes into payload_field(),
// after which payload_fits() must hold (a spawn request's arguments match its arity). Anything
// else (another operation, a _TT form, an unexpected element, an error) gives std::nullopt
// and leaves `offset` unspecified: decode the tuple and parse() it, which reports what is wrong.
std::optional<Signal> read_common(std::span<const std::uint8_t> bytes, std::size_t& offset,
                                  const etf::DecodeOptions& opts, Atom peer);
// Where a signal from read_common takes its payload; nullptr when its operation has none.
Term* payload_field(Signal& s);
bool payload_fits(const Signal& s);

// The control tuple and payload for a signal, ready for the ETF encoder.
struct Encoded {
    Term control;
    std::optional<Term> payload;
};
Encoded encode(const Signal& s, const SendOptions& opts = {});
// Appends the control tuple encode() makes, without the version byte and without building it
// (its pids and refs are written from the signal's fields); returns the payload to write
// after it, or nullptr. The bytes are etf::encode_to's of encode(s, opts).control (with
// `atoms`, atoms go as references to that cache where it gives one).
const Term* encode_control_to(std::vector<std::uint8_t>& out, const Signal& s, const SendOptions& opts = {},
                              etf::AtomCacheOut* atoms = nullptr);

// About what `s` will take once encoded, without encoding it: a message's encoded size plus a
// few dozen bytes for the control tuple. For counting signals queued before a connection is up
// against its limits.
std::size_t estimated_size(const Signal& s);

} // namespace edist::dist
