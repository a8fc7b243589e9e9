#include "dist/channel.hpp"

#include <edist/atom.hpp>

#include "etf/atom_cache_out.hpp"
#include "etf/term_impl.hpp"

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
// A packet up to this size found whole in one read is decoded where it lies, without being
// copied into a buffer of its own (binaries in it are copied out instead of shared, which
// costs nothing extra at this size).
constexpr std::size_t in_place_limit = 4096;

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

void ByteBuffer::reserve(std::size_t n) {
    if (n <= cap_) return;
    auto p = std::make_unique_for_overwrite<std::uint8_t[]>(n);
    if (size_) std::memcpy(p.get(), p_.get(), size_);
    p_ = std::move(p);
    cap_ = n;
}

void ByteBuffer::append(std::span<const std::uint8_t> more) {
    if (more.empty()) return;
    if (more.size() > cap_ - size_) reserve(std::max(size_ + more.size(), 2 * cap_));
    std::memcpy(p_.get() + size_, more.data(), more.size());
    size_ += more.size();
}

Term ByteBuffer::take_binary() {
    Term t = edist::detail::adopt_bytes(std::move(p_), size_);
    size_ = cap_ = 0;
    return t;
}

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
            last_packet_large_ = len >= config_.direct_read_min;
            if (len <= n - i && len <= in_place_limit) {
                // The whole (small) packet is in this read: decode it where it lies.
                auto r = packet(bytes.subspan(i, len), nullptr, out);
                if (!r) return r.error();
                i += len;
                continue;
            }
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
            continuing_->data.append(bytes.subspan(i, take));
            i += take;
            auto r = continued(take, out);
            if (!r) return r.error();
            continue;
        }
        // A continuation fragment's 18-byte header is all it takes to know where its data goes.
        std::size_t want = body_len_ - body_.size();
        if (body_.size() < continuation_header) want = std::min(want, continuation_header - body_.size());
        std::size_t take = std::min(n - i, want);
        body_.append(bytes.subspan(i, take));
        i += take;
        auto r = body_complete(out);
        if (!r) return r.error();
    }
    return i;
}

std::span<std::uint8_t> Receiver::direct_buffer() {
    if (!in_body_) return {};
    if (continuing_) {
        if (body_len_ < config_.direct_read_min) return {};
        ByteBuffer& d = continuing_->data; // begin_continuation made room for the whole body
        return d.spare().first(body_len_);
    }
    // The first bytes decide whether this is a continuation, whose data goes elsewhere.
    const std::size_t rest = body_len_ - body_.size();
    if (body_.size() < continuation_header || rest < config_.direct_read_min) return {};
    // Room grows with what arrives (at most doubling), not with what the header claims.
    if (body_.spare().size() < config_.direct_read_min) body_.reserve(std::min(body_len_, 2 * body_.capacity()));
    return body_.spare().first(std::min(rest, body_.spare().size()));
}

Result<std::size_t> Receiver::commit_direct(std::size_t n, std::vector<Message>& out) {
    if (n == 0) return n;
    activity_ = true;
    if (continuing_) {
        continuing_->data.commit(n);
        auto r = continued(n, out);
        if (!r) return r.error();
        return n;
    }
    body_.commit(n);
    auto r = body_complete(out);
    if (!r) return r.error();
    return n;
}

// `n` more bytes of the continuation fragment being received are at the end of its sequence.
Result<bool> Receiver::continued(std::size_t n, std::vector<Message>& out) {
    sequence_bytes_ += n;
    body_len_ -= n;
    if (body_len_ != 0) return true;
    in_body_ = false;
    return end_continuation(out);
}

// More of body_ arrived: a continuation fragment's header is complete (its data then goes to
// its sequence), or the whole packet is.
Result<bool> Receiver::body_complete(std::vector<Message>& out) {
    if (body_.size() == continuation_header && body_len_ > continuation_header && body_[0] == etf::version_magic &&
        body_[1] == header_continuation) {
        auto r = begin_continuation(body_.bytes(), body_len_);
        if (!r) return r.error();
        body_.clear();
        body_len_ -= continuation_header;
        return true;
    }
    if (body_.size() != body_len_) return true;
    in_body_ = false;
    ByteBuffer body = std::move(body_);
    return packet(body.bytes(), &body, out);
}

Error Receiver::reassembly_limit_error() const {
    return protocol_error(std::to_string(sequences_.size()) + " unfinished fragmented messages would hold more than " +
                          std::to_string(config_.max_reassembly_bytes) + " bytes");
}

// A continuation fragment of `size` bytes (header included) starts: checks it against its
// sequence and makes it the one the following bytes are appended to.
Result<bool> Receiver::begin_continuation(std::span<const std::uint8_t> header, std::size_t size) {
    const std::uint64_t seq = be64(header.data() + 2);
    const std::uint64_t frag = be64(header.data() + 10);
    if (frag == 0) return protocol_error("fragment id 0");
    auto it = sequences_.find(seq);
    if (it == sequences_.end()) return protocol_error("continuation of unknown fragment sequence " + std::to_string(seq));
    Sequence& s = it->second;
    if (frag != s.next_fragment)
        return protocol_error("fragment " + std::to_string(frag) + " out of order (expected " +
                              std::to_string(s.next_fragment) + ")");
    const std::size_t add = size - continuation_header;
    if (s.data.size() - s.offset + add > config_.max_message_size)
        return protocol_error("fragmented message exceeds " + std::to_string(config_.max_message_size) + " bytes");
    if (sequence_bytes_ + add > config_.max_reassembly_bytes) return reassembly_limit_error();
    if (s.data.size() + add > s.data.capacity()) s.data.reserve(std::max(s.data.size() + add, 2 * s.data.capacity()));
    continuing_ = &s;
    continuing_seq_ = seq;
    continuing_fragment_ = frag;
    return true;
}

Result<bool> Receiver::end_continuation(std::vector<Message>& out) {
    Sequence& s = *continuing_;
    continuing_ = nullptr;
    s.next_fragment = continuing_fragment_ - 1;
    if (continuing_fragment_ != 1) return true;
    auto it = sequences_.find(continuing_seq_);
    sequence_bytes_ -= s.data.size();
    ByteBuffer whole = std::move(s.data);
    std::vector<Atom> refs = std::move(s.refs);
    const std::size_t offset = s.offset;
    sequences_.erase(it);
    return decode_message(whole.bytes(), &whole, offset, refs, false, out);
}

// `p` is one packet's body. When `storage` is given, `p` is its content and may be taken over
// (large binaries in the message then share it); otherwise `p` is only borrowed.
Result<bool> Receiver::packet(std::span<const std::uint8_t> p, ByteBuffer* storage, std::vector<Message>& out) {
    if (p[0] == pass_through) {
        if (p.size() < 2 || p[1] != etf::version_magic) return protocol_error("pass-through packet without term");
        return decode_message(p, storage, 1, {}, true, out);
    }
    if (p.size() < 3 || p[0] != etf::version_magic) return protocol_error("packet is neither pass-through nor headed");
    return header_message(p, storage, out);
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

Result<bool> Receiver::header_message(std::span<const std::uint8_t> p, ByteBuffer* storage,
                                      std::vector<Message>& out) {
    std::uint8_t kind = p[1];
    if (kind == header_normal) {
        std::vector<Atom> refs;
        auto pos = read_atom_cache_refs(p, 2, refs);
        if (!pos) return pos.error();
        return decode_message(p, storage, *pos, refs, false, out);
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
        if (frag == 1) return decode_message(p, storage, *pos, refs, false, out);
        if (sequences_.count(seq)) return protocol_error("fragment sequence " + std::to_string(seq) + " restarted");
        if (sequences_.size() >= config_.max_fragment_sequences)
            return protocol_error("too many interleaved fragment sequences");
        if (sequence_bytes_ + p.size() > config_.max_reassembly_bytes) return reassembly_limit_error();
        // The packet's own buffer becomes the reassembly buffer, with room for what the
        // fragment count announces when that is plausible: full-size fragments, one sequence
        // at a time (interleaved ones, and tiny fragments, grow as their bytes arrive).
        ByteBuffer data;
        if (storage)
            data = std::move(*storage);
        else
            data.append(p);
        const std::size_t chunk = data.size() - *pos;
        if (sequences_.empty() && chunk >= 4096 && frag <= reassembly_reserve_limit / chunk)
            data.reserve(*pos + std::min(frag * chunk, config_.max_message_size));
        sequence_bytes_ += data.size();
        sequences_.emplace(seq, Sequence{frag - 1, std::move(refs), std::move(data), *pos});
        return true;
    }
    // A continuation: larger ones are taken apart as they stream in (see feed).
    if (p.size() == continuation_header) return protocol_error("empty fragment");
    auto r = begin_continuation(p, p.size());
    if (!r) return r.error();
    continuing_->data.append(p.subspan(continuation_header));
    sequence_bytes_ += p.size() - continuation_header;
    return end_continuation(out);
}

// Decodes the control message at `offset` and the payload after it, if any (in pass-through
// packets each has its own version byte).
Result<bool> Receiver::decode_message(std::span<const std::uint8_t> p, ByteBuffer* storage,
                                      std::size_t offset, const std::vector<Atom>& refs, bool versioned,
                                      std::vector<Message>& out) {
    Term owner;
    if (storage) {
        owner = storage->take_binary();
        p = owner.as_binary();
    }
    etf::AtomCacheRefs cache{refs};
    etf::DecodeOptions opts;
    if (!refs.empty()) opts.atom_cache = &cache;
    const Term* shared = storage ? &owner : nullptr;
    if (config_.parse_signals && !versioned) {
        std::size_t at = offset;
        if (auto signal = read_common(p, at, opts, peer_)) {
            Term* slot = payload_field(*signal);
            if ((slot != nullptr) == (at < p.size())) { // else parse() says what is missing
                if (slot) {
                    auto msg = etf::decode_at(p, at, opts, shared);
                    if (!msg) return msg.error();
                    *slot = std::move(*msg);
                }
                if (at != p.size()) return protocol_error("trailing bytes after the payload");
                if (payload_fits(*signal)) {
                    out.push_back({Term(), std::nullopt, std::move(signal)});
                    return true;
                }
            }
        }
    }
    if (versioned && (offset >= p.size() || p[offset++] != etf::version_magic))
        return protocol_error("control message without version byte");
    auto control = etf::decode_at(p, offset, opts, shared);
    if (!control) return control.error();
    std::optional<Term> payload;
    if (offset < p.size()) {
        if (versioned && p[offset++] != etf::version_magic) return protocol_error("pass-through payload without version byte");
        auto msg = etf::decode_at(p, offset, opts, shared);
        if (!msg) return msg.error();
        payload = std::move(*msg);
    }
    if (offset != p.size()) return protocol_error("trailing bytes after the payload");
    out.push_back({std::move(*control), std::move(payload)});
    return true;
}

std::vector<std::uint8_t> Output::flatten() const {
    std::vector<std::uint8_t> all;
    all.reserve(size());
    for_each_piece(0, [&](std::span<const std::uint8_t> p) {
        all.insert(all.end(), p.begin(), p.end());
        return true;
    });
    return all;
}

void Sender::encode(const Signal& signal, std::vector<std::uint8_t>& out) {
    const std::size_t size = out.size();
    try {
        encode(signal, out, nullptr);
    } catch (...) {
        undo(out, size);
        throw;
    }
}

void Sender::encode(const Signal& signal, Output& out) {
    const std::size_t size = out.bytes.size();
    const std::size_t first = out.binaries.size();
    try {
        encode(signal, out.bytes, &out.binaries);
    } catch (...) {
        undo(out.bytes, size);
        out.binaries.resize(first);
        throw;
    }
    for (std::size_t i = first; i < out.binaries.size(); ++i) out.binary_bytes += out.binaries[i].bytes.size();
}

// A signal that cannot be encoded (a binary over 4 GB: system_limit) leaves nothing behind:
// not part of a packet in the stream, nor atom-cache entries the peer would never receive.
void Sender::undo(std::vector<std::uint8_t>& out, std::size_t size) noexcept {
    out.resize(size);
    if (atoms_) atoms_->abandon();
}

namespace {

// A fragment header: length, 131 69 or 70, sequence, fragment id; the first one then carries
// the atom-cache part of a distribution header.
constexpr std::size_t fragment_header = 4 + 2 + 8 + 8;

void put_fragment_header(std::uint8_t* h, std::span<const std::uint8_t> cache_part, std::uint64_t seq,
                         std::uint64_t id, std::size_t chunk) {
    const bool first = !cache_part.empty();
    put_be32(h, static_cast<std::uint32_t>(fragment_header - 4 + cache_part.size() + chunk));
    h[4] = etf::version_magic;
    h[5] = first ? header_fragment : header_continuation;
    put_be64(h + 6, seq);
    put_be64(h + 14, id);
    if (first) std::memcpy(h + fragment_header, cache_part.data(), cache_part.size());
}

// How a message body of `body` bytes whose control message takes `control_size` is cut: the
// control message sits whole in the first fragment, every other fragment but the last is
// `fragment_size` long.
struct FragmentLayout {
    std::size_t first; // bytes of the first fragment
    std::size_t total; // fragments
};
FragmentLayout fragment_layout(std::size_t body, std::size_t control_size, std::size_t fragment_size) {
    const std::size_t first = std::min(body, std::max(fragment_size, control_size));
    return {first, 1 + (body - first + fragment_size - 1) / fragment_size};
}

std::size_t shared_bytes(const std::vector<etf::SharedBinary>* shared, std::size_t from) {
    std::size_t n = 0;
    if (shared)
        for (std::size_t i = from; i < shared->size(); ++i) n += (*shared)[i].bytes.size();
    return n;
}

} // namespace

Sender::Sender(const ChannelConfig& config) : config_(config) {
    if (config_.dist_header && config_.atom_cache_refs) atoms_ = std::make_unique<etf::AtomCacheOut>();
}
Sender::~Sender() = default;
Sender::Sender(Sender&&) noexcept = default;
Sender& Sender::operator=(Sender&&) noexcept = default;

void Sender::encode(const Signal& signal, std::vector<std::uint8_t>& out, std::vector<etf::SharedBinary>* shared) {
    const std::size_t start = out.size();
    const std::size_t first_shared = shared ? shared->size() : 0;
    etf::AtomCacheOut* atoms = atoms_.get();
    if (atoms) atoms->begin(); // before anything can throw: undo() abandons this message's references
    auto payload_to = [&](const Term& payload) {
        etf::encode_to(out, payload, shared, config_.share_binaries_from, atoms);
    };
    if (!config_.dist_header) {
        out.resize(start + 4);
        out.push_back(pass_through);
        out.push_back(etf::version_magic);
        if (const Term* payload = encode_control_to(out, signal, config_.send)) {
            out.push_back(etf::version_magic);
            payload_to(*payload);
        }
        put_be32(out.data() + start,
                 static_cast<std::uint32_t>(out.size() - start - 4 + shared_bytes(shared, first_shared)));
        return;
    }
    // Encoded straight into `out` as one packet (no sizing pass: most messages are small);
    // only a message that turns out larger than a fragment is then laid out as fragments.
    // The header's atom-cache part is known once the message is written: until then one byte
    // (no references) stands in for it.
    out.resize(start + 4);
    out.insert(out.end(), {etf::version_magic, header_normal, 0});
    const Term* payload = encode_control_to(out, signal, config_.send, atoms);
    const std::size_t control_size = out.size() - start - 7;
    if (payload) payload_to(*payload);
    cache_part_.clear();
    if (atoms)
        atoms->header(cache_part_);
    else
        cache_part_.push_back(0);
    const std::size_t body = out.size() - start - 7 + shared_bytes(shared, first_shared);
    if (!config_.fragments || 2 + cache_part_.size() + body <= config_.fragment_size) {
        if (cache_part_.size() > 1) {
            out.insert(out.begin() + static_cast<std::ptrdiff_t>(start + 7), cache_part_.begin() + 1, cache_part_.end());
            out[start + 6] = cache_part_[0];
            if (shared)
                for (std::size_t i = first_shared; i < shared->size(); ++i) (*shared)[i].offset += cache_part_.size() - 1;
        }
        put_be32(out.data() + start, static_cast<std::uint32_t>(2 + cache_part_.size() + body));
        return;
    }
    if (shared && shared->size() != first_shared) return fragment_shared(out, start, control_size, *shared, first_shared);
    // Fragments: the control message must sit whole in the first one. Each chunk is moved
    // right to make room for the headers before it (last chunk first, so nothing is
    // overwritten before it moved): one pass over the bytes, no temporary buffer.
    const std::size_t first_header = fragment_header + cache_part_.size();
    const auto [first, total] = fragment_layout(body, control_size, config_.fragment_size);
    const std::uint64_t seq = next_sequence_++;
    reserve_more(out, (first_header - 7) + (total - 1) * fragment_header);
    out.resize(start + first_header + body + (total - 1) * fragment_header);
    // Chunk k holds body bytes [from, from + chunk) and carries fragment id total - k.
    const std::uint8_t* encoded = out.data() + start + 7;
    for (std::size_t k = total; k-- > 0;) {
        const std::size_t from = k == 0 ? 0 : first + (k - 1) * config_.fragment_size;
        const std::size_t chunk = k == 0 ? first : std::min(config_.fragment_size, body - from);
        const std::size_t at = k == 0 ? start : start + first_header + from + (k - 1) * fragment_header;
        std::memmove(out.data() + at + (k == 0 ? first_header : fragment_header), encoded + from, chunk);
        put_fragment_header(out.data() + at, k == 0 ? std::span<const std::uint8_t>(cache_part_) : std::span<const std::uint8_t>(),
                            seq, total - k, chunk);
    }
}

// Fragments for a message whose binaries are shared: the message (the bytes from start + 7
// and shared[first_shared...]) is taken off and laid out again, chunk by chunk, each binary
// split where the fragments cut it. Only the encoded bytes around the binaries are copied.
void Sender::fragment_shared(std::vector<std::uint8_t>& out, std::size_t start, std::size_t control_size,
                             std::vector<etf::SharedBinary>& shared, std::size_t first_shared) {
    const std::size_t skip = start + 7;
    std::vector<std::uint8_t> bytes(out.begin() + static_cast<std::ptrdiff_t>(skip), out.end());
    std::vector<etf::SharedBinary> binaries(std::make_move_iterator(shared.begin() + static_cast<std::ptrdiff_t>(first_shared)),
                                            std::make_move_iterator(shared.end()));
    std::size_t body = bytes.size();
    for (auto& b : binaries) {
        b.offset -= skip;
        body += b.bytes.size();
    }
    out.resize(start);
    shared.resize(first_shared);

    std::size_t at = 0;      // next byte of `bytes` to go out
    std::size_t next = 0;    // next binary of `binaries`
    std::size_t in_next = 0; // of which this many bytes went out already
    auto append = [&](std::size_t n) {
        while (n > 0) {
            if (next < binaries.size() && at == binaries[next].offset) {
                const etf::SharedBinary& b = binaries[next];
                const std::size_t take = std::min(n, b.bytes.size() - in_next);
                shared.push_back({out.size(), b.owner, b.bytes.subspan(in_next, take)});
                in_next += take;
                n -= take;
                if (in_next == b.bytes.size()) {
                    ++next;
                    in_next = 0;
                }
                continue;
            }
            const std::size_t until = next < binaries.size() ? binaries[next].offset : bytes.size();
            const std::size_t take = std::min(n, until - at);
            out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at),
                       bytes.begin() + static_cast<std::ptrdiff_t>(at + take));
            at += take;
            n -= take;
        }
    };
    const auto [first, total] = fragment_layout(body, control_size, config_.fragment_size);
    const std::uint64_t seq = next_sequence_++;
    for (std::size_t k = 0, from = 0; k < total; ++k) {
        const std::size_t chunk = k == 0 ? first : std::min(config_.fragment_size, body - from);
        const std::size_t header_at = out.size();
        out.resize(header_at + fragment_header + (k == 0 ? cache_part_.size() : 0));
        put_fragment_header(out.data() + header_at, k == 0 ? std::span<const std::uint8_t>(cache_part_) : std::span<const std::uint8_t>(),
                            seq, total - k, chunk);
        append(chunk);
        from += chunk;
    }
}

} // namespace edist::dist
