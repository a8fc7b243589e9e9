// The ETF decoder's state machine, shared by decode.cpp (containers, entry points) and
// decode_scalar.cpp (atoms, numbers, identifiers). Private to the codec.
#pragma once

#include <edist/etf.hpp>

#include "etf/codec_internal.hpp"
#include "etf/term_impl.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace edist::etf::codec {

// Recently decoded UTF-8 atom texts of up to 16 bytes, per thread. A hit skips UTF-8
// validation and the atom table's hash; atoms never die, so an entry never goes stale.
struct RecentAtom {
    std::uint64_t lo, hi;
    std::uint32_t len_plus_one; // 0: empty slot
    std::uint32_t index;
};
inline constexpr std::size_t recent_atom_slot_bits = 9;

// Maps of one shape (records, JSON-like objects) come again and again. Per map size, the last
// atom keys confirmed ascending (by their indexes), so that a map with the same keys is
// confirmed without comparing names. Atoms never die: an entry never goes stale.
inline constexpr std::uint32_t max_known_keys = 32; // OTP's flatmap limit
struct KnownKeys {
    std::uint32_t n; // 0: empty; else the slot's size
    std::uint32_t index[max_known_keys];
};

// The decoder's per-thread memory, in one thread_local: the library is position-independent
// code, where finding a thread_local is a call (__tls_get_addr) around which the compiler saves
// the registers it holds, so a Decoder finds it once and keeps a pointer.
struct DecodeCaches {
    RecentAtom recent_atoms[std::size_t(1) << recent_atom_slot_bits];
    KnownKeys known_keys[max_known_keys + 1];
};
inline thread_local DecodeCaches decode_caches;

struct AtomKey {
    std::uint64_t lo, hi;
};

// For a text of `len` bytes, which bits of its two words are the text's.
struct AtomKeyMask {
    std::uint64_t lo, hi;
};
inline constexpr auto atom_key_masks = [] {
    std::array<AtomKeyMask, 17> m{};
    for (std::size_t len = 0; len <= 16; ++len) {
        m[len].lo = len >= 8 ? ~std::uint64_t(0) : (std::uint64_t(1) << (8 * len)) - 1;
        m[len].hi = len >= 16 ? ~std::uint64_t(0) : len <= 8 ? 0 : (std::uint64_t(1) << (8 * (len - 8))) - 1;
    }
    return m;
}();

// The text's bytes (at most 16) as two words, zero beyond `len`. Far from the input's end, two
// loads masked from a table: no branch on the length, which varies from one key to the next.
inline AtomKey atom_key(const std::uint8_t* p, std::size_t len, std::size_t readable) noexcept {
    std::uint64_t lo = 0, hi = 0;
    if (readable < 16) [[unlikely]] { // near the end of the input: do not load past it
        if (len <= 8 && readable >= 8) { // a short atom near the end of a small term
            std::memcpy(&lo, p, 8);
            return {lo & atom_key_masks[len].lo, 0};
        }
        for (std::size_t i = 0; i < len; ++i) (i < 8 ? lo : hi) |= std::uint64_t(p[i]) << (8 * (i % 8));
        return {lo, hi};
    }
    std::memcpy(&lo, p, 8);
    std::memcpy(&hi, p + 8, 8);
    const AtomKeyMask& m = atom_key_masks[len];
    return {lo & m.lo, hi & m.hi};
}

// Whether `r` holds the text `k` of `len` bytes: one test of three comparisons.
inline bool recent_atom_matches(const RecentAtom& r, AtomKey k, std::size_t len) noexcept {
    return ((r.lo ^ k.lo) | (r.hi ^ k.hi) | (r.len_plus_one ^ (len + 1))) == 0;
}

// The slot is taken from the product's top bits, which depend on every bit of the text (the
// low bits would not see a difference in the last bytes: field_1 and field_2 would collide).
inline RecentAtom& recent_atom(RecentAtom* table, AtomKey k, std::size_t len) noexcept {
    std::uint64_t h = (k.lo ^ (k.hi * 0x9E3779B97F4A7C15ull) ^ len) * 0xFF51AFD7ED558CCDull;
    return table[h >> (64 - recent_atom_slot_bits)];
}

enum class FrameKind : std::uint8_t { Tuple, List, ListTail, Map, Fun };

// One container being filled. Elements [0, idx) are constructed; the rest are raw memory
// (except for funs, whose free-variable vector starts as [] values, and a list's tail, which
// a ListTail frame fills as its one slot). The slots' references are arena-internal: uncounted.
struct Frame {
    Term* elems;
    std::uint32_t idx;
    std::uint32_t count;
    std::uint32_t cap;   // List: element slots allocated; Fun: the declared Size field
    FrameKind kind;
    edist::detail::Node* node;
    Term* slot;          // List: the Term holding the node, which may be reallocated
    const std::uint8_t* start; // Map, Fun: where the container began (for errors and Size)
};

class Decoder {
public:
    // `owner`, when set, is a node whose storage holds [begin, end): large binaries point into
    // it instead of being copied.
    Decoder(const std::uint8_t* begin, const std::uint8_t* end, const DecodeOptions& opts,
            edist::detail::Node* owner) noexcept
        : begin_(begin), end_(end), p_(begin), opts_(opts), owner_(owner),
          arena_(static_cast<std::size_t>(end - begin)), caches_(&decode_caches) {}

    // Decodes one term starting at `start` into `out` (which must hold []). Every node is
    // built in one arena (term_impl.hpp), which `out` holds on success. On failure `out` is
    // left [] and error() says why.
    bool run(const std::uint8_t* start, Term& out);

    const std::uint8_t* pos() const noexcept { return p_; }
    // For reading scalars one by one (term_reader.hpp): where the next read starts.
    void seek(const std::uint8_t* p) noexcept { p_ = p; }
    Error error() const { return Error(reason_, message_, error_offset_); }

    // Names offsets as positions in inflated data rather than in the caller's bytes.
    void set_context(std::string suffix) { context_ = std::move(suffix); }

    // Reports a failure at `at`; always returns false so callers can `return fail(...)`.
    [[gnu::cold]] bool fail(const std::string& what, const std::uint8_t* at);
    [[gnu::cold]] bool fail_limit(const std::string& what, const std::uint8_t* at);
    [[gnu::cold]] bool truncated(const std::uint8_t* at) { return fail("truncated input", at); }

    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
    bool need(std::size_t n, const std::uint8_t* at) {
        return remaining() >= n ? true : truncated(at);
    }

    // --- scalars (decode_scalar.cpp): each reads the body after an already consumed tag ---
    bool read_atom_body(std::uint8_t tag, const std::uint8_t* at, Atom& out);
    bool read_atom(Atom& out); // tag and body
    bool read_float(std::uint8_t tag, const std::uint8_t* at, Term* slot);
    bool read_big(std::uint8_t tag, const std::uint8_t* at, Term* slot);
    bool read_integer(Term& out); // tag and body: 97, 98, 110 or 111
    bool read_pid_body(std::uint8_t tag, const std::uint8_t* at, Pid& out);
    bool read_port(std::uint8_t tag, const std::uint8_t* at, Term* slot);
    bool read_ref(std::uint8_t tag, const std::uint8_t* at, Term* slot);
    bool read_ref_value(std::uint8_t tag, const std::uint8_t* at, Ref& out);
    bool read_export(Term* slot);
    bool read_binary(std::uint8_t tag, const std::uint8_t* at, Term* slot);

private:
    enum class Step : std::uint8_t { Value, Opened, Failed };
    // Decodes one term into `slot`; a container is pushed as a new frame (Opened).
    [[gnu::always_inline]] inline Step step(Term* slot);
    [[gnu::noinline]] Step step_any(Term* slot); // every tag
    std::uint8_t* short_binary_node(Term* slot, std::size_t len);
    // A binary of `len` bytes is copied out of the input rather than shared.
    bool copies(std::size_t len) const noexcept { return !owner_ || len < opts_.share_binaries_from; }
    Step open_fun(const std::uint8_t* at, Term* slot);
    Step finish(Frame& f);
    [[gnu::cold, gnu::noinline]] Step fail_finish(const Frame& f); // a duplicate map key, a fun's Size
    Step list_tail(Frame& f);
    // Open containers, not counting the root frame.
    std::size_t depth() const noexcept { return frames_.size() - 1; }
    bool extend_list(Frame& f, std::uint32_t more);
    bool run_frames(Term& out);

    const std::uint8_t* begin_;
    const std::uint8_t* end_;
    const std::uint8_t* p_;
    const DecodeOptions& opts_;
    edist::detail::Node* owner_;
    edist::detail::ArenaBuilder arena_;
    SmallStack<Frame, 24> frames_;
    DecodeCaches* caches_; // this thread's

    Atom reason_ = atoms::badarg;
    std::string message_;
    std::size_t error_offset_ = 0;
    std::string context_;
};

} // namespace edist::etf::codec
