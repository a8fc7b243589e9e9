// The handshake state machine. One function per step, named after the message it sends or
// receives, in the order the protocol runs (compare OTP's dist_util.erl).
#include "handshake/handshake.hpp"

#include "handshake/digest.hpp"

#include <edist/atom.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace edist::handshake {

namespace {

// A handshake message is a few hundred bytes at most; anything longer is not a handshake.
constexpr std::size_t max_message = 65535;

std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
    return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
           std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}
std::uint64_t get64(std::span<const std::uint8_t> b, std::size_t at) {
    return std::uint64_t{get32(b, at)} << 32 | get32(b, at + 4);
}

struct Writer {
    std::vector<std::uint8_t> bytes;
    Writer& u8(std::uint8_t v) { bytes.push_back(v); return *this; }
    Writer& u16(std::uint16_t v) { return u8(v >> 8).u8(v & 0xff); }
    Writer& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
    Writer& u64(std::uint64_t v) { return u32(v >> 32).u32(v & 0xffffffff); }
    Writer& text(std::string_view s) { bytes.insert(bytes.end(), s.begin(), s.end()); return *this; }
    Writer& raw(std::span<const std::uint8_t> s) { bytes.insert(bytes.end(), s.begin(), s.end()); return *this; }
};

std::string_view as_text(std::span<const std::uint8_t> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// For error messages: printable ASCII as is, everything else escaped, long input cut.
std::string printable(std::span<const std::uint8_t> b) {
    std::string out;
    for (std::size_t i = 0; i < b.size() && i < 64; ++i) {
        const auto c = b[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
        else out += fmt::format("\\x{:02x}", c);
    }
    if (b.size() > 64) out += "...";
    return out;
}

Atom reason(std::string_view name) {
    Atom a;
    return Atom::try_intern(name, a) ? a : atoms::error;
}

std::string base36(std::uint64_t v) {
    std::string s;
    do {
        s += "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[v % 36];
        v /= 36;
    } while (v);
    std::reverse(s.begin(), s.end());
    return s;
}

} // namespace

std::string_view to_string(Status s) noexcept {
    switch (s) {
    case Status::ok: return "ok";
    case Status::ok_simultaneous: return "ok_simultaneous";
    case Status::nok: return "nok";
    case Status::not_allowed: return "not_allowed";
    case Status::alive: return "alive";
    case Status::named: return "named";
    }
    return "?";
}

Status simultaneous_connect_status(std::string_view this_node, std::string_view peer_node) {
    // Atoms order by code point; UTF-8 byte order is the same order.
    return this_node > peer_node ? Status::nok : Status::ok_simultaneous;
}

// --- construction ------------------------------------------------------------------------

Handshake::Handshake(Role role, Config config, Time now)
    : role_(role), cfg_(std::move(config)),
      step_(role == Role::initiator ? Step::recv_status : Step::recv_name),
      deadline_(now + cfg_.setup_time), now_(now) {}

Handshake Handshake::initiate(Config config, Time now) {
    Handshake hs(Role::initiator, std::move(config), now);
    const Config& c = hs.cfg_;
    const std::string_view mode = c.name_mode == NameMode::longnames ? "long names (-name)"
                                                                      : "short names (-sname)";
    if (c.cookie.empty()) {
        hs.fail(atoms::badarg, "no cookie to connect with");
    } else if (!is_node_name(c.peer_node)) {
        hs.fail(atoms::badarg, fmt::format("cannot connect to '{}': not a node name (name@host)",
                                           c.peer_node));
    } else if (auto misfit = host_misfit(node_host(c.peer_node), c.name_mode)) {
        hs.fail(atoms::badarg, fmt::format("cannot connect to '{}': {}", c.peer_node, *misfit));
    } else if (c.ask_for_name) {
        if (c.this_node.empty() || c.this_node.find('@') != std::string::npos ||
            !is_valid_atom_text(c.this_node))
            hs.fail(atoms::badarg, fmt::format("asking for a name needs our host alone, not '{}'",
                                               c.this_node));
    } else if (!is_node_name(c.this_node)) {
        hs.fail(atoms::badarg, fmt::format("our node name '{}' is not name@host", c.this_node));
    } else if (c.this_creation == 0) {
        hs.fail(atoms::badarg, "our creation is 0; a named node needs the creation epmd gave it");
    } else if (!host_fits(node_host(c.this_node), c.name_mode)) {
        hs.fail(atoms::badarg, fmt::format("our node name '{}' does not fit {}", c.this_node, mode));
    }
    if (!hs.done()) hs.send_name();
    return hs;
}

Handshake Handshake::accept(Config config, Time now) {
    Handshake hs(Role::acceptor, std::move(config), now);
    if (hs.cfg_.cookie.empty())
        hs.fail(atoms::badarg, "no cookie to accept connections with");
    else if (!is_node_name(hs.cfg_.this_node))
        hs.fail(atoms::badarg, fmt::format("our node name '{}' is not name@host", hs.cfg_.this_node));
    else if (hs.cfg_.this_creation == 0)
        hs.fail(atoms::badarg, "our creation is 0; a named node needs the creation epmd gave it");
    return hs;
}

// --- initiator ---------------------------------------------------------------------------

// 'N' Flags:64 Creation:32 NameLen:16 Name. Unnamed, we send only our host and creation 0.
void Handshake::send_name() {
    this_flags_ = cfg_.ask_for_name ? (cfg_.offer & ~dflag::PUBLISHED) | dflag::NAME_ME
                                    : cfg_.offer;
    const std::uint32_t creation = cfg_.ask_for_name ? 0 : cfg_.this_creation;
    Writer w;
    w.u8('N').u64(this_flags_).u32(creation).u16(static_cast<std::uint16_t>(cfg_.this_node.size()))
        .text(cfg_.this_node);
    send_message(w.bytes);
    next_step(Step::recv_status, now_);
}

// 's' Status: whether, and how, the acceptor lets us continue.
void Handshake::recv_status(std::span<const std::uint8_t> msg) {
    if (msg[0] != 's')
        return fail(reason("recv_status_failed"),
                    fmt::format("expected the status ('s') from {}, got '{}'", cfg_.peer_node,
                                printable(msg)));
    const std::string_view status = as_text(msg.subspan(1));
    if (status.starts_with("named:")) return recv_status_named(msg.subspan(7));
    if (status == "not_allowed")
        return fail(reason("not_allowed"),
                    fmt::format("{} refused the connection (not_allowed): it requires flags we do "
                                "not offer, or does not allow this node", cfg_.peer_node));
    if (cfg_.ask_for_name)
        return fail(reason("recv_status_failed"),
                    fmt::format("we asked {} for a name but it answered '{}'", cfg_.peer_node,
                                printable(msg.subspan(1))));
    if (status == "ok" || status == "ok_simultaneous") {
        status_ = status == "ok" ? Status::ok : Status::ok_simultaneous;
        return next_step(Step::recv_challenge, now_);
    }
    if (status == "nok")
        return fail(reason("nok"),
                    fmt::format("{} is connecting to us at the same time and its attempt wins "
                                "(nok)", cfg_.peer_node));
    if (status == "alive") {
        next_step(Step::wait_is_pending, now_);
        events_.push_back(IsPending{cfg_.peer_node});
        return;
    }
    fail(reason("recv_status_failed"),
         fmt::format("unknown status '{}' from {}", printable(msg.subspan(1)), cfg_.peer_node));
}

// 's' "named:" NameLen:16 Name Creation:32 [ignored]: the acceptor named us.
void Handshake::recv_status_named(std::span<const std::uint8_t> rest) {
    if (!cfg_.ask_for_name)
        return fail(reason("recv_status_failed"),
                    fmt::format("{} sent a name ('named:') but we did not ask for one",
                                cfg_.peer_node));
    if (rest.size() < 2 || rest.size() < 2u + get16(rest, 0) + 4u)
        return fail(reason("recv_status_failed"),
                    fmt::format("truncated 'named:' status from {}", cfg_.peer_node));
    const std::size_t len = get16(rest, 0);
    const std::string name(as_text(rest.subspan(2, len)));
    const std::uint32_t creation = get32(rest, 2 + len);
    if (!is_node_name(name) || node_host(name) != cfg_.this_node)
        return fail(reason("recv_status_failed"),
                    fmt::format("{} named us '{}', which is not a node name on our host '{}'",
                                cfg_.peer_node, printable(rest.subspan(2, len)), cfg_.this_node));
    if (creation == 0)
        return fail(reason("recv_status_failed"),
                    fmt::format("{} named us '{}' with creation 0", cfg_.peer_node, name));
    cfg_.this_node = name;
    cfg_.this_creation = creation;
    we_were_named_ = true;
    status_ = Status::named;
    next_step(Step::recv_challenge, now_);
}

// Answer to 'alive': true if this attempt is still wanted (the peer restarted and our old
// connection is stale), false to give it up.
void Handshake::is_pending(bool still_pending, Time now) {
    if (step_ != Step::wait_is_pending || expired(now)) return;
    Writer w;
    w.u8('s').text(still_pending ? "true" : "false");
    send_message(w.bytes);
    if (!still_pending)
        return fail(reason("alive"),
                    fmt::format("{} already has a connection to us and this attempt is no longer "
                                "pending; answered false", cfg_.peer_node));
    status_ = Status::alive;
    next_step(Step::recv_challenge, now);
    drive();
}

// 'N' Flags:64 Challenge:32 Creation:32 NameLen:16 Name [ignored].
void Handshake::recv_challenge(std::span<const std::uint8_t> msg) {
    if (msg[0] != 'N' || msg.size() < 19 || msg.size() < 19u + get16(msg, 17))
        return fail(reason("recv_challenge_failed"),
                    fmt::format("expected the challenge ('N') from {}, got '{}'", cfg_.peer_node,
                                printable(msg)));
    const std::string_view name = as_text(msg.subspan(19, get16(msg, 17)));
    if (name != cfg_.peer_node)
        return fail(reason("recv_challenge_failed"),
                    fmt::format("we dialled {} but the node there is '{}'", cfg_.peer_node,
                                printable(msg.subspan(19, name.size()))));
    peer_creation_ = get32(msg, 13);
    if (peer_creation_ == 0)
        return fail(reason("recv_challenge_failed"),
                    fmt::format("{} sent creation 0 in its challenge", cfg_.peer_node));
    peer_creation_known_ = true;
    peer_flags_ = dflag::expand_mandatory_25_digest(get64(msg, 1));
    if (!check_dflags(~DistFlags{0})) return;
    send_challenge_reply(get32(msg, 9));
}

// 'r' OurChallenge:32 Digest(their challenge):16.
void Handshake::send_challenge_reply(std::uint32_t peer_challenge) {
    peer_challenge_ = peer_challenge;
    our_challenge_ = random32();
    const Digest d = gen_digest(peer_challenge_, cfg_.cookie);
    Writer w;
    w.u8('r').u32(our_challenge_).raw(d);
    send_message(w.bytes);
    next_step(Step::recv_challenge_ack, now_);
}

// 'a' Digest(our challenge):16: the acceptor knows the cookie too.
void Handshake::recv_challenge_ack(std::span<const std::uint8_t> msg) {
    if (msg[0] != 'a' || msg.size() != 17)
        return fail(reason("recv_challenge_ack_failed"),
                    fmt::format("expected the challenge ack ('a', 17 bytes) from {}, got '{}'",
                                cfg_.peer_node, printable(msg)));
    if (!digest_equal(gen_digest(our_challenge_, cfg_.cookie), msg.subspan(1)))
        return fail(reason("bad_cookie"),
                    fmt::format("connection to {} cancelled: invalid challenge ack (its cookie "
                                "differs from ours)", cfg_.peer_node));
    complete();
}

// --- acceptor ----------------------------------------------------------------------------

void Handshake::recv_name(std::span<const std::uint8_t> msg) {
    if (msg[0] == 'N') return recv_name_new(msg);
    if (msg[0] == 'n' && cfg_.accept_old_name) return recv_name_old(msg);
    fail(reason("recv_name_failed"),
         msg[0] == 'n' ? std::string("refused the old 'n' name message (accept_old_name is off)")
                       : fmt::format("expected a name message ('N'), got '{}'", printable(msg)));
}

// 'N' Flags:64 Creation:32 NameLen:16 Name [ignored].
void Handshake::recv_name_new(std::span<const std::uint8_t> msg) {
    if (msg.size() < 15 || msg.size() < 15u + get16(msg, 13))
        return fail(reason("recv_name_failed"),
                    fmt::format("truncated name message '{}'", printable(msg)));
    const DistFlags flags = get64(msg, 1);
    const bool dynamic = flags & dflag::NAME_ME;
    if (!check_peer_name(as_text(msg.subspan(15, get16(msg, 13))), dynamic)) return;
    peer_creation_ = get32(msg, 9);
    peer_creation_known_ = true;
    if (!dynamic && peer_creation_ == 0)
        return fail(reason("recv_name_failed"),
                    fmt::format("{} sent creation 0 without asking for a name", peer_node_));
    peer_flags_ = dflag::expand_mandatory_25_digest(flags);
    // OTP's acceptor announces NAME_ME back, in place of PUBLISHED, to a peer it names.
    this_flags_ = dynamic ? (cfg_.offer & ~dflag::PUBLISHED) | dflag::NAME_ME : cfg_.offer;
    if (!check_dflags(~DistFlags{0})) return;
    mark_pending();
}

// 'n' Version:16 Flags:32 Name — OTP 23/24 without epmd. The high flag word and the creation
// follow in a 'c' after our challenge; only a HANDSHAKE_23 peer sends that 'c'.
void Handshake::recv_name_old(std::span<const std::uint8_t> msg) {
    if (msg.size() < 7)
        return fail(reason("recv_name_failed"),
                    fmt::format("truncated old name message '{}'", printable(msg)));
    if (!check_peer_name(as_text(msg.subspan(7)), false)) return;
    peer_flags_ = dflag::expand_mandatory_25_digest(get32(msg, 3));
    this_flags_ = cfg_.offer;
    peer_creation_known_ = false;
    if (!(peer_flags_ & dflag::HANDSHAKE_23)) {
        send_status(Status::not_allowed);
        return fail(reason("check_dflags_failed"),
                    fmt::format("connection attempt from {} rejected since it cannot handle "
                                "[\"HANDSHAKE_23\"] (it would never send the 'c' complement)",
                                peer_node_));
    }
    if (!check_dflags(0xffffffff)) return; // the high word is still unknown
    mark_pending();
}

// Ask the connection manager what it has for this node (or for the name we made up).
void Handshake::mark_pending() {
    if (peer_named_by_us_) {
        const std::uint64_t id = std::uint64_t{random32()} << 32 | random32();
        peer_node_ = base36(id) + "@" + peer_host_;
        peer_creation_ = random32();
        if (peer_creation_ < 4) peer_creation_ += 4; // 0-3 were the old 2-bit creations
        peer_creation_known_ = true;
    }
    next_step(Step::wait_accept_pending, now_);
    events_.push_back(AcceptPending{peer_node_, peer_named_by_us_});
}

std::optional<Status> Handshake::accept_pending(ConnectionState state, Time now) {
    if (step_ != Step::wait_accept_pending || expired(now)) return std::nullopt;
    if (peer_named_by_us_ && state != ConnectionState::none) {
        mark_pending(); // the name we made up is taken: make up another
        return std::nullopt;
    }
    switch (state) {
    case ConnectionState::none:
        if (peer_named_by_us_) send_status_named();
        else send_status(Status::ok);
        send_challenge();
        break;
    case ConnectionState::pending:
        send_status(simultaneous_connect_status(cfg_.this_node, peer_node_));
        if (status_ == Status::nok) {
            fail(reason("nok"),
                 fmt::format("simultaneous connect with {}: our own attempt wins (sent nok)",
                             peer_node_));
            return Status::nok;
        }
        send_challenge();
        break;
    case ConnectionState::up:
        send_status(Status::alive);
        next_step(Step::recv_status_reply, now_);
        break;
    case ConnectionState::up_pending:
        fail(reason("already_pending"),
             fmt::format("another attempt from {} is already replacing its connection",
                         peer_node_));
        return std::nullopt;
    }
    const Status sent = status_;
    drive(); // anything the peer sent early
    return sent;
}

// 's' Status.
void Handshake::send_status(Status s) {
    status_ = s;
    Writer w;
    w.u8('s').text(to_string(s));
    send_message(w.bytes);
}

// 's' "named:" NameLen:16 Name Creation:32.
void Handshake::send_status_named() {
    status_ = Status::named;
    Writer w;
    w.u8('s').text("named:").u16(static_cast<std::uint16_t>(peer_node_.size())).text(peer_node_)
        .u32(peer_creation_);
    send_message(w.bytes);
}

// 's' "true" | 's' "false": the initiator's answer to 'alive'.
void Handshake::recv_status_reply(std::span<const std::uint8_t> msg) {
    const std::string_view reply = as_text(msg);
    if (reply == "strue") {
        replacing_ = true;
        return send_challenge();
    }
    if (reply == "sfalse")
        return fail(reason("alive"),
                    fmt::format("{} answered false to 'alive': keeping the existing connection",
                                peer_node_));
    fail(reason("recv_status_failed"),
         fmt::format("expected 'strue' or 'sfalse' from {}, got '{}'", peer_node_, printable(msg)));
}

// 'N' Flags:64 Challenge:32 Creation:32 NameLen:16 Name — always the new form, even to 'n'.
void Handshake::send_challenge() {
    our_challenge_ = random32();
    Writer w;
    w.u8('N').u64(this_flags_).u32(our_challenge_).u32(cfg_.this_creation)
        .u16(static_cast<std::uint16_t>(cfg_.this_node.size())).text(cfg_.this_node);
    send_message(w.bytes);
    next_step(peer_creation_known_ ? Step::recv_challenge_reply : Step::recv_complement, now_);
}

// 'c' FlagsHigh:32 Creation:32 — completes an old 'n'.
void Handshake::recv_complement(std::span<const std::uint8_t> msg) {
    if (msg[0] != 'c' || msg.size() != 9)
        return fail(reason("recv_complement_failed"),
                    fmt::format("expected the complement ('c', 9 bytes) from {}, got '{}'",
                                peer_node_, printable(msg)));
    peer_flags_ = dflag::expand_mandatory_25_digest(peer_flags_ | DistFlags{get32(msg, 1)} << 32);
    peer_creation_ = get32(msg, 5);
    peer_creation_known_ = true;
    if (peer_creation_ == 0)
        return fail(reason("recv_complement_failed"),
                    fmt::format("{} sent creation 0 in its complement", peer_node_));
    if (!check_dflags(~DistFlags{0})) return;
    next_step(Step::recv_challenge_reply, now_);
}

// 'r' TheirChallenge:32 Digest(our challenge):16.
void Handshake::recv_challenge_reply(std::span<const std::uint8_t> msg) {
    if (msg[0] != 'r' || msg.size() != 21)
        return fail(reason("recv_challenge_reply_failed"),
                    fmt::format("expected the challenge reply ('r', 21 bytes) from {}, got '{}'",
                                peer_node_, printable(msg)));
    if (!digest_equal(gen_digest(our_challenge_, cfg_.cookie), msg.subspan(5)))
        return fail(reason("bad_cookie"),
                    fmt::format("connection attempt from {} rejected: invalid challenge reply "
                                "(its cookie differs from ours)", peer_node_));
    peer_challenge_ = get32(msg, 1);
    if (replacing_) {
        next_step(Step::wait_pending, now_);
        events_.push_back(WaitPending{peer_node_});
        return;
    }
    send_challenge_ack();
}

void Handshake::pending_released(Time now) {
    if (step_ != Step::wait_pending || expired(now)) return;
    send_challenge_ack();
}

// 'a' Digest(their challenge):16.
void Handshake::send_challenge_ack() {
    Writer w;
    w.u8('a').raw(gen_digest(peer_challenge_, cfg_.cookie));
    send_message(w.bytes);
    complete();
}

// --- shared ------------------------------------------------------------------------------

bool Handshake::check_peer_name(std::string_view name, bool dynamic) {
    const bool ok = dynamic ? !name.empty() && name.find('@') == std::string_view::npos &&
                                  is_valid_atom_text(name)
                            : is_node_name(name);
    if (!ok) {
        fail(reason("recv_name_failed"),
             fmt::format("'{}' is not a {}", printable({reinterpret_cast<const std::uint8_t*>(
                                                            name.data()), name.size()}),
                         dynamic ? "host name" : "node name (name@host)"));
        return false;
    }
    if (dynamic) {
        peer_host_ = std::string(name);
        peer_node_ = peer_host_;
        peer_named_by_us_ = true;
        if (!cfg_.allow_dynamic_names) {
            send_status(Status::not_allowed);
            fail(reason("not_allowed"),
                 fmt::format("a node on {} asked to be named; dynamic names are off", name));
            return false;
        }
        // As OTP: an unnamed peer passes the allow list only through a host entry.
        if (!cfg_.allowed.empty() &&
            std::find(cfg_.allowed.begin(), cfg_.allowed.end(), name) == cfg_.allowed.end()) {
            send_status(Status::not_allowed);
            fail(reason("not_allowed"),
                 fmt::format("connection attempt from disallowed host {} (asking for a name)", name));
            return false;
        }
        return true;
    }
    peer_node_ = std::string(name);
    if (name == cfg_.this_node) {
        send_status(Status::not_allowed);
        fail(reason("not_allowed"), fmt::format("connection attempt from a node claiming this node's name, {}", name));
        return false;
    }
    if (!cfg_.allowed.empty() && !is_allowed(name, cfg_.allowed)) {
        send_status(Status::not_allowed);
        fail(reason("not_allowed"), fmt::format("connection attempt from disallowed node {}", name));
        return false;
    }
    if (cfg_.check_peer_name_mode && !host_fits(node_host(name), cfg_.name_mode)) {
        send_status(Status::not_allowed);
        fail(reason("not_allowed"),
             fmt::format("connection attempt from {} refused: this node uses {} names", name,
                         cfg_.name_mode == NameMode::longnames ? "long" : "short"));
        return false;
    }
    return true;
}

// The peer must announce every flag we require. An acceptor says not_allowed; an initiator
// just aborts. `mask` limits the check to the flags known so far (an old 'n' has 32).
bool Handshake::check_dflags(DistFlags mask) {
    const auto missing = missing_dflags(cfg_.required & mask, peer_flags_);
    if (missing.empty()) return true;
    const std::string& peer = role_ == Role::initiator ? cfg_.peer_node : peer_node_;
    if (role_ == Role::acceptor) send_status(Status::not_allowed);
    fail(reason("check_dflags_failed"),
         fmt::format("connection attempt {} {} {} since it cannot handle {}",
                     role_ == Role::acceptor ? "from" : "to", peer,
                     role_ == Role::acceptor ? "rejected" : "aborted", format_dflag_list(missing)));
    return false;
}

void Handshake::complete() {
    Completed c;
    c.peer_node = role_ == Role::initiator ? cfg_.peer_node : peer_node_;
    c.peer_flags = peer_flags_;
    c.negotiated_flags = this_flags_ & peer_flags_;
    c.peer_creation = peer_creation_;
    c.this_node = cfg_.this_node;
    c.this_creation = cfg_.this_creation;
    c.status = status_;
    c.rest = std::move(in_);
    in_.clear();
    step_ = Step::done;
    events_.push_back(std::move(c));
}

void Handshake::receive(std::span<const std::uint8_t> bytes, Time now) {
    if (done() || expired(now)) return;
    in_.insert(in_.end(), bytes.begin(), bytes.end());
    drive();
}

void Handshake::receive_eof(Time now) {
    if (done() || expired(now)) return;
    // An OTP acceptor that rejects our digest closes without a word: say what that means.
    const char* hint = step_ == Step::recv_challenge_ack
                           ? " (it rejected our challenge reply: its cookie differs from ours)"
                           : "";
    fail(reason("closed"),
         fmt::format("connection closed by {} while waiting for the {}{}",
                     role_ == Role::initiator ? cfg_.peer_node
                                              : (peer_node_.empty() ? "the peer" : peer_node_),
                     awaiting(), hint));
}

void Handshake::handle_timeout(Time now) { expired(now); }

std::optional<Time> Handshake::deadline() const noexcept {
    if (done()) return std::nullopt;
    return deadline_;
}

// Take whole messages off the input while a step is waiting for one.
void Handshake::drive() {
    const std::size_t header = cfg_.framing == Framing::len16 ? 2 : 4;
    for (;;) {
        switch (step_) {
        case Step::wait_is_pending: case Step::wait_accept_pending: case Step::wait_pending:
        case Step::done: case Step::failed:
            return;
        default:
            break;
        }
        if (in_.size() < header) return;
        const std::size_t len = header == 2 ? get16(in_, 0) : get32(in_, 0);
        if (len == 0 || len > max_message) {
            const std::string what = len == 0 ? "an empty message" : fmt::format("a {}-byte message", len);
            return fail(reason(fmt::format("{}_failed", awaiting_step_name())),
                        fmt::format("got {} while waiting for the {}", what, awaiting()));
        }
        if (in_.size() < header + len) return;
        std::vector<std::uint8_t> msg(in_.begin() + static_cast<std::ptrdiff_t>(header),
                                      in_.begin() + static_cast<std::ptrdiff_t>(header + len));
        in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(header + len));
        dispatch(msg);
    }
}

void Handshake::dispatch(std::span<const std::uint8_t> msg) {
    switch (step_) {
    case Step::recv_status: return recv_status(msg);
    case Step::recv_challenge: return recv_challenge(msg);
    case Step::recv_challenge_ack: return recv_challenge_ack(msg);
    case Step::recv_name: return recv_name(msg);
    case Step::recv_status_reply: return recv_status_reply(msg);
    case Step::recv_complement: return recv_complement(msg);
    case Step::recv_challenge_reply: return recv_challenge_reply(msg);
    default: return;
    }
}

void Handshake::send_message(std::span<const std::uint8_t> msg) {
    const std::size_t n = msg.size();
    if (cfg_.framing == Framing::len32) {
        out_.push_back(static_cast<std::uint8_t>(n >> 24));
        out_.push_back(static_cast<std::uint8_t>(n >> 16));
    }
    out_.push_back(static_cast<std::uint8_t>(n >> 8));
    out_.push_back(static_cast<std::uint8_t>(n));
    out_.insert(out_.end(), msg.begin(), msg.end());
}

void Handshake::fail(Atom why, std::string message) {
    step_ = Step::failed;
    in_.clear();
    events_.push_back(Failed{Error(why, std::move(message))});
}

void Handshake::next_step(Step s, Time now) {
    step_ = s;
    deadline_ = now + cfg_.setup_time;
}

bool Handshake::expired(Time now) {
    now_ = now;
    if (done() || now < deadline_) return done();
    fail(atoms::timeout,
         fmt::format("no {} within net_setuptime ({} ms)", awaiting(), cfg_.setup_time.count()));
    return true;
}

std::uint32_t Handshake::random32() { return cfg_.random32 ? cfg_.random32() : gen_challenge(); }

const char* Handshake::awaiting() const noexcept {
    switch (step_) {
    case Step::recv_status: return "status ('s') from the acceptor";
    case Step::wait_is_pending: return "connection manager's answer to 'alive'";
    case Step::recv_challenge: return "challenge ('N') from the acceptor";
    case Step::recv_challenge_ack: return "challenge ack ('a') from the acceptor";
    case Step::recv_name: return "name ('N') from the initiator";
    case Step::wait_accept_pending: return "connection manager's answer about the peer";
    case Step::recv_status_reply: return "reply to 'alive' from the initiator";
    case Step::recv_complement: return "complement ('c') from the initiator";
    case Step::recv_challenge_reply: return "challenge reply ('r') from the initiator";
    case Step::wait_pending: return "old connection to go down";
    case Step::done: case Step::failed: return "nothing";
    }
    return "?";
}

const char* Handshake::awaiting_step_name() const noexcept {
    switch (step_) {
    case Step::recv_status: return "recv_status";
    case Step::recv_challenge: return "recv_challenge";
    case Step::recv_challenge_ack: return "recv_challenge_ack";
    case Step::recv_name: return "recv_name";
    case Step::recv_status_reply: return "recv_status";
    case Step::recv_complement: return "recv_complement";
    case Step::recv_challenge_reply: return "recv_challenge_reply";
    default: return "handshake";
    }
}

std::vector<std::uint8_t> Handshake::take_output() { return std::exchange(out_, {}); }

std::optional<Event> Handshake::poll_event() {
    if (events_.empty()) return std::nullopt;
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
}

} // namespace edist::handshake
