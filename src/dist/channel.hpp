// A connected distribution channel, sans I/O: stream bytes in, messages out; messages in,
// stream bytes out. It knows 4-byte framing, ticks, the three packet forms (pass-through,
// distribution header with atom-cache refs, fragments) and nothing about sockets or clocks.
#pragma once

#include "dist/control.hpp"

#include <edist/etf.hpp>
#include <edist/term.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace edist::dist {

// What the handshake negotiated, as far as framing cares.
struct ChannelConfig {
    bool dist_header = true; // DFLAG_DIST_HDR_ATOM_CACHE or DFLAG_FRAGMENTS: headers, else 'p'
    bool fragments = true;   // DFLAG_FRAGMENTS: the peer reassembles fragments
    SendOptions send;        // SEND_SENDER / EXIT_PAYLOAD
    std::size_t fragment_size = 64 * 1024;            // OTP's size
    std::size_t max_message_size = std::size_t(256) << 20; // received, after reassembly
    std::size_t max_fragment_sequences = 1024;        // interleaved sequences in flight
    // Hand the common operations over already parsed (Message::signal, see read_common),
    // not as a control tuple to parse().
    bool parse_signals = false;
};

// A received message: the control tuple and, for operations that have one, the payload.
struct Message {
    Term control;
    std::optional<Term> payload;
    // With ChannelConfig::parse_signals, a common operation comes parsed here (payload
    // included) instead, and `control` and `payload` are left empty.
    std::optional<Signal> signal;
};

class Receiver {
public:
    Receiver(Atom peer, const ChannelConfig& config);

    // Consumes stream bytes, appending every complete message to `out`. An error means the
    // peer broke the protocol; the connection must be closed (OTP does the same).
    Result<std::size_t> feed(std::span<const std::uint8_t> bytes, std::vector<Message>& out);

    // Whether anything (a tick included) arrived since the last call; resets the flag.
    bool take_activity() noexcept {
        bool a = activity_;
        activity_ = false;
        return a;
    }
    std::size_t buffered_bytes() const noexcept;

private:
    Result<bool> packet(std::span<const std::uint8_t> p, std::vector<std::uint8_t>* storage, std::vector<Message>& out);
    Result<bool> header_message(std::span<const std::uint8_t> p, std::vector<std::uint8_t>* storage,
                                std::vector<Message>& out);
    Result<bool> begin_continuation(std::span<const std::uint8_t> header, std::size_t size);
    Result<bool> end_continuation(std::vector<Message>& out);
    Result<std::size_t> read_atom_cache_refs(std::span<const std::uint8_t> p, std::size_t pos,
                                             std::vector<Atom>& refs);
    Result<bool> decode_message(std::span<const std::uint8_t> p, std::vector<std::uint8_t>* storage,
                                std::size_t offset, const std::vector<Atom>& refs, bool versioned,
                                std::vector<Message>& out);

    Atom peer_;
    ChannelConfig config_;
    bool activity_ = false;

    // Framing state: the 4-byte length being read, then the body.
    std::array<std::uint8_t, 4> len_bytes_{};
    std::size_t len_have_ = 0;
    std::size_t body_len_ = 0;
    std::vector<std::uint8_t> body_;
    bool in_body_ = false;

    std::array<Atom, 2048> atom_cache_{};
    std::array<bool, 2048> atom_cache_set_{};

    // A fragmented message being reassembled. `data` starts with the first fragment's whole
    // packet (its header included, so that packet needs no copy); the message is at `offset`.
    struct Sequence {
        std::uint64_t next_fragment;
        std::vector<Atom> refs;
        std::vector<std::uint8_t> data;
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

class Sender {
public:
    explicit Sender(const ChannelConfig& config) : config_(config) {}

    // Appends the framed packet(s) for one signal to `out` (fragmenting large payloads when the
    // peer accepts fragments).
    void encode(const Signal& signal, std::vector<std::uint8_t>& out);
    // A tick: an empty packet.
    static void tick(std::vector<std::uint8_t>& out) { out.insert(out.end(), 4, 0); }

private:
    ChannelConfig config_;
    std::uint64_t next_sequence_ = 1;
};

} // namespace edist::dist
