// The distribution channel: framing, headers, fragments and the control-message checks.
#include "dist/atom_slots.hpp"
#include "dist/channel.hpp"
#include "dist/control.hpp"
#include "dist/ticker.hpp"
#include "etf/term_impl.hpp"

#include <edist/etf.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <memory>

using namespace edist;
using namespace edist::dist;

namespace {

const Atom peer_node = atom("erl@host");
const Atom our_node = atom("cpp@host");

Pid peer_pid(std::uint32_t id) { return Pid{peer_node, id, 0, 7}; }
Pid our_pid(std::uint32_t id) { return Pid{our_node, id, 0, 9}; }

std::vector<Message> feed_all(Receiver& r, const std::vector<std::uint8_t>& bytes, std::size_t chunk = 0) {
    std::vector<Message> out;
    if (chunk == 0) chunk = bytes.size();
    for (std::size_t i = 0; i < bytes.size(); i += chunk) {
        auto n = std::min(chunk, bytes.size() - i);
        auto res = r.feed(std::span(bytes).subspan(i, n), out);
        EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().what());
    }
    return out;
}

Signal parsed(const Message& m) {
    auto s = parse(m.control, m.payload, peer_node);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().what());
    return *s;
}

} // namespace

TEST(DistChannel, SendSenderRoundTripsThroughHeaderFraming) {
    ChannelConfig cfg;
    cfg.atom_cache_refs = false;
    Sender sender(cfg);
    std::vector<std::uint8_t> wire;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), tuple(atom("hello"), 42)}, wire);
    // 4-byte length, then 131 68 0: a distribution header without atom-cache refs.
    ASSERT_GE(wire.size(), 7u);
    EXPECT_EQ(wire[4], 131);
    EXPECT_EQ(wire[5], 68);
    EXPECT_EQ(wire[6], 0);
    Receiver receiver(peer_node, cfg);
    auto msgs = feed_all(receiver, wire);
    ASSERT_EQ(msgs.size(), 1u);
    auto s = std::get<SendSignal>(parsed(msgs[0]));
    EXPECT_EQ(s.to, our_pid(2));
    EXPECT_EQ(s.from, peer_pid(1));
    EXPECT_EQ(s.message, tuple(atom("hello"), 42));
}

TEST(DistChannel, PassThroughFramingWhenNoHeaderWasNegotiated) {
    ChannelConfig cfg;
    cfg.dist_header = false;
    cfg.fragments = false;
    Sender sender(cfg);
    std::vector<std::uint8_t> wire;
    sender.encode(RegSendSignal{peer_pid(1), atom("echo"), binary("x")}, wire);
    EXPECT_EQ(wire[4], 112);
    EXPECT_EQ(wire[5], 131);
    Receiver receiver(peer_node, cfg);
    auto msgs = feed_all(receiver, wire, 1); // byte by byte
    ASSERT_EQ(msgs.size(), 1u);
    auto s = std::get<RegSendSignal>(parsed(msgs[0]));
    EXPECT_EQ(s.to, atom("echo"));
    EXPECT_EQ(s.message, binary("x"));
}

TEST(DistChannel, LargePayloadIsFragmentedAndReassembled) {
    ChannelConfig cfg;
    cfg.fragment_size = 1000;
    Sender sender(cfg);
    std::vector<std::uint8_t> big(10'000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
    std::vector<std::uint8_t> wire;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), binary(std::span<const std::uint8_t>(big))}, wire);
    EXPECT_EQ(wire[5], 69); // first fragment header
    Receiver receiver(peer_node, cfg);
    auto msgs = feed_all(receiver, wire, 333);
    ASSERT_EQ(msgs.size(), 1u);
    auto s = std::get<SendSignal>(parsed(msgs[0]));
    auto bytes = s.message.as_binary();
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), big.begin(), big.end()));
    EXPECT_EQ(receiver.buffered_bytes(), 0u);
}

// Splits framed bytes into their packets (each with its 4-byte length).
std::vector<std::vector<std::uint8_t>> packets_of(const std::vector<std::uint8_t>& wire) {
    std::vector<std::vector<std::uint8_t>> out;
    for (std::size_t i = 0; i < wire.size();) {
        std::size_t len = std::size_t(wire[i]) << 24 | wire[i + 1] << 16 | wire[i + 2] << 8 | wire[i + 3];
        out.emplace_back(wire.begin() + static_cast<std::ptrdiff_t>(i),
                         wire.begin() + static_cast<std::ptrdiff_t>(i + 4 + len));
        i += 4 + len;
    }
    return out;
}

std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 31 + seed);
    return v;
}

TEST(DistChannel, FragmentsReassembleHoweverTheStreamIsCut) {
    ChannelConfig cfg;
    cfg.fragment_size = 1000;
    Sender sender(cfg);
    const auto big = pattern(10'500, 3);
    std::vector<std::uint8_t> wire;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), binary(std::span<const std::uint8_t>(big))}, wire);
    auto packets = packets_of(wire);
    ASSERT_EQ(packets.size(), 11u);
    // Fragment ids count down to 1; every packet but the last carries fragment_size bytes.
    EXPECT_EQ(packets[0][5], 69);
    for (std::size_t k = 1; k < packets.size(); ++k) {
        EXPECT_EQ(packets[k][5], 70);
        EXPECT_EQ(packets[k][21], packets.size() - k); // low byte of the fragment id
    }
    for (std::size_t chunk : {1, 7, 17, 18, 19, 22, 999, 1000, 1022, 4096, 0}) {
        Receiver receiver(peer_node, cfg);
        auto msgs = feed_all(receiver, wire, chunk);
        ASSERT_EQ(msgs.size(), 1u) << "cut every " << chunk << " bytes";
        auto bytes = std::get<SendSignal>(parsed(msgs[0])).message.as_binary();
        EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), big.begin(), big.end())) << "cut every " << chunk;
        EXPECT_EQ(receiver.buffered_bytes(), 0u);
    }
}

// Output refers to large binaries instead of copying them; the bytes it stands for are the
// ones the copying encoder writes, whatever the framing and wherever fragments cut.
TEST(DistChannel, SharedBinaryOutputIsTheSameStreamAsTheCopiedOne) {
    const auto a = pattern(5'000, 1);
    const auto b = pattern(2'500, 2);
    const Term message = tuple(atom("two"), binary(std::span<const std::uint8_t>(a)), list(1, 2, 3),
                               binary(std::span<const std::uint8_t>(b)), binary("small"));
    struct Case {
        bool dist_header, fragments;
        std::size_t fragment_size;
    };
    for (Case c : {Case{true, true, 1000}, Case{true, true, 64 * 1024}, Case{true, true, 2'500},
                   Case{true, false, 1000}, Case{false, false, 1000}}) {
        ChannelConfig cfg;
        cfg.dist_header = c.dist_header;
        cfg.fragments = c.fragments;
        cfg.fragment_size = c.fragment_size;
        cfg.share_binaries_from = 2'000;
        Sender copying(cfg), sharing(cfg);
        std::vector<std::uint8_t> copied;
        Output shared;
        shared.bytes = {9, 9}; // whatever was queued before stays in front
        copied = {9, 9};
        for (int i = 0; i < 2; ++i) { // the second message's offsets start after the first's
            copying.encode(SendSignal{peer_pid(1), our_pid(2), message}, copied);
            sharing.encode(SendSignal{peer_pid(1), our_pid(2), message}, shared);
        }
        const std::string what = "fragment_size " + std::to_string(c.fragment_size) +
                                 (c.dist_header ? "" : ", pass-through") + (c.fragments ? "" : ", no fragments");
        EXPECT_FALSE(shared.binaries.empty()) << what;
        EXPECT_LT(shared.bytes.size(), 2 + 2 * (a.size() + b.size())) << what << ": binaries were copied";
        EXPECT_EQ(shared.size(), copied.size()) << what;
        EXPECT_EQ(shared.flatten(), copied) << what;
        // A write that stops anywhere goes on from there.
        for (std::size_t from : {std::size_t(0), std::size_t(1), std::size_t(100), std::size_t(5'000),
                                 copied.size() / 2, copied.size() - 1}) {
            std::vector<std::uint8_t> rest;
            shared.for_each_piece(from, [&](std::span<const std::uint8_t> p) {
                EXPECT_FALSE(p.empty());
                rest.insert(rest.end(), p.begin(), p.end());
                return true;
            });
            EXPECT_TRUE(std::equal(rest.begin(), rest.end(), copied.begin() + static_cast<std::ptrdiff_t>(from),
                                   copied.end()))
                << what << ", from " << from;
        }
        Receiver receiver(peer_node, cfg);
        auto wire = shared.flatten();
        wire.erase(wire.begin(), wire.begin() + 2);
        auto msgs = feed_all(receiver, wire, 777);
        ASSERT_EQ(msgs.size(), 2u) << what;
        EXPECT_EQ(std::get<SendSignal>(parsed(msgs[1])).message, message) << what;
    }
}

// A fun whose free variables hold a shared binary: NEW_FUN_EXT's Size counts the binary's
// bytes though the encoder did not copy them, so a receiver that checks Size (this one does)
// takes the message, in one packet or in fragments.
TEST(DistChannel, SharedBinaryInAFunsFreeVariablesKeepsItsSizeRight) {
    FunData fd;
    fd.module = atom("m");
    fd.old_index = Term(1);
    fd.old_uniq = Term(2);
    fd.pid = Term(peer_pid(4));
    fd.free_vars = {binary(std::span<const std::uint8_t>(pattern(3'000, 6))), Term(7)};
    const Term message = tuple(atom("fun"), fun(fd));
    for (std::size_t fragment_size : {std::size_t(64 * 1024), std::size_t(1'000)}) {
        ChannelConfig cfg;
        cfg.fragment_size = fragment_size;
        cfg.share_binaries_from = 2'000;
        Sender sender(cfg);
        Output out;
        sender.encode(SendSignal{peer_pid(1), our_pid(2), message}, out);
        ASSERT_FALSE(out.binaries.empty());
        Receiver receiver(peer_node, cfg);
        std::vector<Message> msgs;
        auto r = receiver.feed(out.flatten(), msgs);
        ASSERT_TRUE(r.ok()) << "fragment size " << fragment_size << ": " << r.error().what();
        ASSERT_EQ(msgs.size(), 1u);
        EXPECT_EQ(std::get<SendSignal>(parsed(msgs[0])).message, message);
    }
}

// The shared binaries keep their storage alive: the message term may go before the write.
TEST(DistChannel, SharedBinaryOutputOutlivesTheMessage) {
    ChannelConfig cfg;
    cfg.fragment_size = 1000;
    cfg.share_binaries_from = 100;
    Output out;
    {
        Sender sender(cfg);
        Term message = binary(std::span<const std::uint8_t>(pattern(3'000, 5)));
        sender.encode(SendSignal{peer_pid(1), our_pid(2), message}, out);
    }
    Receiver receiver(peer_node, cfg);
    auto msgs = feed_all(receiver, out.flatten());
    ASSERT_EQ(msgs.size(), 1u);
    auto bytes = std::get<SendSignal>(parsed(msgs[0])).message.as_binary();
    const auto expected = pattern(3'000, 5);
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), expected.begin(), expected.end()));
}

// Reads as a connection does: into the receiver's direct buffer whenever it offers one (at
// most `chunk` bytes at a time, as a short read would), else `chunk` bytes at most, limited by
// read_size(), through feed().
std::vector<Message> read_like_a_connection(Receiver& r, const std::vector<std::uint8_t>& bytes, std::size_t chunk,
                                            std::size_t* direct_bytes = nullptr) {
    std::vector<Message> out;
    for (std::size_t i = 0; i < bytes.size();) {
        std::vector<Message> got;
        if (auto d = r.direct_buffer(); !d.empty()) {
            const std::size_t n = std::min({chunk, d.size(), bytes.size() - i});
            std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(i), n, d.begin());
            auto res = r.commit_direct(n, got);
            EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().what());
            if (direct_bytes) *direct_bytes += n;
            i += n;
        } else {
            const std::size_t n = std::min({r.read_size(chunk), bytes.size() - i});
            auto res = r.feed(std::span(bytes).subspan(i, n), got);
            EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().what());
            i += n;
        }
        for (auto& m : got) out.push_back(std::move(m));
    }
    return out;
}

// Large bodies, fragmented or not, read straight into their storage give the same messages as
// feed(), and by far most of their bytes go that way.
TEST(DistChannel, LargeBodiesAreReadDirectlyIntoTheirStorage) {
    const auto big = pattern(300'000, 9);
    const Term large = binary(std::span<const std::uint8_t>(big));
    for (bool fragments : {true, false}) {
        ChannelConfig cfg;
        cfg.fragments = fragments;
        Sender sender(cfg);
        std::vector<std::uint8_t> wire;
        sender.encode(SendSignal{peer_pid(1), our_pid(2), atom("small")}, wire);
        sender.encode(SendSignal{peer_pid(1), our_pid(2), large}, wire);
        sender.encode(SendSignal{peer_pid(1), our_pid(2), tuple(atom("after"), large)}, wire);
        Sender::tick(wire);
        sender.encode(SendSignal{peer_pid(1), our_pid(2), atom("last")}, wire);
        // 64 KB is what a connection reads at most; a million is a read that got everything.
        for (std::size_t chunk : {std::size_t(64 * 1024), std::size_t(20'000), std::size_t(4096), std::size_t(1'000'000)}) {
            Receiver receiver(peer_node, cfg);
            std::size_t direct = 0;
            auto msgs = read_like_a_connection(receiver, wire, chunk, &direct);
            ASSERT_EQ(msgs.size(), 4u) << "fragments " << fragments << ", chunk " << chunk;
            EXPECT_EQ(std::get<SendSignal>(parsed(msgs[0])).message, atom("small"));
            EXPECT_EQ(std::get<SendSignal>(parsed(msgs[1])).message, large);
            EXPECT_EQ(std::get<SendSignal>(parsed(msgs[2])).message, tuple(atom("after"), large));
            EXPECT_EQ(std::get<SendSignal>(parsed(msgs[3])).message, atom("last"));
            EXPECT_EQ(receiver.buffered_bytes(), 0u);
            // All but the start of each large message: what the read that found its header held.
            if (chunk == 20'000 || chunk == 64 * 1024) {
                EXPECT_GT(direct, 3 * wire.size() / 4) << "fragments " << fragments << ", chunk " << chunk;
            }
        }
    }
}

// Whether `text` occurs in `bytes`.
bool contains(const std::vector<std::uint8_t>& bytes, std::string_view text) {
    return std::search(bytes.begin(), bytes.end(), text.begin(), text.end()) != bytes.end();
}

// The sender's atom cache: a message's atoms go as references, their text only the first time
// the peer's slot gets them; a receiver (the same one OTP's headers are read with) decodes it all.
TEST(DistChannel, AtomsGoAsCacheReferencesOnceThePeerHoldsThem) {
    ChannelConfig cfg;
    cfg.send.send_sender = true; // {22, From, To}: the node names of both pids
    Sender sender(cfg);
    Receiver receiver(peer_node, cfg);
    const Term message = tuple(atom("cached_atom_one"), atom("cached_atom_two"), list(atom("cached_atom_one"), 7));
    std::vector<std::uint8_t> first, second;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), message}, first);
    sender.encode(SendSignal{peer_pid(1), our_pid(2), message}, second);
    EXPECT_EQ(first[6], 4); // two node names and two atoms of the message, each once
    EXPECT_TRUE(contains(first, "cached_atom_one"));
    EXPECT_FALSE(contains(second, "cached_atom_one")) << "the peer holds it already";
    EXPECT_FALSE(contains(second, "erl@host"));
    EXPECT_EQ(second.size() + 2 * 15 + 2 * 8 + 4, first.size()); // the texts and their length bytes
    for (const auto* wire : {&first, &second}) {
        auto msgs = feed_all(receiver, *wire);
        ASSERT_EQ(msgs.size(), 1u);
        auto sig = std::get<SendSignal>(parsed(msgs[0]));
        EXPECT_EQ(sig.message, message);
        EXPECT_EQ(sig.from, peer_pid(1));
        EXPECT_EQ(sig.to, our_pid(2));
    }
}

// More atoms than one header can reference (255), two atoms wanting the same slot, atoms whose
// UTF-8 takes more than 255 bytes (two-byte lengths), fragments: all decode as they were.
TEST(DistChannel, AtomCacheReferencesCoverEveryCase) {
    std::vector<Term> many;
    for (int i = 0; i < 300; ++i) many.push_back(atom("many_" + std::to_string(i)));
    const auto [a1, a2] = test::atoms_sharing_a_slot("slot_probe_");
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "\u00e9"; // 400 bytes of UTF-8
    const Term messages[] = {
        tuple_from(many),
        tuple(a1, a2, a1, a2),
        tuple(atom(long_text), atom("short"), atom(long_text)),
        tuple(binary(std::string(5'000, 'x')), atom("in_fragments"), tuple_from(many)),
    };
    for (std::size_t fragment_size : {std::size_t(64 * 1024), std::size_t(700)}) {
        ChannelConfig cfg;
        cfg.fragment_size = fragment_size;
        Sender sender(cfg);
        Receiver receiver(peer_node, cfg);
        for (int round = 0; round < 2; ++round) {
            for (const Term& m : messages) {
                std::vector<std::uint8_t> wire;
                sender.encode(RegSendSignal{peer_pid(3), atom("box"), m}, wire);
                auto msgs = feed_all(receiver, wire, 97);
                ASSERT_EQ(msgs.size(), 1u);
                EXPECT_EQ(std::get<RegSendSignal>(parsed(msgs[0])).message, m)
                    << "fragment size " << fragment_size << ", round " << round;
            }
        }
    }
}

#if !defined(__SANITIZE_ADDRESS__) // AddressSanitizer refuses to allocate over 4 GB (and would then touch it)
// A signal that cannot be encoded (a binary over 4 GB) throws system_limit and leaves nothing
// behind: not part of a packet, nor atom-cache slots the peer never hears of (a later message
// that uses the same atom must carry its text).
TEST(DistChannel, ASignalThatCannotBeEncodedLeavesTheStreamAndTheAtomCacheAsTheyWere) {
    ChannelConfig cfg;
    Sender sender(cfg);
    // Never written nor read: the encoder refuses it by its size, so its pages are never made.
    const std::size_t huge = (std::size_t(1) << 32) + 1;
    const Term big = edist::detail::adopt_bytes(std::make_unique_for_overwrite<std::uint8_t[]>(huge), huge);
    Output out;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), atom("before")}, out);
    const auto before = out.flatten();
    try {
        sender.encode(SendSignal{peer_pid(1), our_pid(2), tuple(atom("only_in_the_failed_one"), big)}, out);
        ADD_FAILURE() << "a binary over 4 GB was encoded";
    } catch (const Error& e) {
        EXPECT_EQ(e.reason(), atoms::system_limit) << e.what();
    }
    EXPECT_EQ(out.flatten(), before);
    sender.encode(SendSignal{peer_pid(1), our_pid(2), tuple(atom("only_in_the_failed_one"), atom("after"))}, out);
    Receiver receiver(peer_node, cfg);
    auto msgs = feed_all(receiver, out.flatten());
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(std::get<SendSignal>(parsed(msgs[0])).message, atom("before"));
    EXPECT_EQ(std::get<SendSignal>(parsed(msgs[1])).message, tuple(atom("only_in_the_failed_one"), atom("after")));
}
#endif

TEST(DistChannel, InterleavedFragmentSequencesAreEachReassembled) {
    ChannelConfig cfg;
    cfg.fragment_size = 500;
    cfg.atom_cache_refs = false; // the second message is delivered first: it cannot rely on the first's header
    Sender sender(cfg);
    const auto a = pattern(2'000, 1), b = pattern(3'100, 2);
    std::vector<std::uint8_t> wa, wb;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), binary(std::span<const std::uint8_t>(a))}, wa);
    sender.encode(RegSendSignal{peer_pid(1), atom("box"), binary(std::span<const std::uint8_t>(b))}, wb);
    auto pa = packets_of(wa), pb = packets_of(wb);
    std::vector<std::uint8_t> mixed;
    for (std::size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
        if (i < pb.size()) mixed.insert(mixed.end(), pb[i].begin(), pb[i].end());
        if (i < pa.size()) mixed.insert(mixed.end(), pa[i].begin(), pa[i].end());
    }
    Receiver receiver(peer_node, cfg);
    auto msgs = feed_all(receiver, mixed, 333);
    ASSERT_EQ(msgs.size(), 2u);
    auto ma = std::get<SendSignal>(parsed(msgs[0])).message.as_binary();
    auto mb = std::get<RegSendSignal>(parsed(msgs[1])).message.as_binary();
    EXPECT_TRUE(std::equal(ma.begin(), ma.end(), a.begin(), a.end()));
    EXPECT_TRUE(std::equal(mb.begin(), mb.end(), b.begin(), b.end()));
    EXPECT_EQ(receiver.buffered_bytes(), 0u);
}

TEST(DistChannel, AContinuationBeyondTheMessageLimitFailsBeforeItsBytesArrive) {
    ChannelConfig cfg;
    cfg.fragment_size = 1000;
    cfg.max_message_size = 5'000;
    Sender sender(cfg);
    std::vector<std::uint8_t> wire;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), binary(std::string(3'500, 'x'))}, wire);
    auto packets = packets_of(wire);
    ASSERT_GE(packets.size(), 2u);
    // A continuation that claims 4,500 bytes on top of what the sequence holds: only its
    // 4-byte length and 18-byte header are fed.
    std::vector<std::uint8_t> hostile = packets[0];
    std::vector<std::uint8_t> cont(packets[1].begin(), packets[1].begin() + 22);
    const std::uint32_t claimed = 18 + 4'500;
    cont[0] = std::uint8_t(claimed >> 24), cont[1] = std::uint8_t(claimed >> 16);
    cont[2] = std::uint8_t(claimed >> 8), cont[3] = std::uint8_t(claimed);
    hostile.insert(hostile.end(), cont.begin(), cont.end());
    Receiver receiver(peer_node, cfg);
    std::vector<Message> out;
    auto r = receiver.feed(hostile, out);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string(r.error().what()).find("exceeds"), std::string::npos) << r.error().what();
}

TEST(DistChannel, UnfinishedFragmentSequencesTogetherAreCappedAtMaxReassemblyBytes) {
    ChannelConfig cfg;
    cfg.fragment_size = 1000;
    cfg.max_reassembly_bytes = 10'000;
    cfg.atom_cache_refs = false;
    Sender sender(cfg);
    // First fragments only, of messages that never finish: each sequence holds about 1 KB.
    std::vector<std::uint8_t> hostile;
    for (int i = 0; i < 20; ++i) {
        std::vector<std::uint8_t> wire;
        sender.encode(SendSignal{peer_pid(1), our_pid(2), binary(std::string(5'000, char('a' + i)))}, wire);
        auto first = packets_of(wire).at(0);
        hostile.insert(hostile.end(), first.begin(), first.end());
    }
    Receiver receiver(peer_node, cfg);
    std::vector<Message> out;
    auto r = receiver.feed(hostile, out);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string(r.error().what()).find("unfinished fragmented messages would hold more than 10000 bytes"),
              std::string::npos)
        << r.error().what();
    EXPECT_LE(receiver.buffered_bytes(), cfg.max_reassembly_bytes + 2'000);

    // Below the cap, the same sequences are all held.
    cfg.max_reassembly_bytes = 100'000;
    Receiver roomy(peer_node, cfg);
    EXPECT_TRUE(roomy.feed(hostile, out).ok());
    EXPECT_TRUE(out.empty());
}

TEST(DistChannel, TicksAreActivityButNotMessages) {
    Receiver receiver(peer_node, {});
    std::vector<std::uint8_t> tick;
    Sender::tick(tick);
    auto msgs = feed_all(receiver, tick);
    EXPECT_TRUE(msgs.empty());
    EXPECT_TRUE(receiver.take_activity());
    EXPECT_FALSE(receiver.take_activity());
}

TEST(DistChannel, AtomCacheRefsInTheHeaderResolveAtomsInTheControlMessage) {
    // Header with two new cache entries (segment 0 index 5 = 'net_kernel', segment 1 index 2 =
    // ''), laid out as the external term format describes; the control tuple then refers to them
    // with ATOM_CACHE_REF (82) indexes 0 and 1.
    std::vector<std::uint8_t> p = {131, 68, 2, 0x88, 0x00};
    // flags: entry 0 = new|seg0 (0x8) low nibble, entry 1 = new|seg1 (0x9) high nibble, then the
    // LongAtoms nibble (0) in the next byte.
    p[3] = 0x98;
    p[4] = 0x00;
    const std::string nk = "net_kernel";
    p.push_back(5);
    p.push_back(static_cast<std::uint8_t>(nk.size()));
    p.insert(p.end(), nk.begin(), nk.end());
    p.push_back(2);
    p.push_back(0); // '' has length 0
    // control {6, Pid, '', net_kernel} with the atoms as cache refs; payload an atom via cache.
    auto pid_bytes = etf::encode(Term(peer_pid(3)));
    p.insert(p.end(), {104, 4, 97, 6});
    p.insert(p.end(), pid_bytes.begin() + 1, pid_bytes.end());
    p.insert(p.end(), {82, 1, 82, 0});
    p.insert(p.end(), {82, 0}); // payload: 'net_kernel'
    std::vector<std::uint8_t> wire = {0, 0, 0, static_cast<std::uint8_t>(p.size())};
    wire.insert(wire.end(), p.begin(), p.end());
    Receiver receiver(peer_node, {});
    auto msgs = feed_all(receiver, wire);
    ASSERT_EQ(msgs.size(), 1u);
    auto s = std::get<RegSendSignal>(parsed(msgs[0]));
    EXPECT_EQ(s.to, atom("net_kernel"));
    EXPECT_EQ(s.message, Term(atom("net_kernel")));

    // A later message may refer to the cached slots without repeating the text.
    std::vector<std::uint8_t> q = {131, 68, 1, 0x00, 5}; // entry 0: old, segment 0, index 5
    q.insert(q.end(), {104, 1, 82, 0});
    std::vector<std::uint8_t> wire2 = {0, 0, 0, static_cast<std::uint8_t>(q.size())};
    wire2.insert(wire2.end(), q.begin(), q.end());
    std::vector<Message> out;
    ASSERT_TRUE(receiver.feed(wire2, out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].control, tuple(atom("net_kernel")));
}

TEST(DistChannel, ReferenceToAnEmptyCacheSlotIsAProtocolError) {
    std::vector<std::uint8_t> wire = {0, 0, 0, 9, 131, 68, 1, 0x00, 7, 104, 1, 82, 0};
    wire[3] = static_cast<std::uint8_t>(wire.size() - 4);
    Receiver receiver(peer_node, {});
    std::vector<Message> out;
    auto r = receiver.feed(wire, out);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string(r.error().what()).find("empty atom cache slot"), std::string::npos);
}

TEST(DistChannel, OversizedPacketHeaderIsRefusedBeforeAnyAllocation) {
    ChannelConfig cfg;
    cfg.max_message_size = 1 << 20;
    Receiver receiver(peer_node, cfg);
    std::vector<std::uint8_t> wire = {0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3};
    std::vector<Message> out;
    auto r = receiver.feed(wire, out);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string(r.error().what()).find("exceeds the limit"), std::string::npos);
    EXPECT_EQ(receiver.buffered_bytes(), 0u);
}

TEST(DistChannel, FragmentsOutOfOrderAreAProtocolError) {
    ChannelConfig cfg;
    cfg.fragment_size = 100;
    Sender sender(cfg);
    std::vector<std::uint8_t> wire;
    sender.encode(SendSignal{peer_pid(1), our_pid(2), binary(std::string(1000, 'a'))}, wire);
    // Drop the second packet: the third then arrives with the wrong fragment id.
    std::size_t first = 4 + (std::size_t(wire[0]) << 24 | wire[1] << 16 | wire[2] << 8 | wire[3]);
    std::size_t second = 4 + (std::size_t(wire[first]) << 24 | wire[first + 1] << 16 | wire[first + 2] << 8 | wire[first + 3]);
    std::vector<std::uint8_t> broken(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(first));
    broken.insert(broken.end(), wire.begin() + static_cast<std::ptrdiff_t>(first + second), wire.end());
    Receiver receiver(peer_node, cfg);
    std::vector<Message> out;
    auto r = receiver.feed(broken, out);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string(r.error().what()).find("out of order"), std::string::npos);
}

TEST(DistControl, SenderPidFromAnotherNodeIsRejected) {
    Term control = tuple(6, Pid{atom("other@host"), 1, 0, 1}, atom(""), atom("echo"));
    auto r = parse(control, Term(1), peer_node);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string(r.error().what()).find("does not belong"), std::string::npos);
}

TEST(DistControl, ObsoleteUnlinkIsRejectedAsOtp26Does) {
    auto r = parse(tuple(4, peer_pid(1), our_pid(2)), std::nullopt, peer_node);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string(r.error().what()).find("UNLINK"), std::string::npos);
}

TEST(DistControl, WrongArityAndMissingPayloadAreRejected) {
    EXPECT_FALSE(parse(tuple(1, peer_pid(1)), std::nullopt, peer_node).ok());
    EXPECT_FALSE(parse(tuple(22, peer_pid(1), our_pid(2)), std::nullopt, peer_node).ok());
    EXPECT_FALSE(parse(tuple(35, 0, peer_pid(1), our_pid(2)), std::nullopt, peer_node).ok()); // id 0
    EXPECT_FALSE(parse(atom("garbage"), std::nullopt, peer_node).ok());
}

TEST(DistControl, EverySignalRoundTripsThroughEncodeAndParse) {
    Ref ref{peer_node, 7, 3, {1, 2, 3, 0, 0}};
    std::vector<Signal> signals = {
        SendSignal{peer_pid(1), our_pid(2), atom("m")},
        RegSendSignal{peer_pid(1), atom("name"), atom("m")},
        AliasSendSignal{peer_pid(1), ref, atom("m")},
        LinkSignal{peer_pid(1), our_pid(2)},
        UnlinkIdSignal{99, peer_pid(1), our_pid(2)},
        UnlinkIdAckSignal{99, peer_pid(1), our_pid(2)},
        ExitSignal{peer_pid(1), our_pid(2), atom("boom"), true},
        ExitSignal{peer_pid(1), our_pid(2), atom("boom"), false},
        MonitorSignal{peer_pid(1), atom("name"), ref},
        DemonitorSignal{peer_pid(1), our_pid(2), ref},
        MonitorExitSignal{peer_pid(1), our_pid(2), ref, atom("normal")},
        GroupLeaderSignal{peer_pid(1), our_pid(2)},
        SpawnRequestSignal{ref, peer_pid(1), peer_pid(4), atom("m"), atom("f"), 1, list(atom("monitor")), list(5)},
        SpawnReplySignal{ref, our_pid(2), 2, Term(peer_pid(5))},
    };
    for (const auto& s : signals) {
        for (bool payload_forms : {true, false}) {
            auto e = encode(s, {true, payload_forms});
            auto back = parse(e.control, e.payload, peer_node);
            ASSERT_TRUE(back.ok()) << to_string(e.control) << ": " << back.error().what();
            EXPECT_EQ(back->index(), s.index());
            EXPECT_EQ(encode(*back, {true, payload_forms}).control, e.control);
            // Written without building the tuple, the bytes are the same.
            std::vector<std::uint8_t> direct{0xAA};
            const Term* payload = encode_control_to(direct, s, {true, payload_forms});
            std::vector<std::uint8_t> via_term{0xAA};
            etf::encode_to(via_term, e.control);
            EXPECT_EQ(direct, via_term) << to_string(e.control);
            EXPECT_EQ(payload != nullptr, e.payload.has_value());
            if (payload) {
                EXPECT_EQ(*payload, *e.payload);
            }
        }
    }
}

TEST(DistChannel, CommonOperationsComeParsedAsParseWouldParseThem) {
    Ref ref{peer_node, 7, 3, {1, 2, 3, 0, 0}};
    std::vector<Signal> signals = {
        SendSignal{peer_pid(1), our_pid(2), tuple(atom("m"), 1)},
        SendSignal{std::nullopt, our_pid(2), atom("m")},
        RegSendSignal{peer_pid(1), atom("name"), atom("m")},
        AliasSendSignal{peer_pid(1), ref, atom("m")},
        MonitorExitSignal{peer_pid(1), our_pid(2), ref, atom("normal")},
        MonitorExitSignal{atom("name"), our_pid(2), ref, tuple(atom("shutdown"), 3)},
        SpawnReplySignal{ref, our_pid(2), 2, Term(peer_pid(5))},
        SpawnReplySignal{ref, our_pid(2), 0, atom("badarg")},
        SpawnRequestSignal{ref, peer_pid(1), peer_pid(4), atom("m"), atom("f"), 1, list(atom("monitor")), list(5)},
        // Not common: it still comes as a control tuple.
        LinkSignal{peer_pid(1), our_pid(2)},
    };
    ChannelConfig fast;
    fast.parse_signals = true;
    for (const auto& s : signals) {
        std::vector<std::uint8_t> wire;
        Sender(fast).encode(s, wire);
        Receiver receiver(peer_node, fast);
        auto msgs = feed_all(receiver, wire);
        ASSERT_EQ(msgs.size(), 1u);
        const bool common = !std::holds_alternative<LinkSignal>(s);
        ASSERT_EQ(msgs[0].signal.has_value(), common) << to_string(encode(s).control);
        const Signal got = common ? *msgs[0].signal : parsed(msgs[0]);
        EXPECT_EQ(got.index(), s.index());
        EXPECT_EQ(encode(got).control, encode(s).control);
        EXPECT_EQ(encode(got).payload, encode(s).payload);
    }
    // What parse() rejects is not taken apart on the fast path either: it comes as a tuple.
    std::vector<std::uint8_t> wire;
    Sender(fast).encode(SendSignal{our_pid(1), our_pid(2), atom("m")}, wire); // sender not the peer's
    Receiver receiver(peer_node, fast);
    auto msgs = feed_all(receiver, wire);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_FALSE(msgs[0].signal.has_value());
    EXPECT_FALSE(parse(msgs[0].control, msgs[0].payload, peer_node).ok());
    // A spawn request whose arguments do not match its arity, likewise.
    wire.clear();
    Sender(fast).encode(SpawnRequestSignal{ref, peer_pid(1), peer_pid(4), atom("m"), atom("f"), 2, list(), list(5)},
                        wire);
    msgs = feed_all(receiver, wire);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_FALSE(msgs[0].signal.has_value());
    EXPECT_FALSE(parse(msgs[0].control, msgs[0].payload, peer_node).ok());
}

TEST(DistTicker, TicksWhenIdleAndDeclaresThePeerDownAfterFourSilentIntervals) {
    Ticker t(std::chrono::seconds(60));
    EXPECT_EQ(t.interval(), std::chrono::seconds(15));
    EXPECT_EQ(t.on_interval(true, true), Ticker::Action::none);
    EXPECT_EQ(t.on_interval(true, false), Ticker::Action::send_tick);
    EXPECT_EQ(t.on_interval(false, true), Ticker::Action::none);
    EXPECT_EQ(t.on_interval(false, true), Ticker::Action::none);
    EXPECT_EQ(t.on_interval(false, true), Ticker::Action::none);
    EXPECT_EQ(t.on_interval(false, true), Ticker::Action::peer_down);
}

TEST(DistTicker, ARetimedTickerCountsTheSilenceAlreadyHeardAgainstTheNewLimit) {
    Ticker t(std::chrono::seconds(60));
    EXPECT_EQ(t.on_interval(false, true), Ticker::Action::none); // 15 s silent
    t.retime({std::chrono::seconds(1), std::chrono::seconds(17)});
    EXPECT_EQ(t.interval(), std::chrono::seconds(1));
    EXPECT_EQ(t.on_interval(false, false), Ticker::Action::send_tick); // 16 s silent: not yet
    EXPECT_EQ(t.on_interval(false, true), Ticker::Action::peer_down);  // 17 s
    EXPECT_EQ(t.on_interval(true, false), Ticker::Action::send_tick);  // heard again: silence reset
}

// net_kernel:set_net_ticktime/2's answers, and the schedule a connection ticks by meanwhile.
TEST(DistNetTicktime, AChangeTicksForBothTickTimesUntilTheTransitionEnds) {
    using namespace std::chrono_literals;
    using Outcome = NetTicktime::Outcome;
    const auto t0 = NetTicktime::Clock::time_point() + 1h;
    NetTicktime n(60s);
    EXPECT_EQ(n.get(t0).ticktime, 60s);
    EXPECT_FALSE(n.get(t0).changing);
    EXPECT_EQ(n.set(60s, 60s, t0), std::pair(Outcome::unchanged, std::chrono::milliseconds(60s)));

    // Shorter: ticks at once as often as 8 s needs, the peer given the old 60 s until the end.
    EXPECT_EQ(n.set(8s, 10s, t0), std::pair(Outcome::change_initiated, std::chrono::milliseconds(8s)));
    EXPECT_TRUE(n.get(t0).changing);
    EXPECT_EQ(n.get(t0).ticktime, 8s);
    EXPECT_EQ(n.schedule(t0).send_every, 2s);
    EXPECT_EQ(n.schedule(t0).down_after, 60s);
    // Another change meanwhile is refused with the target of the one under way.
    EXPECT_EQ(n.set(5s, 0s, t0 + 9s), std::pair(Outcome::ongoing_change_to, std::chrono::milliseconds(8s)));
    EXPECT_EQ(n.change_ends(), t0 + 10s);
    // At the end, the new tick time alone.
    EXPECT_FALSE(n.get(t0 + 10s).changing);
    EXPECT_EQ(n.schedule(t0 + 10s).send_every, 2s);
    EXPECT_EQ(n.schedule(t0 + 10s).down_after, 8s);
    EXPECT_EQ(n.change_ends(), std::nullopt);

    // Longer: still ticks as often as the old, shorter one needs until the end.
    EXPECT_EQ(n.set(20s, 5s, t0 + 10s).first, Outcome::change_initiated);
    EXPECT_EQ(n.schedule(t0 + 11s).send_every, 2s);
    EXPECT_EQ(n.schedule(t0 + 11s).down_after, 20s);
    EXPECT_EQ(n.schedule(t0 + 15s).send_every, 5s);

    // A transition of 0 ends at once.
    EXPECT_EQ(n.set(4s, 0s, t0 + 20s).first, Outcome::change_initiated);
    EXPECT_FALSE(n.get(t0 + 20s).changing);
    EXPECT_EQ(n.schedule(t0 + 20s).send_every, 1s);
    EXPECT_EQ(n.schedule(t0 + 20s).down_after, 4s);
}
