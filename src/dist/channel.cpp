#include "dist/channel.hpp"

#include <edist/atom.hpp>

#include <algorithm>
#include <cstring>
#include <string>

namespace edist::dist {
namespace {

constexpr std::uint8_t pass_through = 112;
constexpr std::uint8_t header_normal = 68;
constexpr std::uint8_t header_fragment = 69;
constexpr std::uint8_t header_continuation = 70;
// 131, 70, sequence id (8 bytes), fragment id (8 bytes).
constexpr std::size_t continuation_header = 18;
// Reassembly reserves room for a whole fragmented message up to this size at its first
// fragment (the fragment count times the first fragment's size); beyond it, it grows as data
// arrives, so a peer claiming many fragments cannot make us reserve much it never sends.
constexpr std::size_t reassembly_reserve_limit = std::size_t(16) << 20;

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
void put_be64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * (7 - i)));
}

// Makes room for `more` bytes after the end of `out`, growing geometrically: `out` is a
// connection's pending buffer, appended to message after message, and an exact reserve would
// reallocate (and copy everything queued) on every append.
void reserve_more(std::vector<std::uint8_t>& out, std::size_t more) {
    const std::size_t need = out.size() + more;
    if (need > out.capacity()) out.reserve(std::max(need, 2 * out.capacity()));
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
        activity_ = true;
        if (continuing_) {
            std::size_t take = std::min(n - i, body_len_);
            continuing_->data.insert(continuing_->data.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i),
                                     bytes.begin() + static_cast<std::ptrdiff_t>(i + take));
            sequence_bytes_ += take;
            body_len_ -= take;
            i += take;
            if (body_len_ == 0) {
                in_body_ = false;
                auto r = end_continuation(out);
                if (!r) return r.error();
            }
            continue;
        }
        // A continuation fragment's 18-byte header is all it takes to know where its data goes.
        std::size_t want = body_len_ - body_.size();
        if (body_.size() < continuation_header) want = std::min(want, continuation_header - body_.size());
        std::size_t take = std::min(n - i, want);
        body_.insert(body_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i),
                     bytes.begin() + static_cast<std::ptrdiff_t>(i + take));
        i += take;
        if (body_.size() == continuation_header && body_len_ > continuation_header && body_[0] == etf::version_magic &&
            body_[1] == header_continuation) {
            auto r = begin_continuation();
            if (!r) return r.error();
            body_len_ -= continuation_header;
            continue;
        }
        if (body_.size() == body_len_) {
            in_body_ = false;
            auto r = packet(std::move(body_), out);
            body_ = {};
            if (!r) return r.error();
        }
    }
    return i;
}

Result<bool> Receiver::begin_continuation() {
    const std::uint64_t seq = be64(body_.data() + 2);
    const std::uint64_t frag = be64(body_.data() + 10);
    if (frag == 0) return protocol_error("fragment id 0");
    auto it = sequences_.find(seq);
    if (it == sequences_.end()) return protocol_error("continuation of unknown fragment sequence " + std::to_string(seq));
    Sequence& s = it->second;
    if (frag != s.next_fragment)
        return protocol_error("fragment " + std::to_string(frag) + " out of order (expected " +
                              std::to_string(s.next_fragment) + ")");
    const std::size_t add = body_len_ - continuation_header;
    if (s.data.size() - s.offset + add > config_.max_message_size)
        return protocol_error("fragmented message exceeds " + std::to_string(config_.max_message_size) + " bytes");
    if (s.data.size() + add > s.data.capacity()) s.data.reserve(std::max(s.data.size() + add, 2 * s.data.capacity()));
    continuing_ = &s;
    continuing_seq_ = seq;
    continuing_fragment_ = frag;
    body_.clear();
    return true;
}

Result<bool> Receiver::end_continuation(std::vector<Message>& out) {
    Sequence& s = *continuing_;
    continuing_ = nullptr;
    s.next_fragment = continuing_fragment_ - 1;
    if (continuing_fragment_ != 1) return true;
    auto it = sequences_.find(continuing_seq_);
    sequence_bytes_ -= s.data.size();
    Term whole = binary(std::move(s.data));
    std::vector<Atom> refs = std::move(s.refs);
    const std::size_t offset = s.offset;
    sequences_.erase(it);
    return decode_message(whole, offset, refs, out);
}

Result<bool> Receiver::packet(std::vector<std::uint8_t>&& body, std::vector<Message>& out) {
    if (body[0] == pass_through) {
        Term pkt = binary(std::move(body));
        auto p = pkt.as_binary();
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
    if (body.size() < 3 || body[0] != etf::version_magic) return protocol_error("packet is neither pass-through nor headed");
    return header_message(std::move(body), out);
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

Result<bool> Receiver::header_message(std::vector<std::uint8_t>&& body, std::vector<Message>& out) {
    std::span<const std::uint8_t> p = body;
    std::uint8_t kind = p[1];
    if (kind == header_normal) {
        std::vector<Atom> refs;
        auto pos = read_atom_cache_refs(p, 2, refs);
        if (!pos) return pos.error();
        return decode_message(binary(std::move(body)), *pos, refs, out);
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
        if (frag == 1) return decode_message(binary(std::move(body)), *pos, refs, out);
        if (sequences_.count(seq)) return protocol_error("fragment sequence " + std::to_string(seq) + " restarted");
        if (sequences_.size() >= config_.max_fragment_sequences)
            return protocol_error("too many interleaved fragment sequences");
        // The packet's own buffer becomes the reassembly buffer, with room for what the
        // fragment count announces when that is plausible: full-size fragments, one sequence
        // at a time (interleaved ones, and tiny fragments, grow as their bytes arrive).
        const std::size_t chunk = p.size() - *pos;
        if (sequences_.empty() && chunk >= 4096 && frag <= reassembly_reserve_limit / chunk)
            body.reserve(*pos + std::min(frag * chunk, config_.max_message_size));
        sequence_bytes_ += body.size();
        sequences_.emplace(seq, Sequence{frag - 1, std::move(refs), std::move(body), *pos});
        return true;
    }
    // Continuations are taken apart as they stream in (feed, begin_continuation); one reaches
    // here only when it is too short to carry anything.
    return protocol_error("truncated fragment header");
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
        reserve_more(out, 7 + control_size + payload_size);
        out.resize(start + 4);
        out.insert(out.end(), {etf::version_magic, header_normal, 0});
        etf::encode_to(out, e.control);
        if (e.payload) etf::encode_to(out, *e.payload);
        put_be32(out.data() + start, static_cast<std::uint32_t>(out.size() - start - 4));
        return;
    }
    // Fragmented: the control message must sit whole in the first fragment. The message is
    // encoded once, straight into `out` after room for the first header; then each further
    // chunk is moved right to make room for its own header (last chunk first). No temporary
    // buffer, so a large message costs no fresh allocation and one extra pass over its bytes.
    constexpr std::size_t first_header = 4 + 2 + 8 + 8 + 1; // length, 131 69, seq, id, 0 refs
    constexpr std::size_t next_header = 4 + 2 + 8 + 8;      // length, 131 70, seq, id
    const std::size_t body = control_size + payload_size;
    const std::size_t first = std::min(body, std::max(config_.fragment_size, control_size));
    const std::size_t rest = body - first;
    const std::size_t total = 1 + (rest + config_.fragment_size - 1) / config_.fragment_size;
    const std::uint64_t seq = next_sequence_++;
    reserve_more(out, first_header + body + (total - 1) * next_header);
    out.resize(start + first_header);
    etf::encode_to(out, e.control);
    etf::encode_to(out, *e.payload);
    out.resize(start + first_header + body + (total - 1) * next_header);
    auto header = [&](std::size_t at, std::uint8_t kind, std::uint64_t id, std::size_t chunk) {
        std::uint8_t* h = out.data() + at;
        const std::size_t header_size = kind == header_fragment ? first_header : next_header;
        put_be32(h, static_cast<std::uint32_t>(header_size - 4 + chunk));
        h[4] = etf::version_magic;
        h[5] = kind;
        put_be64(h + 6, seq);
        put_be64(h + 14, id);
        if (kind == header_fragment) h[22] = 0; // no atom cache refs
    };
    // Chunk k (k >= 1) holds body bytes [first + (k-1)F, ...) and carries fragment id total-k.
    const std::uint8_t* base = out.data() + start + first_header;
    for (std::size_t k = total - 1; k >= 1; --k) {
        const std::size_t from = first + (k - 1) * config_.fragment_size;
        const std::size_t chunk = std::min(config_.fragment_size, body - from);
        const std::size_t at = start + first_header + from + (k - 1) * next_header; // its header
        std::memmove(out.data() + at + next_header, base + from, chunk);
        header(at, header_continuation, total - k, chunk);
    }
    header(start, header_fragment, total, first);
}

} // namespace edist::dist
