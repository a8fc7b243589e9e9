#include "dist/channel.hpp"

#include <edist/atom.hpp>

#include <algorithm>
#include <string>

namespace edist::dist {
namespace {

constexpr std::uint8_t pass_through = 112;
constexpr std::uint8_t header_normal = 68;
constexpr std::uint8_t header_fragment = 69;
constexpr std::uint8_t header_continuation = 70;

Error protocol_error(std::string what) { return Error(atoms::badarg, "distribution protocol: " + std::move(what)); }

std::uint64_t be64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}
void put_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}
void put_be64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

} // namespace

Receiver::Receiver(Atom peer, const ChannelConfig& config) : peer_(peer), config_(config) {}

std::size_t Receiver::buffered_bytes() const noexcept { return body_.size() + sequence_bytes_; }

Result<std::size_t> Receiver::feed(std::span<const std::uint8_t> bytes, std::vector<Message>& out) {
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    while (i < n) {
        if (!in_body_) {
            while (len_have_ < 4 && i < n) len_bytes_[len_have_++] = bytes[i++];
            if (len_have_ < 4) break;
            len_have_ = 0;
            activity_ = true;
            std::size_t len = (std::size_t(len_bytes_[0]) << 24) | (std::size_t(len_bytes_[1]) << 16) |
                              (std::size_t(len_bytes_[2]) << 8) | len_bytes_[3];
            if (len == 0) continue; // a tick
            if (len > config_.max_message_size + 64)
                return protocol_error("packet of " + std::to_string(len) + " bytes exceeds the limit of " +
                                      std::to_string(config_.max_message_size));
            body_len_ = len;
            body_.clear();
            // Grow with what actually arrives, not with what the header claims.
            body_.reserve(std::min<std::size_t>(len, 1 << 20));
            in_body_ = true;
            continue;
        }
        std::size_t take = std::min(n - i, body_len_ - body_.size());
        body_.insert(body_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i),
                     bytes.begin() + static_cast<std::ptrdiff_t>(i + take));
        i += take;
        activity_ = true;
        if (body_.size() == body_len_) {
            in_body_ = false;
            Term pkt = binary(std::move(body_));
            body_ = {};
            auto r = packet(std::move(pkt), out);
            if (!r) return r.error();
        }
    }
    return i;
}

Result<bool> Receiver::packet(Term pkt, std::vector<Message>& out) {
    auto p = pkt.as_binary();
    if (p[0] == pass_through) {
        if (p.size() < 2 || p[1] != etf::version_magic) return protocol_error("pass-through packet without term");
        std::size_t pos = 2;
        auto control = etf::decode_at(p, pos, {}, &pkt);
        if (!control) return control.error();
        std::optional<Term> payload;
        if (pos < p.size()) {
            if (p[pos] != etf::version_magic) return protocol_error("pass-through payload without version byte");
            ++pos;
            auto msg = etf::decode_at(p, pos, {}, &pkt);
            if (!msg) return msg.error();
            payload = std::move(*msg);
        }
        if (pos != p.size()) return protocol_error("trailing bytes after the payload");
        out.push_back({std::move(*control), std::move(payload)});
        return true;
    }
    if (p.size() < 3 || p[0] != etf::version_magic) return protocol_error("packet is neither pass-through nor headed");
    return header_message(std::move(pkt), out);
}

Result<std::size_t> Receiver::read_atom_cache_refs(std::span<const std::uint8_t> p, std::size_t pos,
                                                   std::vector<Atom>& refs) {
    if (pos >= p.size()) return protocol_error("truncated distribution header");
    std::size_t count = p[pos++];
    if (count == 0) return pos;
    std::size_t flags_at = pos;
    std::size_t flags_len = count / 2 + 1;
    if (p.size() - pos < flags_len) return protocol_error("truncated atom cache flags");
    auto nibble = [&](std::size_t i) -> unsigned {
        std::uint8_t b = p[flags_at + i / 2];
        return i % 2 == 0 ? (b & 0x0F) : (b >> 4);
    };
    bool long_atoms = nibble(count) & 1;
    pos += flags_len;
    refs.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        unsigned f = nibble(i);
        if (pos >= p.size()) return protocol_error("truncated atom cache reference");
        std::size_t slot = (f & 7) * 256 + p[pos++];
        if (f & 8) {
            std::size_t len_bytes = long_atoms ? 2 : 1;
            if (p.size() - pos < len_bytes) return protocol_error("truncated atom cache entry");
            std::size_t len = long_atoms ? (std::size_t(p[pos]) << 8 | p[pos + 1]) : p[pos];
            pos += len_bytes;
            if (p.size() - pos < len) return protocol_error("truncated atom text in cache entry");
            std::string_view text(reinterpret_cast<const char*>(p.data() + pos), len);
            pos += len;
            if (!is_valid_atom_text(text)) return protocol_error("invalid atom text in cache entry");
            Atom a;
            if (!Atom::try_intern(text, a)) return Error(atoms::system_limit, "atom table is full");
            atom_cache_[slot] = a;
            atom_cache_set_[slot] = true;
        } else if (!atom_cache_set_[slot]) {
            return protocol_error("reference to empty atom cache slot " + std::to_string(slot));
        }
        refs.push_back(atom_cache_[slot]);
    }
    return pos;
}

Result<bool> Receiver::header_message(Term pkt, std::vector<Message>& out) {
    auto p = pkt.as_binary();
    std::uint8_t kind = p[1];
    if (kind == header_normal) {
        std::vector<Atom> refs;
        auto pos = read_atom_cache_refs(p, 2, refs);
        if (!pos) return pos.error();
        return decode_message(pkt, *pos, refs, out);
    }
    if (kind != header_fragment && kind != header_continuation)
        return protocol_error("unknown distribution header " + std::to_string(kind));
    if (p.size() < 18) return protocol_error("truncated fragment header");
    std::uint64_t seq = be64(p.data() + 2);
    std::uint64_t frag = be64(p.data() + 10);
    if (frag == 0) return protocol_error("fragment id 0");
    if (kind == header_fragment) {
        std::vector<Atom> refs;
        auto pos = read_atom_cache_refs(p, 18, refs);
        if (!pos) return pos.error();
        if (frag == 1) return decode_message(pkt, *pos, refs, out);
        if (sequences_.count(seq)) return protocol_error("fragment sequence " + std::to_string(seq) + " restarted");
        if (sequences_.size() >= config_.max_fragment_sequences)
            return protocol_error("too many interleaved fragment sequences");
        Sequence s{frag - 1, std::move(refs), {}};
        s.data.assign(p.begin() + static_cast<std::ptrdiff_t>(*pos), p.end());
        sequence_bytes_ += s.data.size();
        sequences_.emplace(seq, std::move(s));
        return true;
    }
    auto it = sequences_.find(seq);
    if (it == sequences_.end()) return protocol_error("continuation of unknown fragment sequence " + std::to_string(seq));
    Sequence& s = it->second;
    if (frag != s.next_fragment)
        return protocol_error("fragment " + std::to_string(frag) + " out of order (expected " +
                              std::to_string(s.next_fragment) + ")");
    std::size_t add = p.size() - 18;
    if (s.data.size() + add > config_.max_message_size)
        return protocol_error("fragmented message exceeds " + std::to_string(config_.max_message_size) + " bytes");
    if (s.data.size() + add > s.data.capacity()) s.data.reserve(std::max(s.data.size() + add, 2 * s.data.capacity()));
    s.data.insert(s.data.end(), p.begin() + 18, p.end());
    sequence_bytes_ += add;
    s.next_fragment = frag - 1;
    if (frag != 1) return true;
    sequence_bytes_ -= s.data.size();
    Term whole = binary(std::move(s.data));
    std::vector<Atom> refs = std::move(s.refs);
    sequences_.erase(it);
    return decode_message(whole, 0, refs, out);
}

Result<bool> Receiver::decode_message(const Term& owner, std::size_t offset, const std::vector<Atom>& refs,
                                      std::vector<Message>& out) {
    auto p = owner.as_binary();
    etf::AtomCacheRefs cache{refs};
    etf::DecodeOptions opts;
    opts.atom_cache = &cache;
    auto control = etf::decode_at(p, offset, opts, &owner);
    if (!control) return control.error();
    std::optional<Term> payload;
    if (offset < p.size()) {
        auto msg = etf::decode_at(p, offset, opts, &owner);
        if (!msg) return msg.error();
        payload = std::move(*msg);
    }
    if (offset != p.size()) return protocol_error("trailing bytes after the payload");
    out.push_back({std::move(*control), std::move(payload)});
    return true;
}

void Sender::encode(const Signal& signal, std::vector<std::uint8_t>& out) {
    Encoded e = dist::encode(signal, config_.send);
    const std::size_t start = out.size();
    if (!config_.dist_header) {
        out.resize(start + 4);
        out.push_back(pass_through);
        out.push_back(etf::version_magic);
        etf::encode_to(out, e.control);
        if (e.payload) {
            out.push_back(etf::version_magic);
            etf::encode_to(out, *e.payload);
        }
        put_be32(out.data() + start, static_cast<std::uint32_t>(out.size() - start - 4));
        return;
    }
    std::size_t control_size = etf::encoded_size(e.control);
    std::size_t payload_size = e.payload ? etf::encoded_size(*e.payload) : 0;
    if (!config_.fragments || 3 + control_size + payload_size <= config_.fragment_size) {
        out.reserve(start + 7 + control_size + payload_size);
        out.resize(start + 4);
        out.insert(out.end(), {etf::version_magic, header_normal, 0});
        etf::encode_to(out, e.control);
        if (e.payload) etf::encode_to(out, *e.payload);
        put_be32(out.data() + start, static_cast<std::uint32_t>(out.size() - start - 4));
        return;
    }
    // Fragmented: the control message must sit whole in the first fragment.
    std::vector<std::uint8_t> body;
    body.reserve(control_size + payload_size);
    etf::encode_to(body, e.control);
    etf::encode_to(body, *e.payload);
    const std::size_t first = std::max(config_.fragment_size, control_size);
    const std::size_t rest = body.size() > first ? body.size() - first : 0;
    const std::uint64_t total = 1 + (rest + config_.fragment_size - 1) / config_.fragment_size;
    const std::uint64_t seq = next_sequence_++;
    std::size_t pos = 0;
    for (std::uint64_t id = total; id >= 1; --id) {
        std::size_t chunk = std::min(id == total ? first : config_.fragment_size, body.size() - pos);
        std::size_t at = out.size();
        out.resize(at + 4);
        out.push_back(etf::version_magic);
        out.push_back(id == total ? header_fragment : header_continuation);
        put_be64(out, seq);
        put_be64(out, id);
        if (id == total) out.push_back(0); // no atom cache refs
        out.insert(out.end(), body.begin() + static_cast<std::ptrdiff_t>(pos),
                   body.begin() + static_cast<std::ptrdiff_t>(pos + chunk));
        pos += chunk;
        put_be32(out.data() + at, static_cast<std::uint32_t>(out.size() - at - 4));
    }
}

} // namespace edist::dist
