// The atom table's entries, for the codec's hot paths: reading an atom's text (and its
// encoded form) without a call or a function-local static's guard. Private to the library.
#pragma once

#include <edist/atom.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edist::detail {

// An interned name. When it is at most 255 bytes, the two bytes before `data` are its
// SMALL_ATOM_UTF8_EXT header (119, length), so `data - 2` is the atom as ETF encodes it. The
// table pads its storage so that at least 16 bytes can be read from `data - 2`, and 16 bytes
// past `data + len` (the decoder compares names a word at a time).
struct AtomEntry {
    const char* data;
    std::uint32_t len;
};

inline constexpr std::size_t atom_chunk_bits = 12;
inline constexpr std::size_t atom_chunk_size = std::size_t(1) << atom_chunk_bits;
inline constexpr std::size_t atom_max_chunks = 4096; // 16,777,216 atoms: far above any sane limit

// Filled by the table (atom.cpp) as it grows; a chunk never moves once published. Constant-
// initialised, so it can be read before the table exists (a null chunk then).
extern std::atomic<AtomEntry*> atom_chunks[atom_max_chunks];

// The entry of an interned atom. Atom::name() is the slow path for the one case this cannot
// serve: a predefined atom read before anything has created the table.
inline AtomEntry atom_entry(Atom a) noexcept {
    AtomEntry* chunk = atom_chunks[a.index() >> atom_chunk_bits].load(std::memory_order_acquire);
    if (!chunk) [[unlikely]] {
        std::string_view n = a.name();
        return {n.data(), static_cast<std::uint32_t>(n.size())};
    }
    return chunk[a.index() & (atom_chunk_size - 1)];
}

} // namespace edist::detail
