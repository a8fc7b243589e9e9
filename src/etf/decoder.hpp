// The ETF decoder's state machine, shared by decode.cpp (containers, entry points) and
// decode_scalar.cpp (atoms, numbers, identifiers). Private to the codec.
#pragma once

#include <edist/etf.hpp>

#include "etf/codec_internal.hpp"
#include "etf/term_impl.hpp"

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
inline thread_local RecentAtom recent_atoms[std::size_t(1) << recent_atom_slot_bits];

struct AtomKey {
    std::uint64_t lo, hi;
};

// The text's bytes (at most 16) as two words, zero beyond `len`.
inline AtomKey atom_key(const std::uint8_t* p, std::size_t len, std::size_t readable) noexcept {
    std::uint64_t lo = 0, hi = 0;
    if (readable < 16) [[unlikely]] { // near the end of the input: do not load past it
        if (len <= 8 && readable >= 8) { // a short atom near the end of a small term
            std::memcpy(&lo, p, 8);
            if (len < 8) lo &= (std::uint64_t(1) << (8 * len)) - 1;
            return {lo, 0};
        }
        for (std::size_t i = 0; i < len; ++i) (i < 8 ? lo : hi) |= std::uint64_t(p[i]) << (8 * (i % 8));
        return {lo, hi};
    }
    std::memcpy(&lo, p, 8);
    std::memcpy(&hi, p + 8, 8);
    if (len < 8) {
        lo &= (std::uint64_t(1) << (8 * len)) - 1;
        hi = 0;
    } else if (len < 16) {
        hi &= (std::uint64_t(1) << (8 * (len - 8))) - 1;
    }
    return {lo, hi};
}

// The slot is taken from the product's top bits, which depend on every bit of the text (the
// low bits would not see a difference in the last bytes: field_1 and field_2 would collide).
inline RecentAtom& recent_atom(AtomKey k, std::size_t len) noexcept {
    std::uint64_t h = (k.lo ^ (k.hi * 0x9E3779B97F4A7C15ull) ^ len) * 0xFF51AFD7ED558CCDull;
    return recent_atoms[h >> (64 - recent_atom_slot_bits)];
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
          arena_(static_cast<std::size_t>(end - begin)) {}

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
    Step open_fun(const std::uint8_t* at, Term* slot);
    Step finish(Frame& f);
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

    Atom reason_ = atoms::badarg;
    std::string message_;
    std::size_t error_offset_ = 0;
    std::string context_;
};

} // namespace edist::etf::codec
