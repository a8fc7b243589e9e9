// EPMD wire format. Facts from OTP 25's epmd (erts/epmd/src/epmd_srv.c) and erl_epmd.erl,
// each confirmed against the installed epmd binary; see docs/EPMD.md.
#include "epmd/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace edist::epmd::protocol {
namespace {

Error err(std::string_view reason, std::string message) {
    return Error(Atom(reason), std::move(message));
}

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void put16(Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v));
}
void put(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

std::string_view as_text(std::span<const std::uint8_t> in) {
    return {reinterpret_cast<const char*>(in.data()), in.size()};
}

Error garbage(std::span<const std::uint8_t> in) {
    std::string hex;
    for (std::size_t i = 0; i < in.size() && i < 16; ++i) hex += fmt::format("{:02x}", in[i]);
    return err("garbage_from_epmd",
               fmt::format("unexpected reply from epmd ({} bytes: {}{})", in.size(), hex,
                           in.size() > 16 ? "…" : ""));
}

Error closed_early(std::string_view what) {
    return err("closed", fmt::format("epmd closed the connection before a complete {}", what));
}

// A name for PORT_PLEASE2/STOP, as the C server sees it.
bool name_chars_ok(std::string_view name) {
    int n = utf8_length(name);
    return n >= 1 && n <= static_cast<int>(MAX_NAME_CHARS);
}

}  // namespace

int utf8_length(std::string_view s) noexcept {
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    std::size_t left = s.size();
    int chars = 0;
    while (left) {
        unsigned char c = *p;
        std::size_t n;
        if (c < 0x80) {
            n = 1;
        } else if ((c & 0xE0) == 0xC0) {
            if (left < 2 || (p[1] & 0xC0) != 0x80 || c < 0xC2) return -1;
            n = 2;
        } else if ((c & 0xF0) == 0xE0) {
            if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return -1;
            if (c == 0xE0 && p[1] < 0xA0) return -1;              // overlong
            if (c == 0xED && p[1] >= 0xA0) return -1;             // surrogate
            n = 3;
        } else if ((c & 0xF8) == 0xF0) {
            if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
                (p[3] & 0xC0) != 0x80)
                return -1;
            if (c == 0xF0 && p[1] < 0x90) return -1;              // overlong
            if (c > 0xF4 || (c == 0xF4 && p[1] >= 0x90)) return -1;  // > U+10FFFF
            n = 4;
        } else {
            return -1;
        }
        p += n;
        left -= n;
        ++chars;
    }
    return chars;
}

std::optional<Error> check_alive2(const NodeInfo& node) {
    if (node.name.size() > MAXSYMLEN)
        return err("badarg", fmt::format("node name is too long ({} bytes)", node.name.size()));
    int chars = utf8_length(node.name);
    if (chars < 0) return err("badarg", "node name is not valid UTF-8");
    if (chars > static_cast<int>(MAX_NAME_CHARS))
        return err("badarg", fmt::format("node name is too long ({} characters)", chars));
    if (node.extra.size() > MAX_EXTRA_BYTES)
        return err("badarg", fmt::format("extra data is too long ({} bytes)", node.extra.size()));
    return std::nullopt;
}

// --- requests ------------------------------------------------------------------------------------

Result<Bytes> encode_request(const Request& req) {
    Bytes body;
    std::optional<Error> bad;
    auto name_only = [&](std::uint8_t op, const std::string& name) {
        if (name.empty() || name.find('\0') != std::string::npos || !name_chars_ok(name))
            bad = err("badarg", "node name must be 1..255 UTF-8 characters without NUL");
        body.push_back(op);
        put(body, name);
    };
    std::visit(
        [&](const auto& r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, Alive2Req>) {
                const NodeInfo& n = r.node;
                if (n.name.empty() || n.name.find('\0') != std::string::npos)
                    bad = err("badarg", "node name must be non-empty and free of NUL");
                else if (auto e = check_alive2(n))
                    bad = *e;
                body.push_back(ALIVE2_REQ);
                put16(body, n.port);
                body.push_back(n.node_type);
                body.push_back(n.protocol);
                put16(body, n.highest_version);
                put16(body, n.lowest_version);
                put16(body, static_cast<std::uint16_t>(n.name.size()));
                put(body, n.name);
                put16(body, static_cast<std::uint16_t>(n.extra.size()));
                put(body, n.extra);
            } else if constexpr (std::is_same_v<T, PortPlease2Req>) {
                name_only(PORT_PLEASE2_REQ, r.name);
            } else if constexpr (std::is_same_v<T, StopReq>) {
                name_only(STOP_REQ, r.name);
            } else if constexpr (std::is_same_v<T, NamesReq>) {
                body.push_back(NAMES_REQ);
            } else if constexpr (std::is_same_v<T, DumpReq>) {
                body.push_back(DUMP_REQ);
            } else {
                body.push_back(KILL_REQ);
            }
        },
        req);
    if (bad) return *bad;
    if (body.size() > MAX_REQUEST_BODY)
        return err("badarg", fmt::format("request of {} bytes exceeds epmd's {} byte limit",
                                         body.size(), MAX_REQUEST_BODY));
    Bytes out;
    out.reserve(body.size() + 2);
    put16(out, static_cast<std::uint16_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// The error texts are the lines OTP's epmd logs at level 0 for the same packets.
Result<Request> decode_request_body(std::span<const std::uint8_t> body) {
    if (body.empty()) return err("badarg", "empty epmd request");
    const std::uint8_t op = body[0];
    const std::size_t bsize = body.size();
    switch (op) {
    case ALIVE2_REQ: {
        // opcode, port, type, protocol, high, low, nlen (11 bytes), name, elen (2), extra.
        // OTP requires more than 13 bytes, so some name or extra byte must be present.
        if (bsize <= 13)
            return err("badarg", fmt::format("packet to small for request ALIVE2_REQ ({})", bsize));
        NodeInfo n;
        n.port = get16(&body[1]);
        n.node_type = body[3];
        n.protocol = body[4];
        n.highest_version = get16(&body[5]);
        n.lowest_version = get16(&body[7]);
        std::size_t nlen = get16(&body[9]);
        if (nlen + 13 > bsize) return err("badarg", "Node name size error in ALIVE2_REQ");
        std::size_t elen = get16(&body[11 + nlen]);
        if (elen + nlen + 13 > bsize) return err("badarg", "Extra info size error in ALIVE2_REQ");
        n.name.assign(reinterpret_cast<const char*>(&body[11]), nlen);
        if (n.name.find('\0') != std::string::npos)
            return err("badarg", "node name contains ascii 0 in ALIVE2_REQ");
        n.extra.assign(reinterpret_cast<const char*>(&body[13 + nlen]), elen);
        return Request{Alive2Req{std::move(n)}};
    }
    case PORT_PLEASE2_REQ:
    case STOP_REQ: {
        std::string_view rest = as_text(body.subspan(1));
        if (op == STOP_REQ) {
            // OTP compares the body as a C string: the name ends at the first NUL.
            if (rest.empty()) return err("badarg", "packet too small for request STOP_REQ (1)");
            return Request{StopReq{std::string(rest.substr(0, rest.find('\0')))}};
        }
        if (!rest.empty() && rest.back() == '\0') rest.remove_suffix(1);  // one NUL tolerated
        if (rest.empty())
            return err("badarg", fmt::format("packet too small for request PORT2_REQ ({})", rest.size() + 1));
        if (rest.find('\0') != std::string_view::npos)
            return err("badarg", "node name contains ascii 0 in PORT2_REQ");
        if (!name_chars_ok(rest))
            return err("badarg", "invalid node name in PORT2_REQ");  // not 1..255 UTF-8 characters
        return Request{PortPlease2Req{std::string(rest)}};
    }
    case NAMES_REQ: return Request{NamesReq{}};
    case DUMP_REQ: return Request{DumpReq{}};
    case KILL_REQ: return Request{KillReq{}};
    default:
        return err("badarg", "got garbage ");  // an unknown opcode, in OTP's words (and space)
    }
}

RequestParser::Event RequestParser::feed(std::span<const std::uint8_t> bytes) {
    if (finished_) return err("badarg", "epmd request already complete");
    // Never buffer more than one maximal packet, plus one byte to notice an overrun.
    std::size_t room = INBUF_SIZE - buf_.size();
    std::size_t take = std::min(room, bytes.size());
    buf_.insert(buf_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    if (buf_.size() < 2) return NeedMore{};
    std::size_t len = get16(buf_.data());
    if (len == 0 || len > MAX_REQUEST_BODY) {
        finished_ = true;
        return err("badarg", fmt::format("invalid packet size ({})", len));  // OTP's words
    }
    if (buf_.size() > len + 2) {
        // OTP's epmd hangs up when more than the announced packet arrives with it.
        finished_ = true;
        return err("badarg", fmt::format("got {} bytes in packet, expected {}", buf_.size() - 2,
                                         len));
    }
    if (buf_.size() < len + 2) return NeedMore{};
    finished_ = true;
    auto req = decode_request_body(std::span(buf_).subspan(2));
    Bytes().swap(buf_);
    if (!req) return req.error();
    return std::move(req).value();
}

// --- responses (server side) ---------------------------------------------------------------------

Bytes encode_alive2_resp(bool ok, std::uint32_t creation, bool extended) {
    Bytes out;
    out.push_back(extended ? ALIVE2_X_RESP : ALIVE2_RESP);
    out.push_back(ok ? 0 : 1);
    if (extended)
        put32(out, creation);
    else
        put16(out, static_cast<std::uint16_t>(creation));
    return out;
}

Bytes encode_port2_resp(const std::optional<NodeInfo>& node) {
    Bytes out{PORT2_RESP};
    if (!node) {
        out.push_back(1);
        return out;
    }
    out.push_back(0);
    put16(out, node->port);
    out.push_back(node->node_type);
    out.push_back(node->protocol);
    put16(out, node->highest_version);
    put16(out, node->lowest_version);
    put16(out, static_cast<std::uint16_t>(node->name.size()));
    put(out, node->name);
    put16(out, static_cast<std::uint16_t>(node->extra.size()));
    put(out, node->extra);
    return out;
}

Bytes encode_port_header(std::uint32_t epmd_port) {
    Bytes out;
    put32(out, epmd_port);
    return out;
}

std::string names_line(std::string_view name, std::uint16_t port) {
    return fmt::format("name {} at port {}\n", name, port);
}

std::string dump_line(const DumpEntry& e) {
    std::string s = e.active
                        ? fmt::format("active name     <{}> at port {}, fd = {}\n", e.name, e.port,
                                      e.fd)
                        : fmt::format("old/unused name <{}>, port = {}, fd = {} \n", e.name,
                                      e.port, e.fd);
    s.push_back('\0');
    return s;
}

// --- responses (client side) ---------------------------------------------------------------------

std::optional<Result<Alive2Resp>> parse_alive2_resp(std::span<const std::uint8_t> in, bool eof) {
    if (in.empty()) {
        if (eof) return Result<Alive2Resp>(closed_early("ALIVE2 reply"));
        return std::nullopt;
    }
    std::size_t want;
    if (in[0] == ALIVE2_X_RESP)
        want = 6;
    else if (in[0] == ALIVE2_RESP)
        want = 4;
    else
        return Result<Alive2Resp>(garbage(in));
    if (in.size() > want) return Result<Alive2Resp>(garbage(in));
    if (in.size() < want) {
        if (eof) return Result<Alive2Resp>(closed_early("ALIVE2 reply"));
        return std::nullopt;
    }
    Alive2Resp r;
    r.ok = in[1] == 0;
    r.creation = want == 6 ? get32(&in[2]) : get16(&in[2]);
    return Result<Alive2Resp>(r);
}

std::optional<Result<std::optional<NodeInfo>>> parse_port2_resp(std::span<const std::uint8_t> in,
                                                                bool eof) {
    using R = Result<std::optional<NodeInfo>>;
    auto more = [&]() -> std::optional<R> {
        if (eof) return R(closed_early("PORT2 reply"));
        return std::nullopt;
    };
    if (in.empty()) return more();
    if (in[0] != PORT2_RESP) return R(garbage(in));
    if (in.size() < 2) return more();
    if (in[1] != 0) return R(std::optional<NodeInfo>{});
    if (in.size() < 12) return more();
    NodeInfo n;
    n.port = get16(&in[2]);
    n.node_type = in[4];
    n.protocol = in[5];
    n.highest_version = get16(&in[6]);
    n.lowest_version = get16(&in[8]);
    std::size_t nlen = get16(&in[10]);
    if (in.size() < 12 + nlen + 2) return more();
    std::size_t elen = get16(&in[12 + nlen]);
    std::size_t total = 14 + nlen + elen;
    if (in.size() < total) return more();
    if (in.size() > total) return R(garbage(in));
    n.name.assign(reinterpret_cast<const char*>(&in[12]), nlen);
    n.extra.assign(reinterpret_cast<const char*>(&in[14 + nlen]), elen);
    return R(std::optional<NodeInfo>(std::move(n)));
}

namespace {

std::optional<std::uint16_t> parse_port_number(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

}  // namespace

Result<std::vector<NameEntry>> parse_names(std::span<const std::uint8_t> in,
                                           std::uint32_t& epmd_port) {
    if (in.size() < 4) return closed_early("NAMES reply");
    epmd_port = get32(in.data());
    std::string_view text = as_text(in.subspan(4));
    std::vector<NameEntry> out;
    // Like erl_epmd, skip lines that do not parse; unlike it, split at the last " at port "
    // so a name containing a space survives.
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        if (nl == std::string_view::npos) break;  // erl_epmd drops an unterminated tail too
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        constexpr std::string_view prefix = "name ", sep = " at port ";
        if (!line.starts_with(prefix)) continue;
        std::size_t at = line.rfind(sep);
        if (at == std::string_view::npos || at < prefix.size()) continue;
        auto port = parse_port_number(line.substr(at + sep.size()));
        if (!port) continue;
        out.push_back({std::string(line.substr(prefix.size(), at - prefix.size())), *port});
    }
    return out;
}

Result<DumpResult> parse_dump(std::span<const std::uint8_t> in) {
    if (in.size() < 4) return closed_early("DUMP reply");
    DumpResult r;
    r.epmd_port = get32(in.data());
    std::string_view text = as_text(in.subspan(4));
    while (!text.empty()) {
        std::size_t end = text.find('\0');
        std::string_view entry = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        r.text += entry;
        // "active name     <N> at port P, fd = F\n" / "old/unused name <N>, port = P, fd = F \n"
        DumpEntry e;
        std::string_view rest;
        if (entry.starts_with("active name     <")) {
            e.active = true;
            rest = entry.substr(17);
        } else if (entry.starts_with("old/unused name <")) {
            e.active = false;
            rest = entry.substr(17);
        } else {
            continue;
        }
        std::string_view mid = e.active ? "> at port " : ">, port = ";
        std::size_t gt = rest.rfind(mid);
        std::size_t fdpos = rest.rfind(", fd = ");
        if (gt == std::string_view::npos || fdpos == std::string_view::npos || fdpos < gt)
            continue;
        e.name = std::string(rest.substr(0, gt));
        auto port = parse_port_number(rest.substr(gt + mid.size(), fdpos - gt - mid.size()));
        std::string_view fd = rest.substr(fdpos + 7);
        while (!fd.empty() && (fd.back() == '\n' || fd.back() == ' ')) fd.remove_suffix(1);
        int fdv = 0;
        auto [p, ec] = std::from_chars(fd.data(), fd.data() + fd.size(), fdv);
        if (!port || ec != std::errc() || p != fd.data() + fd.size()) continue;
        e.port = *port;
        e.fd = fdv;
        r.entries.push_back(std::move(e));
    }
    return r;
}

std::optional<Result<bool>> parse_kill_resp(std::span<const std::uint8_t> in, bool eof) {
    std::string_view t = as_text(in);
    if (t == "OK") return Result<bool>(true);
    if (t == "NO") return Result<bool>(false);
    if (t.size() >= 2) return Result<bool>(garbage(in));
    if (!eof) return std::nullopt;
    return Result<bool>(err("closed", "epmd closed the connection without answering KILL_REQ "
                                      "(not a local peer?)"));
}

std::optional<Result<StopResult>> parse_stop_resp(std::span<const std::uint8_t> in, bool eof) {
    std::string_view t = as_text(in);
    if (t.starts_with("STOPPED")) return Result<StopResult>(StopResult::stopped);
    if (t.starts_with("NOEXIST")) {
        // OTP's epmd sends "STOPPED" right after; wait for the close to consume it.
        if (eof || t.size() >= 14) return Result<StopResult>(StopResult::noexist);
        return std::nullopt;
    }
    if (!std::string_view("NOEXISTSTOPPED").starts_with(t) &&
        !std::string_view("STOPPED").starts_with(t))
        return Result<StopResult>(garbage(in));
    if (!eof) return std::nullopt;
    if (t.empty()) return Result<StopResult>(StopResult::disallowed);
    return Result<StopResult>(closed_early("STOP reply"));
}

}  // namespace edist::epmd::protocol
