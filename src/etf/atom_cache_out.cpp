#include "etf/atom_cache_out.hpp"

#include "etf/atom_table.hpp"

namespace edist::etf {

AtomCacheOut::AtomCacheOut() {
    message_ref_.fill(-1);
    refs_.reserve(max_refs);
}

void AtomCacheOut::begin() noexcept {
    for (const Ref& r : refs_) message_ref_[r.slot] = -1;
    refs_.clear();
}

void AtomCacheOut::abandon() noexcept {
    for (const Ref& r : refs_) {
        peer_[r.slot] = r.held;
        message_ref_[r.slot] = -1;
    }
    refs_.clear();
}

int AtomCacheOut::add(std::size_t slot, std::uint32_t id) noexcept {
    if (refs_.size() == max_refs) return -1;
    const std::uint32_t held = peer_[slot];
    peer_[slot] = id; // the peer holds it once this message's header has arrived
    const auto n = static_cast<std::int16_t>(refs_.size());
    message_ref_[slot] = n;
    refs_.push_back({static_cast<std::uint16_t>(slot), held != id, held});
    return n;
}

// Count; a nibble per reference (bit 3: new entry, bits 0-2: the slot's segment) and one
// more whose bit 0 says lengths take two bytes; then per reference the slot's low byte and,
// for a new entry, the atom's length and UTF-8 text.
void AtomCacheOut::header(std::vector<std::uint8_t>& out) const {
    const std::size_t n = refs_.size();
    out.push_back(static_cast<std::uint8_t>(n));
    if (n == 0) return;
    bool long_atoms = false;
    for (const Ref& r : refs_)
        if (r.fresh && edist::detail::atom_entry(Atom::from_index(peer_[r.slot] - 1)).len > 255) long_atoms = true;
    const std::size_t flags_at = out.size();
    out.resize(flags_at + n / 2 + 1, 0);
    auto nibble = [&](std::size_t i, unsigned v) {
        out[flags_at + i / 2] |= static_cast<std::uint8_t>(i % 2 == 0 ? v : v << 4);
    };
    for (std::size_t i = 0; i < n; ++i) nibble(i, (refs_[i].fresh ? 8u : 0u) | (refs_[i].slot >> 8));
    nibble(n, long_atoms ? 1u : 0u);
    for (const Ref& r : refs_) {
        out.push_back(static_cast<std::uint8_t>(r.slot & 0xFF));
        if (!r.fresh) continue;
        const auto e = edist::detail::atom_entry(Atom::from_index(peer_[r.slot] - 1));
        if (long_atoms) out.push_back(static_cast<std::uint8_t>(e.len >> 8));
        out.push_back(static_cast<std::uint8_t>(e.len & 0xFF));
        out.insert(out.end(), e.data, e.data + e.len);
    }
}

} // namespace edist::etf
