// A connected distribution channel, sans I/O: stream bytes in, messages out; messages in,
// stream bytes out. It knows 4-byte framing, ticks, the three packet forms (pass-through,
// distribution header with atom-cache refs, fragments) and nothing about sockets or clocks.
#pragma once

#include "dist/control.hpp"

#include <edist/etf.hpp>
#include <edist/term.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace edist::etf {
class AtomCacheOut;
}

namespace edist::dist {

// What the handshake negotiated, as far as framing cares.
struct ChannelConfig {
    bool dist_header = true; // DFLAG_DIST_HDR_ATOM_CACHE or DFLAG_FRAGMENTS: headers, else 'p'
    bool fragments = true;   // DFLAG_FRAGMENTS: the peer reassembles fragments
    SendOptions send;        // SEND_SENDER / EXIT_PAYLOAD
    std::size_t fragment_size = 64 * 1024;            // OTP's size
    std::size_t max_message_size = std::size_t(256) << 20; // received, after reassembly
    std::size_t max_fragment_sequences = 1024;        // interleaved sequences in flight
    // What all unfinished fragment sequences may hold together: a peer that starts many large
    // messages and never finishes them is cut off here, not when memory runs out.
    std::size_t max_reassembly_bytes = std::size_t(256) << 20;
    // Hand the common operations over already parsed (Message::signal, see read_common),
    // not as a control tuple to parse().
    bool parse_signals = false;
    // DFLAG_DIST_HDR_ATOM_CACHE: headers may carry atom-cache references, and Sender makes
    // them (the atoms of each message go as two-byte references to the peer's cache).
    bool atom_cache_refs = true;
    // Receiver::direct_buffer() offers the rest of bodies this large (and larger).
    std::size_t direct_read_min = 16 * 1024;
    // Sender::encode(signal, Output&) writes binaries this large from where they are.
    std::size_t share_binaries_from = 16 * 1024;
};

// A received message: the control tuple and, for operations that have one, the payload.
struct Message {
    Term control;
    std::optional<Term> payload;
    // With ChannelConfig::parse_signals, a common operation comes parsed here (payload
    // included) instead, and `control` and `payload` are left empty.
    std::optional<Signal> signal;
};

// Received bytes: grows without zero-filling what it adds (received bytes are written over it
// at once), and becomes a binary term's storage without a copy.
class ByteBuffer {
public:
    ByteBuffer() = default;
    ByteBuffer(ByteBuffer&& o) noexcept
        : p_(std::move(o.p_)), size_(std::exchange(o.size_, 0)), cap_(std::exchange(o.cap_, 0)) {}
    ByteBuffer& operator=(ByteBuffer&& o) noexcept {
        p_ = std::move(o.p_);
        size_ = std::exchange(o.size_, 0);
        cap_ = std::exchange(o.cap_, 0);
        return *this;
    }

    std::uint8_t* data() noexcept { return p_.get(); }
    const std::uint8_t* data() const noexcept { return p_.get(); }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return cap_; }
    std::uint8_t operator[](std::size_t i) const noexcept { return p_[i]; }
    std::span<const std::uint8_t> bytes() const noexcept { return {p_.get(), size_}; }
    // Room for `n` bytes in all (exactly that much when it grows).
    void reserve(std::size_t n);
    // Appends, growing geometrically.
    void append(std::span<const std::uint8_t> more);
    // The room after the bytes, and taking `n` bytes written there.
    std::span<std::uint8_t> spare() noexcept { return {p_.get() + size_, cap_ - size_}; }
    void commit(std::size_t n) noexcept { size_ += n; }
    void clear() noexcept { size_ = 0; }
    // The bytes as a binary; leaves the buffer empty.
    Term take_binary();

private:
    std::unique_ptr<std::uint8_t[]> p_;
    std::size_t size_ = 0;
    std::size_t cap_ = 0;
};

class Receiver {
public:
    Receiver(Atom peer, const ChannelConfig& config);

    // Consumes stream bytes, appending every complete message to `out`. An error means the
    // peer broke the protocol; the connection must be closed (OTP does the same).
    Result<std::size_t> feed(std::span<const std::uint8_t> bytes, std::vector<Message>& out);

    // Reading without the copy feed() makes. Inside a large packet, direct_buffer() is where
    // the rest of its body goes (its own storage, the message's in the end); the caller reads
    // into it and passes the count to commit_direct(), which does what feed() would have. The
    // span is empty when there is no such body (read elsewhere, and feed()), and valid until
    // the next call of any of these.
    std::span<std::uint8_t> direct_buffer();
    Result<std::size_t> commit_direct(std::size_t n, std::vector<Message>& out);
    // How much of a buffer of `size` bytes the next read into it should fill: all of it, but
    // a little only just after a large packet, so that the next one's header comes alone and
    // its body can be read directly.
    std::size_t read_size(std::size_t size) const noexcept {
        return last_packet_large_ ? std::min(size, after_large_read) : size;
    }
    static constexpr std::size_t after_large_read = 4 * 1024;

    // Whether anything (a tick included) arrived since the last call; resets the flag.
    bool take_activity() noexcept {
        bool a = activity_;
        activity_ = false;
        return a;
    }
    std::size_t buffered_bytes() const noexcept;

private:
    Result<bool> continued(std::size_t n, std::vector<Message>& out);
    Result<bool> body_complete(std::vector<Message>& out);
    Result<bool> packet(std::span<const std::uint8_t> p, ByteBuffer* storage, std::vector<Message>& out);
    Result<bool> header_message(std::span<const std::uint8_t> p, ByteBuffer* storage, std::vector<Message>& out);
    Result<bool> begin_continuation(std::span<const std::uint8_t> header, std::size_t size);
    Error reassembly_limit_error() const;
    Result<bool> end_continuation(std::vector<Message>& out);
    Result<std::size_t> read_atom_cache_refs(std::span<const std::uint8_t> p, std::size_t pos,
                                             std::vector<Atom>& refs);
    Result<bool> decode_message(std::span<const std::uint8_t> p, ByteBuffer* storage,
                                std::size_t offset, const std::vector<Atom>& refs, bool versioned,
                                std::vector<Message>& out);

    Atom peer_;
    ChannelConfig config_;
    bool activity_ = false;

    // Framing state: the 4-byte length being read, then the body.
    std::array<std::uint8_t, 4> len_bytes_{};
    std::size_t len_have_ = 0;
    std::size_t body_len_ = 0;
    ByteBuffer body_;
    bool in_body_ = false;
    bool last_packet_large_ = false;

    std::array<Atom, 2048> atom_cache_{};
    std::array<bool, 2048> atom_cache_set_{};

    // A fragmented message being reassembled. `data` starts with the first fragment's whole
    // packet (its header included, so that packet needs no copy); the message is at `offset`.
    struct Sequence {
        std::uint64_t next_fragment;
        std::vector<Atom> refs;
        ByteBuffer data;
        std::size_t offset;
    };
    std::unordered_map<std::uint64_t, Sequence> sequences_;
    std::size_t sequence_bytes_ = 0;
    // While a continuation fragment's body streams in, its bytes go straight to the end of its
    // sequence's data instead of through body_ (one copy per byte instead of two).
    Sequence* continuing_ = nullptr;
    std::uint64_t continuing_seq_ = 0;
    std::uint64_t continuing_fragment_ = 0;
};

// Stream bytes waiting to be written, with large binaries referred to rather than copied:
// `bytes` with each of `binaries` standing before the byte at its offset, in order. What a
// gathering write (writev) takes as it is.
struct Output {
    std::vector<std::uint8_t> bytes;
    std::vector<etf::SharedBinary> binaries;
    std::size_t binary_bytes = 0; // of all `binaries`

    std::size_t size() const noexcept { return bytes.size() + binary_bytes; }
    bool empty() const noexcept { return bytes.empty() && binaries.empty(); }
    void clear() noexcept {
        bytes.clear();
        binaries.clear();
        binary_bytes = 0;
    }
    // Calls f(std::span<const std::uint8_t>) for each non-empty piece of the stream bytes from
    // `from` on (a position in size()'s count), in order, while f returns true.
    template <class F>
    void for_each_piece(std::size_t from, F&& f) const {
        std::size_t at = 0; // position in `bytes` of the next piece
        std::size_t pos = 0; // its position in the stream
        for (const etf::SharedBinary& b : binaries) {
            if (!piece(bytes.data() + at, b.offset - at, from, pos, f)) return;
            at = b.offset;
            if (!piece(b.bytes.data(), b.bytes.size(), from, pos, f)) return;
        }
        piece(bytes.data() + at, bytes.size() - at, from, pos, f);
    }
    // All of it as plain bytes.
    std::vector<std::uint8_t> flatten() const;

private:
    template <class F>
    static bool piece(const std::uint8_t* p, std::size_t n, std::size_t from, std::size_t& pos, F& f) {
        std::size_t end = pos + n;
        if (end <= from || n == 0) {
            pos = end;
            return true;
        }
        std::size_t skip = from > pos ? from - pos : 0;
        pos = end;
        return f(std::span<const std::uint8_t>(p + skip, n - skip));
    }
};

class Sender {
public:
    explicit Sender(const ChannelConfig& config);
    ~Sender();
    Sender(Sender&&) noexcept;
    Sender& operator=(Sender&&) noexcept;

    // Appends the framed packet(s) for one signal to `out` (fragmenting large payloads when the
    // peer accepts fragments). A signal that cannot be encoded (Error system_limit: a binary
    // over 4 GB) throws and leaves `out` and the atom cache as they were.
    void encode(const Signal& signal, std::vector<std::uint8_t>& out);
    // The same, except that binaries of ChannelConfig::share_binaries_from bytes or more in
    // the payload are referred to, not copied: they are written from where they are.
    void encode(const Signal& signal, Output& out);
    // A tick: an empty packet.
    static void tick(std::vector<std::uint8_t>& out) { out.insert(out.end(), 4, 0); }

private:
    void encode(const Signal& signal, std::vector<std::uint8_t>& out, std::vector<etf::SharedBinary>* shared);
    void undo(std::vector<std::uint8_t>& out, std::size_t size) noexcept;
    void fragment_shared(std::vector<std::uint8_t>& out, std::size_t start, std::size_t control_size,
                         std::vector<etf::SharedBinary>& shared, std::size_t first_shared);

    ChannelConfig config_;
    std::uint64_t next_sequence_ = 1;
    std::unique_ptr<etf::AtomCacheOut> atoms_; // with ChannelConfig::atom_cache_refs
    std::vector<std::uint8_t> cache_part_;     // the header's atom-cache part, per message
};

} // namespace edist::dist
