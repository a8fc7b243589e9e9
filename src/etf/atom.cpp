// The atom table: append-only, readable without locks, bounded.
//
// Names live in arena blocks that never move; entries live in fixed-size chunks reached through
// a fixed array of chunk pointers, so Atom::name() needs no lock. Interning takes a lock only on
// a miss in a small per-thread cache, which keeps decoding atom-heavy terms cheap.
#include <edist/atom.hpp>
#include <edist/error.hpp>

#include "etf/atom_table.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace edist {

std::atomic<detail::AtomEntry*> detail::atom_chunks[detail::atom_max_chunks]{};

namespace {

using Entry = detail::AtomEntry;

constexpr std::size_t chunk_bits = detail::atom_chunk_bits;
constexpr std::size_t chunk_size = detail::atom_chunk_size;
constexpr std::size_t max_chunks = detail::atom_max_chunks;
constexpr std::size_t hard_limit = chunk_size * max_chunks;

std::uint64_t hash_bytes(std::string_view s) noexcept {
    // FNV-1a, 64-bit: atoms are short, and this needs no seed or table.
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

class Table {
public:
    Table() {
        static constexpr std::string_view predefined[] = {
#define EDIST_ATOM_TEXT(id, text) text,
            EDIST_ATOM_LIST(EDIST_ATOM_TEXT)
#undef EDIST_ATOM_TEXT
        };
        for (auto name : predefined) insert_locked(name);
    }

    Entry entry(std::uint32_t index) const noexcept {
        Entry* chunk = detail::atom_chunks[index >> chunk_bits].load(std::memory_order_acquire);
        return chunk[index & (chunk_size - 1)];
    }

    bool find_or_insert(std::string_view name, std::uint64_t hash, std::uint32_t& out) {
        {
            std::shared_lock lock(mutex_);
            auto it = index_.find(name);
            if (it != index_.end()) {
                out = it->second;
                return true;
            }
        }
        (void)hash;
        std::unique_lock lock(mutex_);
        auto it = index_.find(name);
        if (it != index_.end()) {
            out = it->second;
            return true;
        }
        if (count_.load(std::memory_order_relaxed) >= limit_.load(std::memory_order_relaxed)) return false;
        out = insert_locked(name);
        return true;
    }

    std::size_t count() const noexcept { return count_.load(std::memory_order_acquire); }
    std::size_t limit() const noexcept { return limit_.load(std::memory_order_relaxed); }
    void set_limit(std::size_t l) noexcept {
        limit_.store(std::clamp<std::size_t>(l, atoms::detail::predefined_count, hard_limit), std::memory_order_relaxed);
    }

private:
    std::uint32_t insert_locked(std::string_view name) {
        auto index = static_cast<std::uint32_t>(count_.load(std::memory_order_relaxed));
        const char* stored = store(name);
        std::size_t c = index >> chunk_bits;
        Entry* chunk = detail::atom_chunks[c].load(std::memory_order_relaxed);
        if (!chunk) {
            owned_chunks_.push_back(std::make_unique<Entry[]>(chunk_size));
            chunk = owned_chunks_.back().get();
            detail::atom_chunks[c].store(chunk, std::memory_order_release);
        }
        chunk[index & (chunk_size - 1)] = Entry{stored, static_cast<std::uint32_t>(name.size())};
        index_.emplace(std::string_view(stored, name.size()), index);
        count_.store(index + 1, std::memory_order_release);
        return index;
    }

    // Stores the text after its SMALL_ATOM_UTF8_EXT header (when it fits one), so that the
    // encoder copies an atom in one go; blocks keep 16 bytes of zeroed slack at their end, so
    // the encoder may always read 16 bytes from the header, and the decoder 16 past a name.
    const char* store(std::string_view name) {
        constexpr std::size_t block = 64 * 1024, slack = 16;
        std::size_t need = name.size() + 2;
        if (arena_left_ < need) {
            arenas_.push_back(std::make_unique<char[]>(block + slack)); // zeroed
            arena_next_ = arenas_.back().get();
            arena_left_ = block;
        }
        char* p = arena_next_;
        if (name.size() <= 255) {
            p[0] = static_cast<char>(119); // SMALL_ATOM_UTF8_EXT
            p[1] = static_cast<char>(name.size());
        }
        if (!name.empty()) std::memcpy(p + 2, name.data(), name.size());
        arena_next_ += need;
        arena_left_ -= need;
        return p + 2;
    }

    std::shared_mutex mutex_;
    std::unordered_map<std::string_view, std::uint32_t> index_;
    std::vector<std::unique_ptr<Entry[]>> owned_chunks_;
    std::vector<std::unique_ptr<char[]>> arenas_;
    char* arena_next_ = nullptr;
    std::size_t arena_left_ = 0;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::size_t> limit_{1'048'576};
};

Table& table() {
    static Table* t = new Table(); // never destroyed: atoms may be used during static teardown
    return *t;
}

// Per-thread direct-mapped cache of recent interns: a hit costs a hash and a memcmp.
struct CacheSlot {
    std::uint64_t hash = 0;
    std::uint32_t index = 0;
    bool used = false;
};
constexpr std::size_t cache_slots = 1024;
thread_local std::array<CacheSlot, cache_slots> intern_cache;

} // namespace

bool Atom::try_intern(std::string_view name, Atom& out) noexcept {
    std::uint64_t h = hash_bytes(name);
    CacheSlot& slot = intern_cache[h & (cache_slots - 1)];
    Table& t = table();
    if (slot.used && slot.hash == h) {
        Entry e = t.entry(slot.index);
        if (e.len == name.size() && std::memcmp(e.data, name.data(), name.size()) == 0) {
            out = Atom::from_index(slot.index);
            return true;
        }
    }
    std::uint32_t index;
    try {
        if (!t.find_or_insert(name, h, index)) return false;
    } catch (...) { // allocation failure: report as a full table
        return false;
    }
    slot = CacheSlot{h, index, true};
    out = Atom::from_index(index);
    return true;
}

Atom::Atom(std::string_view utf8) {
    if (!is_valid_atom_text(utf8))
        throw Error(atoms::badarg, "invalid atom text: not UTF-8 or longer than 255 characters");
    if (!try_intern(utf8, *this))
        throw Error(atoms::system_limit, "atom table is full (" + std::to_string(atom_table_limit()) + " atoms)");
}

std::string_view Atom::name() const noexcept {
    Entry* chunk = detail::atom_chunks[index_ >> chunk_bits].load(std::memory_order_acquire);
    if (!chunk) [[unlikely]] // only before the table exists: a predefined atom
        return table().entry(index_), name();
    Entry e = chunk[index_ & (chunk_size - 1)];
    return {e.data, e.len};
}

int compare(Atom a, Atom b) noexcept {
    if (a == b) return 0;
    // Byte order of UTF-8 is code point order, which is how Erlang orders atoms.
    int c = a.name().compare(b.name());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::size_t atom_count() noexcept { return table().count(); }
std::size_t atom_table_limit() noexcept { return table().limit(); }
void set_atom_table_limit(std::size_t limit) noexcept { table().set_limit(limit); }

bool is_valid_atom_text(std::string_view s) noexcept {
    std::size_t chars = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        if (++chars > 255) return false;
        unsigned c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        std::size_t n;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) <= n) return false;
        for (std::size_t i = 1; i <= n; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        static constexpr std::uint32_t min_for_len[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        p += n + 1;
    }
    return true;
}

} // namespace edist
