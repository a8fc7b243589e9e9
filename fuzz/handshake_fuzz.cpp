// Arbitrary bytes into both handshake roles. Byte 0 picks the role and the answers the
// connection manager gives; byte 1 how the rest is cut into reads; the rest is what the peer
// "sent". Challenges are fixed to those of tests/data/handshake/erl_*.txt, so the seeds made
// from those transcripts (tests/data/handshake/seeds/) reach completion.
//
// Checked: no crash or sanitizer report, at most one Completed/Failed, nothing after it.
#include "handshake/handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace edist::handshake;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t mode = data[0];
    const std::size_t chunk = 1 + data[1] % 64;
    const bool initiator = !(mode & 1);

    Config c;
    c.cookie = "capturecookie";
    c.framing = (mode & 2) ? Framing::len32 : Framing::len16;
    if (initiator) {
        c.this_node = (mode & 0x20) ? "localhost" : "cpp@localhost";
        c.ask_for_name = mode & 0x20;
        c.this_creation = 0x0EDC0001;
        c.peer_node = "erlcap@localhost";
        c.random32 = [] { return 0x01020304u; };
    } else {
        c.this_node = "fakecpp@localhost";
        c.this_creation = 0x0EDC0002;
        c.accept_old_name = !(mode & 0x40);
        c.allowed = (mode & 0x80) ? std::vector<std::string>{"localhost"} : std::vector<std::string>{};
        c.random32 = [] { return 0x0A0B0C0Du; };
    }
    const auto state = static_cast<ConnectionState>((mode >> 2) & 3);
    const bool still_pending = mode & 0x10;

    Time now = Time{} + std::chrono::seconds(100);
    Handshake hs = initiator ? Handshake::initiate(c, now) : Handshake::accept(c, now);
    int terminal = 0, asks = 0;
    auto drain = [&] {
        while (auto e = hs.poll_event()) {
            if (std::holds_alternative<Completed>(*e) || std::holds_alternative<Failed>(*e)) {
                if (++terminal > 1) std::abort();
            } else if (terminal) {
                std::abort(); // a question after the end
            } else if (std::holds_alternative<AcceptPending>(*e)) {
                hs.accept_pending(++asks > 3 ? ConnectionState::none : state, now);
            } else if (std::holds_alternative<IsPending>(*e)) {
                hs.is_pending(still_pending, now);
            } else if (std::holds_alternative<WaitPending>(*e)) {
                hs.pending_released(now);
            }
            (void)hs.take_output();
        }
    };
    drain();
    for (std::size_t at = 2; at < size; at += chunk) {
        const std::size_t n = std::min(chunk, size - at);
        hs.receive(std::span(data + at, n), now);
        drain();
        now += std::chrono::milliseconds(data[at] * 10);
        hs.handle_timeout(now);
        drain();
    }
    if (!hs.done()) {
        hs.receive_eof(now);
        drain();
        if (!hs.done()) {
            hs.handle_timeout(now + std::chrono::hours(1));
            drain();
        }
    }
    if (!hs.done() || terminal != 1) std::abort();
    return 0;
}
