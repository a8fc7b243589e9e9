// Arbitrary bytes as the stream a connected peer sends: framing, distribution headers with
// atom-cache references, fragments (interleaved, out of order, oversized), control messages.
// Byte 0 picks the negotiated framing and limits; byte 1 how the rest is cut into reads.
//
// Checked: no crash or sanitizer report; after an error the receiver is not fed again (the
// connection would be closed); what it buffers stays within the configured limits; every
// message it hands out parses or is refused, and a parsed signal encodes again.
#include "dist/channel.hpp"
#include "dist/control.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace edist;
using namespace edist::dist;

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
    Receiver receiver(peer, cfg);
    std::vector<Message> out;
    for (std::size_t i = 2; i < size; i += chunk) {
        const std::size_t n = std::min(chunk, size - i);
        auto r = receiver.feed(std::span(data + i, n), out);
        // Framing, a partial packet and the sequences in flight are all it may hold.
        const std::size_t bound = cfg.max_fragment_sequences * (cfg.max_message_size + 64) + cfg.max_message_size + 64;
        if (receiver.buffered_bytes() > bound) std::abort();
        for (const auto& m : out) {
            auto s = parse(m.control, m.payload, peer);
            if (s.ok()) (void)encode(*s, cfg.send);
        }
        out.clear();
        if (!r) break;
    }
    return 0;
}
