#include "dist/control.hpp"

#include <edist/etf.hpp>
#include <edist/text.hpp>

#include "etf/term_reader.hpp"
#include "etf/term_writer.hpp"

#include <string>

namespace edist::dist {
namespace {

Error invalid(std::string what, const Term& control) {
    std::string shown = to_string(control);
    if (shown.size() > 300) shown = shown.substr(0, 300) + "...";
    return Error(atoms::badarg, "invalid distribution message: " + what + " in " + shown);
}

// Reads the fields of a control tuple with the checks OTP applies on receipt.
class Fields {
public:
    Fields(const Term& control, Atom peer) : control_(control), t_(control.as_tuple()), peer_(peer) {}

    std::size_t size() const { return t_.size(); }
    const Term& at(std::size_t i) const { return t_[i]; }

    bool pid(std::size_t i, Pid& out) const {
        if (!t_[i].is_pid()) return fail("element " + std::to_string(i + 1) + " is not a pid");
        out = t_[i].as_pid();
        return true;
    }
    // A pid that the sending node claims as its own process.
    bool peer_pid(std::size_t i, Pid& out) const {
        if (!pid(i, out)) return false;
        if (out.node != peer_) return fail("sender pid does not belong to node " + std::string(peer_.name()));
        return true;
    }
    bool ref(std::size_t i, Ref& out) const {
        if (!t_[i].is_ref()) return fail("element " + std::to_string(i + 1) + " is not a reference");
        out = t_[i].as_ref();
        return true;
    }
    bool atom(std::size_t i, Atom& out) const {
        if (!t_[i].is_atom()) return fail("element " + std::to_string(i + 1) + " is not an atom");
        out = t_[i].as_atom();
        return true;
    }
    bool pid_or_atom(std::size_t i) const {
        if (!t_[i].is_pid() && !t_[i].is_atom()) return fail("element " + std::to_string(i + 1) + " is not a pid or name");
        return true;
    }
    bool unlink_id(std::size_t i, std::uint64_t& out) const {
        const Term& t = t_[i];
        if (!t.is_integer()) return fail("unlink id is not an integer");
        BigInt b = t.as_bigint();
        auto u = b.to_uint64();
        if (b.negative() || !u || *u == 0) return fail("unlink id out of range");
        out = *u;
        return true;
    }
    bool fail(std::string what) const {
        error_ = invalid(std::move(what), control_);
        return false;
    }
    Error error() const { return error_.value_or(invalid("malformed control tuple", control_)); }

private:
    const Term& control_;
    std::span<const Term> t_;
    Atom peer_;
    mutable std::optional<Error> error_;
};

struct Shape {
    std::size_t arity;
    bool payload;
};

std::optional<Shape> shape_of(Op op) {
    switch (op) {
    case Op::link: return Shape{3, false};
    case Op::send: return Shape{3, true};
    case Op::exit: return Shape{4, false};
    case Op::reg_send: return Shape{4, true};
    case Op::group_leader: return Shape{3, false};
    case Op::exit2: return Shape{4, false};
    case Op::send_tt: return Shape{4, true};
    case Op::exit_tt: return Shape{5, false};
    case Op::reg_send_tt: return Shape{5, true};
    case Op::exit2_tt: return Shape{5, false};
    case Op::monitor_p: return Shape{4, false};
    case Op::demonitor_p: return Shape{4, false};
    case Op::monitor_p_exit: return Shape{5, false};
    case Op::send_sender: return Shape{3, true};
    case Op::send_sender_tt: return Shape{4, true};
    case Op::payload_exit: return Shape{3, true};
    case Op::payload_exit_tt: return Shape{4, true};
    case Op::payload_exit2: return Shape{3, true};
    case Op::payload_exit2_tt: return Shape{4, true};
    case Op::payload_monitor_p_exit: return Shape{4, true};
    case Op::spawn_request: return Shape{6, true};
    case Op::spawn_request_tt: return Shape{7, true};
    case Op::spawn_reply: return Shape{5, false};
    case Op::spawn_reply_tt: return Shape{6, false};
    case Op::alias_send: return Shape{3, true};
    case Op::alias_send_tt: return Shape{4, true};
    case Op::unlink_id: return Shape{4, false};
    case Op::unlink_id_ack: return Shape{4, false};
    default: return std::nullopt;
    }
}

} // namespace

Result<Signal> parse(const Term& control, const std::optional<Term>& payload, Atom peer) {
    if (!control.is_tuple() || control.tuple_size() == 0 || !control[0].is_int64())
        return invalid("control message is not a tuple {Op, ...}", control);
    std::int64_t raw_op = control[0].as_int64();
    if (raw_op < 1 || raw_op > 255) return invalid("unknown operation " + std::to_string(raw_op), control);
    auto op = static_cast<Op>(raw_op);
    if (op == Op::unlink) return invalid("obsolete UNLINK (peers must use UNLINK_ID)", control);
    auto shape = shape_of(op);
    if (!shape) return invalid("unknown operation " + std::to_string(raw_op), control);
    if (control.tuple_size() != shape->arity)
        return invalid("operation " + std::to_string(raw_op) + " with " + std::to_string(control.tuple_size()) +
                           " elements",
                       control);
    if (shape->payload != payload.has_value())
        return invalid(shape->payload ? "missing payload" : "unexpected payload", control);

    Fields f(control, peer);
    switch (op) {
    case Op::send:
    case Op::send_tt: {
        SendSignal s{std::nullopt, {}, *payload};
        if (!f.pid(2, s.to)) break;
        return Signal(std::move(s));
    }
    case Op::send_sender:
    case Op::send_sender_tt: {
        Pid from;
        SendSignal s{std::nullopt, {}, *payload};
        if (!f.peer_pid(1, from) || !f.pid(2, s.to)) break;
        s.from = from;
        return Signal(std::move(s));
    }
    case Op::reg_send:
    case Op::reg_send_tt: {
        RegSendSignal s{{}, {}, *payload};
        if (!f.peer_pid(1, s.from) || !f.atom(3, s.to)) break;
        return Signal(std::move(s));
    }
    case Op::alias_send:
    case Op::alias_send_tt: {
        AliasSendSignal s{{}, {}, *payload};
        if (!f.peer_pid(1, s.from) || !f.ref(2, s.alias)) break;
        return Signal(std::move(s));
    }
    case Op::link: {
        LinkSignal s;
        if (!f.peer_pid(1, s.from) || !f.pid(2, s.to)) break;
        return Signal(s);
    }
    case Op::unlink_id:
    case Op::unlink_id_ack: {
        std::uint64_t id = 0;
        Pid from, to;
        if (!f.unlink_id(1, id) || !f.peer_pid(2, from) || !f.pid(3, to)) break;
        if (op == Op::unlink_id) return Signal(UnlinkIdSignal{id, from, to});
        return Signal(UnlinkIdAckSignal{id, from, to});
    }
    case Op::exit:
    case Op::exit2:
    case Op::exit_tt:
    case Op::exit2_tt: {
        ExitSignal s{{}, {}, control[control.tuple_size() - 1], op == Op::exit || op == Op::exit_tt};
        if (!f.peer_pid(1, s.from) || !f.pid(2, s.to)) break;
        return Signal(std::move(s));
    }
    case Op::payload_exit:
    case Op::payload_exit2:
    case Op::payload_exit_tt:
    case Op::payload_exit2_tt: {
        ExitSignal s{{}, {}, *payload, op == Op::payload_exit || op == Op::payload_exit_tt};
        if (!f.peer_pid(1, s.from) || !f.pid(2, s.to)) break;
        return Signal(std::move(s));
    }
    case Op::monitor_p:
    case Op::demonitor_p: {
        Pid from;
        Ref ref;
        if (!f.peer_pid(1, from) || !f.pid_or_atom(2) || !f.ref(3, ref)) break;
        if (op == Op::monitor_p) return Signal(MonitorSignal{from, control[2], ref});
        return Signal(DemonitorSignal{from, control[2], ref});
    }
    case Op::monitor_p_exit:
    case Op::payload_monitor_p_exit: {
        MonitorExitSignal s{control[1], {}, {}, op == Op::monitor_p_exit ? control[4] : *payload};
        if (!f.pid_or_atom(1) || !f.pid(2, s.to) || !f.ref(3, s.ref)) break;
        if (s.from.is_pid() && s.from.as_pid().node != peer) {
            f.fail("monitored pid does not belong to node " + std::string(peer.name()));
            break;
        }
        return Signal(std::move(s));
    }
    case Op::group_leader: {
        GroupLeaderSignal s;
        if (!f.peer_pid(1, s.leader) || !f.pid(2, s.to)) break;
        return Signal(s);
    }
    case Op::spawn_request:
    case Op::spawn_request_tt: {
        SpawnRequestSignal s{};
        if (!f.ref(1, s.req_id) || !f.peer_pid(2, s.from) || !f.pid(3, s.group_leader)) break;
        const Term& mfa = control[4];
        if (!mfa.is_tuple(3) || !mfa[0].is_atom() || !mfa[1].is_atom() || !mfa[2].is_int64() ||
            mfa[2].as_int64() < 0 || mfa[2].as_int64() > 255) {
            f.fail("spawn request {Module, Function, Arity} is malformed");
            break;
        }
        s.module = mfa[0].as_atom();
        s.function = mfa[1].as_atom();
        s.arity = static_cast<std::uint32_t>(mfa[2].as_int64());
        s.options = control[5];
        s.args = *payload;
        if (!s.options.is_proper_list()) {
            f.fail("spawn options are not a proper list");
            break;
        }
        if (!s.args.is_proper_list() || s.args.as_list().size() != s.arity) {
            f.fail("spawn argument list does not match the arity");
            break;
        }
        return Signal(std::move(s));
    }
    case Op::spawn_reply:
    case Op::spawn_reply_tt: {
        SpawnReplySignal s{};
        if (!f.ref(1, s.req_id) || !f.pid(2, s.to)) break;
        if (!control[3].is_int64() || control[3].as_int64() < 0 || control[3].as_int64() > 0xFFFF) {
            f.fail("spawn reply flags are not a small integer");
            break;
        }
        s.flags = static_cast<std::uint32_t>(control[3].as_int64());
        s.result = control[4];
        if (!s.result.is_pid() && !s.result.is_atom()) {
            f.fail("spawn reply result is neither a pid nor an error atom");
            break;
        }
        return Signal(std::move(s));
    }
    default: break;
    }
    return f.error();
}

std::optional<Signal> read_common(std::span<const std::uint8_t> bytes, std::size_t& offset,
                                  const etf::DecodeOptions& opts, Atom peer) {
    etf::TermReader r(bytes, offset, opts);
    std::size_t arity;
    std::int64_t op;
    if (!r.tuple(arity) || arity < 3 || !r.integer(op)) return std::nullopt;
    // A pid the sending node claims as its own process.
    auto peer_pid = [&](Pid& p) { return r.pid(p) && p.node == peer; };
    std::optional<Signal> out;
    switch (static_cast<Op>(op)) {
    case Op::send_sender: {
        Pid from, to;
        if (arity == 3 && peer_pid(from) && r.pid(to)) out = SendSignal{from, to, {}};
        break;
    }
    case Op::send: {
        Atom unused;
        Pid to;
        if (arity == 3 && r.atom(unused) && r.pid(to)) out = SendSignal{std::nullopt, to, {}};
        break;
    }
    case Op::reg_send: {
        Pid from;
        Atom unused, to;
        if (arity == 4 && peer_pid(from) && r.atom(unused) && r.atom(to)) out = RegSendSignal{from, to, {}};
        break;
    }
    case Op::alias_send: {
        Pid from;
        Ref alias;
        if (arity == 3 && peer_pid(from) && r.ref(alias)) out = AliasSendSignal{from, alias, {}};
        break;
    }
    case Op::spawn_reply: {
        Ref req;
        Pid to, new_pid;
        std::int64_t flags;
        Atom error;
        if (arity != 5 || !r.ref(req) || !r.pid(to) || !r.integer(flags) || flags < 0 || flags > 0xFFFF) break;
        const std::size_t result_at = r.offset();
        if (r.pid(new_pid)) {
            out = SpawnReplySignal{req, to, static_cast<std::uint32_t>(flags), Term(new_pid)};
        } else {
            etf::TermReader again(bytes, result_at, opts);
            if (!again.atom(error)) break;
            offset = again.offset();
            return SpawnReplySignal{req, to, static_cast<std::uint32_t>(flags), Term(error)};
        }
        break;
    }
    case Op::payload_monitor_p_exit: {
        Pid from_pid, to;
        Atom from_name;
        Ref ref;
        if (arity != 4) break;
        const std::size_t from_at = r.offset();
        Term from;
        if (peer_pid(from_pid)) {
            from = from_pid;
        } else {
            etf::TermReader again(bytes, from_at, opts);
            if (!again.atom(from_name) || !again.pid(to) || !again.ref(ref)) break;
            offset = again.offset();
            return MonitorExitSignal{from_name, to, ref, {}};
        }
        if (r.pid(to) && r.ref(ref)) out = MonitorExitSignal{std::move(from), to, ref, {}};
        break;
    }
    case Op::spawn_request: {
        Ref req;
        Pid from, group_leader;
        std::size_t mfa_arity;
        Atom module, function;
        std::int64_t fn_arity;
        if (arity != 6 || !r.ref(req) || !peer_pid(from) || !r.pid(group_leader) || !r.tuple(mfa_arity) ||
            mfa_arity != 3 || !r.atom(module) || !r.atom(function) || !r.integer(fn_arity) || fn_arity < 0 || fn_arity > 255)
            break;
        std::size_t at = r.offset();
        auto options = etf::decode_at(bytes, at, opts);
        if (!options || !options->is_proper_list()) break;
        offset = at;
        return SpawnRequestSignal{req, from, group_leader, module, function, static_cast<std::uint32_t>(fn_arity),
                                  std::move(*options), {}};
    }
    default: break;
    }
    if (out) offset = r.offset();
    return out;
}

bool payload_fits(const Signal& s) {
    if (const auto* req = std::get_if<SpawnRequestSignal>(&s))
        return req->args.is_proper_list() && req->args.as_list().size() == req->arity;
    return true;
}

Term* payload_field(Signal& s) {
    return std::visit(
        [](auto& sig) -> Term* {
            using S = std::decay_t<decltype(sig)>;
            if constexpr (std::is_same_v<S, SendSignal> || std::is_same_v<S, RegSendSignal> ||
                          std::is_same_v<S, AliasSendSignal>)
                return &sig.message;
            else if constexpr (std::is_same_v<S, SpawnRequestSignal>)
                return &sig.args;
            else if constexpr (std::is_same_v<S, MonitorExitSignal>)
                return &sig.reason;
            else
                return nullptr;
        },
        s);
}

namespace {

// A spawn request's {Module, Function, Arity}.
struct Mfa {
    Atom module;
    Atom function;
    std::uint32_t arity;
};

// Every signal's control tuple, once: calls `make(payload, op, fields...)` with the payload
// (nullptr when the operation has none) and the tuple's elements after the operation.
template <class Make>
decltype(auto) with_control(const Signal& signal, const SendOptions& opts, Make&& make) {
    const Atom unused = atoms::empty;
    return std::visit(
        [&](const auto& s) -> decltype(auto) {
            using S = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<S, SendSignal>) {
                if (s.from && opts.send_sender) return make(&s.message, Op::send_sender, *s.from, s.to);
                return make(&s.message, Op::send, unused, s.to);
            } else if constexpr (std::is_same_v<S, RegSendSignal>) {
                return make(&s.message, Op::reg_send, s.from, unused, s.to);
            } else if constexpr (std::is_same_v<S, AliasSendSignal>) {
                return make(&s.message, Op::alias_send, s.from, s.alias);
            } else if constexpr (std::is_same_v<S, LinkSignal>) {
                return make(nullptr, Op::link, s.from, s.to);
            } else if constexpr (std::is_same_v<S, UnlinkIdSignal>) {
                return make(nullptr, Op::unlink_id, s.id, s.from, s.to);
            } else if constexpr (std::is_same_v<S, UnlinkIdAckSignal>) {
                return make(nullptr, Op::unlink_id_ack, s.id, s.from, s.to);
            } else if constexpr (std::is_same_v<S, ExitSignal>) {
                if (opts.exit_payload)
                    return make(&s.reason, s.via_link ? Op::payload_exit : Op::payload_exit2, s.from, s.to);
                return make(nullptr, s.via_link ? Op::exit : Op::exit2, s.from, s.to, s.reason);
            } else if constexpr (std::is_same_v<S, MonitorSignal>) {
                return make(nullptr, Op::monitor_p, s.from, s.to, s.ref);
            } else if constexpr (std::is_same_v<S, DemonitorSignal>) {
                return make(nullptr, Op::demonitor_p, s.from, s.to, s.ref);
            } else if constexpr (std::is_same_v<S, MonitorExitSignal>) {
                if (opts.exit_payload) return make(&s.reason, Op::payload_monitor_p_exit, s.from, s.to, s.ref);
                return make(nullptr, Op::monitor_p_exit, s.from, s.to, s.ref, s.reason);
            } else if constexpr (std::is_same_v<S, GroupLeaderSignal>) {
                return make(nullptr, Op::group_leader, s.leader, s.to);
            } else if constexpr (std::is_same_v<S, SpawnRequestSignal>) {
                return make(&s.args, Op::spawn_request, s.req_id, s.from, s.group_leader,
                            Mfa{s.module, s.function, s.arity}, s.options);
            } else {
                static_assert(std::is_same_v<S, SpawnReplySignal>);
                return make(nullptr, Op::spawn_reply, s.req_id, s.to, s.flags, s.result);
            }
        },
        signal);
}

Term as_term(const Mfa& m) { return tuple(m.module, m.function, m.arity); }
template <class T>
const T& as_term(const T& x) {
    return x;
}

void write(etf::TermWriter& w, const Pid& p) { w.pid(p); }
void write(etf::TermWriter& w, const Ref& r) { w.ref(r); }
void write(etf::TermWriter& w, Atom a) { w.atom(a); }
void write(etf::TermWriter& w, const Term& t) { w.term(t); }
void write(etf::TermWriter& w, std::uint32_t v) { w.integer(v); }
void write(etf::TermWriter& w, std::uint64_t v) { w.term(Term(v)); } // may need a bignum
void write(etf::TermWriter& w, const Mfa& m) {
    w.tuple(3);
    w.atom(m.module);
    w.atom(m.function);
    w.integer(m.arity);
}

} // namespace

Encoded encode(const Signal& signal, const SendOptions& opts) {
    return with_control(signal, opts, [](const Term* payload, Op op, const auto&... fields) -> Encoded {
        Term control = tuple(Term(static_cast<int>(op)), as_term(fields)...);
        if (payload) return {std::move(control), *payload};
        return {std::move(control), std::nullopt};
    });
}

const Term* encode_control_to(std::vector<std::uint8_t>& out, const Signal& signal, const SendOptions& opts,
                              etf::AtomCacheOut* atoms) {
    return with_control(signal, opts, [&](const Term* payload, Op op, const auto&... fields) {
        etf::TermWriter w(out, atoms);
        w.tuple(1 + sizeof...(fields));
        w.integer(static_cast<int>(op));
        (write(w, fields), ...);
        return payload;
    });
}

std::size_t estimated_size(const Signal& s) {
    constexpr std::size_t control = 64;
    return std::visit(
        [](const auto& sig) -> std::size_t {
            using T = std::decay_t<decltype(sig)>;
            if constexpr (std::is_same_v<T, SendSignal> || std::is_same_v<T, RegSendSignal> ||
                          std::is_same_v<T, AliasSendSignal>)
                return control + etf::encoded_size(sig.message);
            else
                return control;
        },
        s);
}

} // namespace edist::dist
