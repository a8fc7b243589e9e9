// The distribution handshake as a sans-I/O state machine, both roles.
//
// Feed it the bytes read from the carrier and the current time; take the bytes it wants written
// and the events it raises. It never touches a socket or a clock, so every step can be driven
// from plain byte strings (tests, fuzzing) or from any transport (TCP, TLS, a test harness).
//
//   initiator (A)                       acceptor (B)
//   send_name           'N' ------->    recv_name
//                                       [AcceptPending: the connection manager answers]
//   recv_status         <------- 's'    send_status
//   [alive: IsPending]  's' true/false  recv_status_reply
//   recv_challenge      <------- 'N'    send_challenge
//                       ('c' only after an old 'n')  recv_complement
//   send_challenge_reply 'r' ------->   recv_challenge_reply
//                                       [alive: WaitPending until the old connection is gone]
//   recv_challenge_ack  <------- 'a'    send_challenge_ack
//
// Each step must finish within `setup_time` (OTP's net_setuptime) of the previous one;
// `deadline()` says when, `handle_timeout(now)` enforces it.
#pragma once

#include <edist/error.hpp>
#include <edist/flags.hpp>

#include "handshake/node_name.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace edist::handshake {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

// Length prefix of each handshake message: 2 bytes over plain TCP ({packet,2}); 4 bytes inside
// TLS distribution, which uses {packet,4} from the first byte.
enum class Framing { len16, len32 };

struct Config {
    // "name@host". An initiator asking to be named (ask_for_name) gives only its host.
    std::string this_node;
    // From epmd's ALIVE2 reply; never 0 for a named node (0 is sent only with NAME_ME).
    std::uint32_t this_creation = 0;
    std::string cookie;
    // What we announce. PUBLISHED makes the connection visible; without it we are hidden.
    DistFlags offer = dflag::EDIST_MINIMAL;
    // What the peer must announce (after expanding MANDATORY_25_DIGEST), else the handshake
    // fails naming the missing flags. OTP 26-28 demand MANDATORY_26 of each other.
    DistFlags required = dflag::MANDATORY_26;
    std::chrono::milliseconds setup_time{7000};
    Framing framing = Framing::len16;
    NameMode name_mode = NameMode::any;

    // Initiator: the node we dialled; the acceptor's challenge must carry exactly this name.
    std::string peer_node;
    // Initiator: we have no name yet; ask the acceptor for one (DFLAG_NAME_ME, OTP 23+).
    bool ask_for_name = false;

    // Acceptor: accept the old 'n' name message (+ 'c' complement) that OTP 23/24 send when
    // they do not know our version (not using epmd). OTP 25.0-25.2 refused it; 25.3+ accept.
    bool accept_old_name = true;
    // Acceptor: name initiators that ask for it, as OTP does.
    bool allow_dynamic_names = true;
    // Acceptor: net_kernel:allow/1 — entries "node@host", "host" or "node@"; empty = anyone.
    std::vector<std::string> allowed;
    // Acceptor: also refuse peers whose name does not fit name_mode (OTP checks only on dial).
    bool check_peer_name_mode = false;

    // Replaces the CSPRNG for challenges, assigned names and creations (tests, fuzzing).
    std::function<std::uint32_t()> random32;
};

// The status the acceptor sends in step 2.
enum class Status { ok, ok_simultaneous, nok, not_allowed, alive, named };
std::string_view to_string(Status s) noexcept;

// What the connection manager knows about the peer (net_kernel's connection states).
enum class ConnectionState {
    none,       // no connection and no attempt
    pending,    // our own outgoing attempt to this node is in progress
    up,         // a connection is up (the peer may have restarted and lost it)
    up_pending, // up, and another incoming attempt is already replacing it
};

struct Completed {
    std::string peer_node;
    DistFlags peer_flags = 0;       // as announced, MANDATORY_25_DIGEST expanded
    DistFlags negotiated_flags = 0; // ours & the peer's: what both may use
    std::uint32_t peer_creation = 0;
    std::string this_node;          // assigned by the peer if we asked for a name
    std::uint32_t this_creation = 0;
    Status status = Status::ok;     // ok_simultaneous: drop our own attempt; alive: replaces
                                    // the old connection; named: one side was named
    // Bytes received after the last handshake message: the start of the connection.
    std::vector<std::uint8_t> rest;

    bool published() const noexcept { return negotiated_flags & dflag::PUBLISHED; }
};

struct Failed {
    Error error; // reason: timeout, closed, bad_cookie, not_allowed, nok, check_dflags_failed,
                 // recv_<step>_failed, badarg (our own config), ...
};

// Acceptor asks: "what do you have for this node?" Answer with accept_pending().
struct AcceptPending {
    std::string peer_node;
    bool named_by_us = false; // the name was just generated for a NAME_ME peer
};
// Initiator got 'alive': "is this attempt still the one you want?" Answer with is_pending().
struct IsPending {
    std::string peer_node;
};
// Acceptor replacing a live connection: "tell me when the old one is gone" (pending_released).
struct WaitPending {
    std::string peer_node;
};

using Event = std::variant<Completed, Failed, AcceptPending, IsPending, WaitPending>;

// The simultaneous-connect rule: when B, with its own attempt to A pending, receives A's name,
// the larger name (Erlang atom order) wins. B answers nok if its own name is larger (A gives
// up), else ok_simultaneous (B drops its own attempt).
Status simultaneous_connect_status(std::string_view this_node, std::string_view peer_node);

class Handshake {
public:
    enum class Role { initiator, acceptor };

    // Queues our 'N' name message at once. A bad config yields a Failed event, no bytes.
    static Handshake initiate(Config config, Time now);
    static Handshake accept(Config config, Time now);

    // Bytes read from the carrier. Ignored once done(): after Completed the stream belongs to
    // the connection (any bytes already read past the handshake are in Completed::rest).
    void receive(std::span<const std::uint8_t> bytes, Time now);
    // The peer closed the stream.
    void receive_eof(Time now);
    // Fails with `timeout` if the current step's deadline has passed.
    void handle_timeout(Time now);
    std::optional<Time> deadline() const noexcept;

    // Answer to AcceptPending. Returns the status sent, or nullopt when no status went out yet
    // (a generated name collided and a fresh AcceptPending was raised).
    std::optional<Status> accept_pending(ConnectionState state, Time now);
    // Answer to IsPending.
    void is_pending(bool still_pending, Time now);
    // Answer to WaitPending.
    void pending_released(Time now);

    // Bytes to write, in order; empties the queue.
    std::vector<std::uint8_t> take_output();
    std::optional<Event> poll_event();

    bool done() const noexcept { return step_ == Step::done || step_ == Step::failed; }
    bool failed() const noexcept { return step_ == Step::failed; }
    Role role() const noexcept { return role_; }

private:
    enum class Step {
        // initiator
        recv_status, wait_is_pending, recv_challenge, recv_challenge_ack,
        // acceptor
        recv_name, wait_accept_pending, recv_status_reply, recv_complement,
        recv_challenge_reply, wait_pending,
        done, failed,
    };

    Handshake(Role role, Config config, Time now);

    // initiator steps, named after the message sent or received
    void send_name();
    void recv_status(std::span<const std::uint8_t> msg);
    void recv_status_named(std::span<const std::uint8_t> rest);
    void recv_challenge(std::span<const std::uint8_t> msg);
    void send_challenge_reply(std::uint32_t peer_challenge);
    void recv_challenge_ack(std::span<const std::uint8_t> msg);
    // acceptor steps
    void recv_name(std::span<const std::uint8_t> msg);
    void recv_name_new(std::span<const std::uint8_t> msg);
    void recv_name_old(std::span<const std::uint8_t> msg);
    void mark_pending();
    void send_status(Status s);
    void send_status_named();
    void recv_status_reply(std::span<const std::uint8_t> msg);
    void send_challenge();
    void recv_complement(std::span<const std::uint8_t> msg);
    void recv_challenge_reply(std::span<const std::uint8_t> msg);
    void send_challenge_ack();

    bool check_peer_name(std::string_view name, bool dynamic);
    bool check_dflags(DistFlags mask);
    void complete();
    void drive();
    void dispatch(std::span<const std::uint8_t> msg);
    void send_message(std::span<const std::uint8_t> msg);
    void fail(Atom reason, std::string message);
    void next_step(Step s, Time now);
    bool expired(Time now);
    std::uint32_t random32();
    const char* awaiting() const noexcept;
    const char* awaiting_step_name() const noexcept;

    Role role_;
    Config cfg_;
    Step step_;
    Time deadline_;
    Time now_;
    std::vector<std::uint8_t> in_;
    std::vector<std::uint8_t> out_;
    std::deque<Event> events_;

    std::string peer_node_;        // acceptor: the peer's (or its assigned) name
    std::string peer_host_;        // acceptor: host of a NAME_ME peer
    std::uint32_t peer_creation_ = 0;
    bool peer_creation_known_ = false; // false after an old 'n' until its 'c'
    DistFlags peer_flags_ = 0;
    DistFlags this_flags_ = 0;     // what we sent
    bool peer_named_by_us_ = false;
    bool we_were_named_ = false;
    bool replacing_ = false;       // acceptor answered 'alive' with a live old connection
    Status status_ = Status::ok;
    std::uint32_t our_challenge_ = 0;
    std::uint32_t peer_challenge_ = 0;
};

} // namespace edist::handshake
