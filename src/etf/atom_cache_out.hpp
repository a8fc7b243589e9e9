// The sending half of the distribution header's atom cache (DFLAG_DIST_HDR_ATOM_CACHE): the
// receiver keeps 2048 slots per connection, filled by the headers of the messages it gets;
// atoms of a message found there travel as ATOM_CACHE_REF (two bytes) instead of their text,
// and the peer looks them up by index instead of hashing their text.
//
// One per connection, used by one encoder at a time: begin() a message, encode it with this
// cache (encode_to below, TermWriter), then header() gives the header's cache part, which
// must reach the peer ahead of the message (and does, in the same packet).
#pragma once

#include <edist/etf.hpp>
#include <edist/term.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace edist::etf {

class AtomCacheOut {
public:
    static constexpr std::size_t slots = 2048;
    static constexpr std::size_t max_refs = 255; // references one message may carry

    AtomCacheOut();

    // Starts a message: no references yet.
    void begin() noexcept;
    // The message will not be sent after all (its encoding failed): the slots it filled go
    // back to what the peer holds.
    void abandon() noexcept;
    // The reference (0-254) to write for `a` in this message, or -1: write the atom out
    // (its slot is taken by another atom in this message, or the message has 255 already).
    // The slot an atom goes to.
    static std::size_t slot_of(Atom a) noexcept { return a.index() % slots; }

    int ref(Atom a) noexcept {
        const std::size_t slot = slot_of(a);
        const std::uint32_t id = a.index() + 1;
        if (message_ref_[slot] >= 0) return peer_[slot] == id ? message_ref_[slot] : -1;
        return add(slot, id);
    }
    std::size_t refs() const noexcept { return refs_.size(); }
    // Appends the header's cache part for this message: the count, the flags and the
    // references (with the text of those the peer does not hold yet). One zero byte when the
    // message has none.
    void header(std::vector<std::uint8_t>& out) const;

private:
    int add(std::size_t slot, std::uint32_t id) noexcept;

    std::array<std::uint32_t, slots> peer_{};      // the peer's slot: atom index + 1, 0 if empty
    std::array<std::int16_t, slots> message_ref_;  // this message's reference to the slot, or -1
    struct Ref {
        std::uint16_t slot;
        bool fresh;         // the peer learns the atom from this header
        std::uint32_t held; // what the peer's slot held before (for abandon)
    };
    std::vector<Ref> refs_;
};

// encode_to (either form) with atoms written as references to `atoms` where it gives one.
void encode_to(std::vector<std::uint8_t>& out, const Term& t, std::vector<SharedBinary>* shared,
               std::size_t share_from, AtomCacheOut* atoms);

} // namespace edist::etf
