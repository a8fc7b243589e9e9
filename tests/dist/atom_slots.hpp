// Atoms chosen by the slot the sender's atom cache (etf::AtomCacheOut) gives them, for tests of
// slot collisions and of the highest slots.
#pragma once

#include "etf/atom_cache_out.hpp"

#include <edist/atom.hpp>

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edist::test {

// Two atoms named `prefix` followed by a number that share a cache slot.
inline std::pair<Atom, Atom> atoms_sharing_a_slot(const std::string& prefix) {
    std::array<std::optional<Atom>, etf::AtomCacheOut::slots> seen;
    for (int i = 0;; ++i) {
        const Atom a = atom(prefix + std::to_string(i));
        std::optional<Atom>& s = seen[etf::AtomCacheOut::slot_of(a)];
        if (s && *s != a) return {*s, a};
        s = a;
    }
}

// `n` atoms named `prefix` followed by a number whose slots are at or above `from`.
inline std::vector<Atom> atoms_in_slots_from(const std::string& prefix, std::size_t from, std::size_t n) {
    std::vector<Atom> out;
    for (int i = 0; out.size() < n; ++i) {
        const Atom a = atom(prefix + std::to_string(i));
        if (etf::AtomCacheOut::slot_of(a) >= from) out.push_back(a);
    }
    return out;
}

} // namespace edist::test
