// Arbitrary bytes as the stream a connected peer sends: framing, distribution headers with
// atom-cache references, fragments (interleaved, out of order, oversized), control messages.
// Byte 0 picks the negotiated framing and limits; byte 1 how the rest is cut into reads.
//
// Checked: no crash or sanitizer report; after an error the receiver is not fed again (the
// connection would be closed); what it buffers stays within the configured limits; every
// message it hands out parses or is refused, and a parsed signal encodes again; reading as a
// connection does (large bodies straight into their storage, Receiver::direct_buffer) with the
// direct reader of common control messages (ChannelConfig::parse_signals) hands out the same
// signals, and refuses the same messages, as feed() and parse() of the control tuple.
#include "dist/channel.hpp"
#include "dist/control.hpp"

#include <edist/etf.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace edist;
using namespace edist::dist;

namespace {

// The signal a received message stands for: handed out parsed (ChannelConfig::parse_signals)
// or parsed from its control tuple.
Result<Signal> signal_of(const Message& m, Atom peer) {
    if (m.signal) return *m.signal;
    return parse(m.control, m.payload, peer);
}

// Byte-for-byte the same control tuple and payload.
bool same_bytes(const Encoded& a, const Encoded& b) {
    if (etf::encode(a.control) != etf::encode(b.control) || a.payload.has_value() != b.payload.has_value()) return false;
    return !a.payload || etf::encode(*a.payload) == etf::encode(*b.payload);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t mode = data[0];
    const std::size_t chunk = 1 + data[1] % 128;
    ChannelConfig cfg;
    cfg.dist_header = mode & 1;
    cfg.fragments = mode & 2;
    cfg.send.send_sender = mode & 4;
    cfg.send.exit_payload = mode & 8;
    cfg.max_message_size = (mode & 16) ? 4096 : 1 << 20;
    cfg.max_fragment_sequences = (mode & 32) ? 2 : 64;
    static const Atom peer = atom("fuzz@host");
    // The same bytes read two ways: `receiver` through feed() and parse() of control tuples;
    // `direct` as a connection reads (bodies of direct_read_min bytes or more straight into
    // their storage) with the common operations handed out parsed. They must agree on every
    // message, and on whether the stream is broken.
    ChannelConfig direct_cfg = cfg;
    direct_cfg.parse_signals = true;
    direct_cfg.direct_read_min = 1 + (mode >> 6) * 20; // 1, 21, 41 or 61 bytes
    Receiver receiver(peer, cfg);
    Receiver direct(peer, direct_cfg);
    // Framing, a partial packet and the sequences in flight are all either may hold.
    const std::size_t bound = cfg.max_fragment_sequences * (cfg.max_message_size + 64) + cfg.max_message_size + 64;
    std::vector<Message> out, direct_out;
    bool ok = true;
    for (std::size_t i = 2; i < size && ok; i += chunk) {
        auto r = receiver.feed(std::span(data + i, std::min(chunk, size - i)), out);
        if (receiver.buffered_bytes() > bound) std::abort();
        ok = r.ok();
    }
    bool direct_ok = true;
    for (std::size_t i = 2; i < size && direct_ok;) {
        Result<std::size_t> r = std::size_t(0);
        if (auto d = direct.direct_buffer(); !d.empty()) {
            const std::size_t n = std::min({chunk, d.size(), size - i});
            std::memcpy(d.data(), data + i, n);
            r = direct.commit_direct(n, direct_out);
            i += n;
        } else {
            const std::size_t n = std::min(direct.read_size(chunk), size - i);
            r = direct.feed(std::span(data + i, n), direct_out);
            i += n;
        }
        if (direct.buffered_bytes() > bound) std::abort();
        direct_ok = r.ok();
    }
    // Every message before the first error, whichever way the bytes were cut.
    if (ok != direct_ok || out.size() != direct_out.size()) std::abort();
    for (std::size_t k = 0; k < out.size(); ++k) {
        auto s = signal_of(out[k], peer);
        auto sd = signal_of(direct_out[k], peer);
        if (s.ok() != sd.ok()) std::abort();
        if (s.ok() && !same_bytes(encode(*s, cfg.send), encode(*sd, cfg.send))) std::abort();
    }
    return 0;
}
