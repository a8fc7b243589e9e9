// ETF decoding (binary_to_term): one pass over the bytes, heap nodes built in place, and an
// explicit stack of open containers instead of recursion, so hostile nesting costs heap, not
// the C++ stack. Scalars are in decode_scalar.cpp.
#include "etf/atom_table.hpp"
#include "etf/decoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <variant>

namespace edist::etf {

using edist::detail::TermAccess;
using NodeTag = edist::detail::Tag;
using namespace codec;

namespace codec {

inline constexpr std::size_t short_binary = 32;

// A binary of up to short_binary bytes, in a node with room for short_binary bytes whatever its
// length; returns where its bytes go.
inline std::uint8_t* Decoder::short_binary_node(Term* slot, std::size_t len) {
    auto* b = arena_.make<edist::detail::BinaryNode>(sizeof(edist::detail::BinaryNode) + short_binary);
    b->bits = 8 * len;
    b->data = b->inline_bytes();
    TermAccess::place_node(slot, NodeTag::Binary, b);
    return b->inline_bytes();
}

// Tuples, maps, lists and binaries, the commonest tags after numbers and atoms, inlined into
// the container loop; every other tag goes to step_any, whose large frame they need not set up.
inline Decoder::Step Decoder::step(Term* slot) {
    const std::uint8_t* at = p_;
    if (remaining() >= 2) {
        if (*p_ == SMALL_TUPLE_EXT) {
            std::size_t n = p_[1];
            if (n != 0 && n <= remaining() - 2 && depth() < opts_.max_depth) {
                p_ += 2;
                auto* t = arena_.tuple(static_cast<std::uint32_t>(n));
                new (slot) Term(TermAccess::adopt(NodeTag::Tuple, t));
                frames_.push_back({t->elems(), 0, static_cast<std::uint32_t>(n), 0, FrameKind::Tuple, t, nullptr, at});
                return Step::Opened;
            }
        } else if (*p_ == MAP_EXT || *p_ == LIST_EXT) {
            // Opened here when nothing is wrong; step_any reports what is.
            const std::size_t left = remaining();
            const std::size_t n = left >= 5 ? get32(p_ + 1) : 0;
            if (n != 0 && depth() < opts_.max_depth) {
                if (*p_ == MAP_EXT && n <= (left - 5) / 2) {
                    p_ += 5;
                    auto* m = arena_.map(static_cast<std::uint32_t>(n));
                    TermAccess::place_node(slot, NodeTag::Map, m);
                    frames_.push_back(
                        {m->kv(), 0, static_cast<std::uint32_t>(2 * n), 0, FrameKind::Map, m, nullptr, at});
                    return Step::Opened;
                }
                if (*p_ == LIST_EXT && n < left - 5) {
                    p_ += 5;
                    auto* l = arena_.list(static_cast<std::uint32_t>(n));
                    TermAccess::place_node(slot, NodeTag::List, l);
                    frames_.push_back({l->elems(), 0, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n),
                                       FrameKind::List, l, slot, at});
                    return Step::Opened;
                }
            }
        } else if (*p_ == BINARY_EXT) {
            // A short binary (a name, an e-mail address) gets a node with room for 32 bytes,
            // whatever its length, and far from the input's end is copied as one 32-byte block:
            // no branches on the length, no call to memcpy.
            const std::size_t left = remaining();
            if (left >= 5 + short_binary) {
                const std::size_t len = get32(p_ + 1);
                if (len <= short_binary && copies(len)) {
                    std::memcpy(short_binary_node(slot, len), p_ + 5, short_binary);
                    p_ += 5 + len;
                    return Step::Value;
                }
            } else if (left >= 5) {
                const std::size_t len = get32(p_ + 1);
                if (len <= left - 5 && copies(len)) {
                    copy_bytes(short_binary_node(slot, len), p_ + 5, len);
                    p_ += 5 + len;
                    return Step::Value;
                }
            }
            ++p_;
            return read_binary(BINARY_EXT, at, slot) ? Step::Value : Step::Failed;
        }
    }
    return step_any(slot);
}

Decoder::Step Decoder::step_any(Term* slot) {
again:
    const std::uint8_t* at = p_;
    if (p_ == end_) return truncated(at), Step::Failed;
    std::uint8_t tag = *p_++;
    switch (tag) {
    case SMALL_INTEGER_EXT:
        if (!need(1, at)) return Step::Failed;
        new (slot) Term(TermAccess::small_int(*p_++));
        return Step::Value;
    case INTEGER_EXT:
        if (!need(4, at)) return Step::Failed;
        new (slot) Term(TermAccess::small_int(static_cast<std::int32_t>(get32(p_))));
        p_ += 4;
        return Step::Value;
    case SMALL_ATOM_UTF8_EXT:
    case ATOM_UTF8_EXT:
    case SMALL_ATOM_EXT:
    case ATOM_EXT:
    case ATOM_CACHE_REF: {
        Atom a;
        if (!read_atom_body(tag, at, a)) return Step::Failed;
        new (slot) Term(a);
        return Step::Value;
    }
    case NIL_EXT: new (slot) Term(); return Step::Value;
    case SMALL_TUPLE_EXT:
    case LARGE_TUPLE_EXT: {
        std::size_t n;
        if (tag == SMALL_TUPLE_EXT) {
            if (!need(1, at)) return Step::Failed;
            n = *p_++;
        } else {
            if (!need(4, at)) return Step::Failed;
            n = get32(p_);
            p_ += 4;
        }
        if (n > remaining())
            return fail("tuple of " + std::to_string(n) + " elements exceeds remaining " +
                            std::to_string(remaining()) + " bytes",
                        at),
                   Step::Failed;
        if (n > 0 && depth() >= opts_.max_depth)
            return fail("nesting deeper than max_depth", at), Step::Failed;
        auto* t = arena_.tuple(static_cast<std::uint32_t>(n));
        new (slot) Term(TermAccess::adopt(NodeTag::Tuple, t));
        if (n == 0) return Step::Value;
        frames_.push_back({t->elems(), 0, static_cast<std::uint32_t>(n), 0, FrameKind::Tuple, t, nullptr, at});
        return Step::Opened;
    }
    case LIST_EXT: {
        if (!need(4, at)) return Step::Failed;
        std::size_t n = get32(p_);
        p_ += 4;
        if (n == 0) goto again; // a list of no elements is just its tail, as OTP reads it
        if (n >= remaining()) // every element and the tail take a byte or more
            return fail("list of " + std::to_string(n) + " elements exceeds remaining " +
                            std::to_string(remaining()) + " bytes",
                        at),
                   Step::Failed;
        if (depth() >= opts_.max_depth) return fail("nesting deeper than max_depth", at), Step::Failed;
        auto* l = arena_.list(static_cast<std::uint32_t>(n));
        new (slot) Term(TermAccess::adopt(NodeTag::List, l));
        frames_.push_back({l->elems(), 0, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n), FrameKind::List, l, slot,
              at});
        return Step::Opened;
    }
    case STRING_EXT: {
        if (!need(2, at)) return Step::Failed;
        std::size_t n = get16(p_);
        p_ += 2;
        if (!need(n, at)) return Step::Failed;
        if (n == 0) {
            new (slot) Term();
            return Step::Value;
        }
        auto* l = arena_.list(static_cast<std::uint32_t>(n));
        for (std::size_t i = 0; i < n; ++i) new (&l->elems()[i]) Term(TermAccess::small_int(p_[i]));
        p_ += n;
        new (slot) Term(TermAccess::adopt(NodeTag::List, l));
        return Step::Value;
    }
    case MAP_EXT: {
        if (!need(4, at)) return Step::Failed;
        std::size_t n = get32(p_);
        p_ += 4;
        if (n > remaining() / 2)
            return fail("map of " + std::to_string(n) + " pairs exceeds remaining " + std::to_string(remaining()) +
                            " bytes",
                        at),
                   Step::Failed;
        if (n > 0 && depth() >= opts_.max_depth)
            return fail("nesting deeper than max_depth", at), Step::Failed;
        auto* m = arena_.map(static_cast<std::uint32_t>(n));
        new (slot) Term(TermAccess::adopt(NodeTag::Map, m));
        if (n == 0) return Step::Value;
        frames_.push_back({m->kv(), 0, static_cast<std::uint32_t>(2 * n), 0, FrameKind::Map, m, nullptr, at});
        return Step::Opened;
    }
    case BINARY_EXT:
    case BIT_BINARY_EXT: return read_binary(tag, at, slot) ? Step::Value : Step::Failed;
    case NEW_FLOAT_EXT:
    case FLOAT_EXT: return read_float(tag, at, slot) ? Step::Value : Step::Failed;
    case SMALL_BIG_EXT:
    case LARGE_BIG_EXT: return read_big(tag, at, slot) ? Step::Value : Step::Failed;
    case NEW_PID_EXT:
    case PID_EXT: {
        Pid pid;
        if (!read_pid_body(tag, at, pid)) return Step::Failed;
        auto* node = arena_.make<edist::detail::PidNode>(sizeof(edist::detail::PidNode), pid);
        new (slot) Term(TermAccess::adopt(NodeTag::Pid, node));
        return Step::Value;
    }
    case NEW_PORT_EXT:
    case PORT_EXT:
    case V4_PORT_EXT: return read_port(tag, at, slot) ? Step::Value : Step::Failed;
    case NEWER_REFERENCE_EXT:
    case NEW_REFERENCE_EXT:
    case REFERENCE_EXT: return read_ref(tag, at, slot) ? Step::Value : Step::Failed;
    case EXPORT_EXT: return read_export(slot) ? Step::Value : Step::Failed;
    case NEW_FUN_EXT: return open_fun(at, slot);
    case COMPRESSED: return fail("compressed term (tag 80) inside a term", at), Step::Failed;
    case FUN_EXT: return fail("FUN_EXT (tag 117) is no longer supported by OTP", at), Step::Failed;
    case LOCAL_EXT:
        return fail("LOCAL_EXT (tag 121) is only meaningful to the node that encoded it", at), Step::Failed;
    default: return fail("unknown tag " + std::to_string(tag), at), Step::Failed;
    }
}

Decoder::Step Decoder::open_fun(const std::uint8_t* at, Term* slot) {
    // Size, Arity, Uniq[16], Index, NumFree; Size counts itself and everything after it.
    if (!need(29, at)) return Step::Failed;
    const std::uint8_t* size_at = p_;
    std::uint32_t declared = get32(p_);
    if (declared > static_cast<std::size_t>(end_ - size_at))
        return fail("fun Size " + std::to_string(declared) + " exceeds remaining input", at), Step::Failed;
    FunData fun;
    fun.arity = p_[4];
    std::memcpy(fun.uniq.data(), p_ + 5, 16);
    fun.index = get32(p_ + 21);
    std::size_t num_free = get32(p_ + 25);
    p_ += 29;
    if (!read_atom(fun.module) || !read_integer(fun.old_index) || !read_integer(fun.old_uniq)) return Step::Failed;
    const std::uint8_t* pid_at = p_;
    if (!need(1, pid_at)) return Step::Failed;
    std::uint8_t pid_tag = *p_++;
    if (pid_tag != NEW_PID_EXT && pid_tag != PID_EXT)
        return fail("expected a pid in fun, found tag " + std::to_string(pid_tag), pid_at), Step::Failed;
    Pid pid;
    if (!read_pid_body(pid_tag, pid_at, pid)) return Step::Failed;
    fun.pid = Term(pid);
    if (num_free > remaining())
        return fail("fun with " + std::to_string(num_free) + " free variables exceeds remaining input", at),
               Step::Failed;
    if (num_free > 0 && depth() >= opts_.max_depth)
        return fail("nesting deeper than max_depth", at), Step::Failed;
    // Checked before the node is made: a failure after the slot is filled would leak it.
    if (num_free == 0 && static_cast<std::size_t>(p_ - size_at) != declared)
        return fail("fun Size " + std::to_string(declared) + " does not match its content", at), Step::Failed;
    fun.free_vars.resize(num_free);
    auto* node = arena_.make<edist::detail::FunNode>(sizeof(edist::detail::FunNode), std::move(fun));
    arena_.add_finalizer(node);
    new (slot) Term(TermAccess::adopt(NodeTag::Fun, node));
    Frame f{node->fun.free_vars.data(), 0, static_cast<std::uint32_t>(num_free), declared, FrameKind::Fun, node,
            nullptr, size_at};
    if (num_free == 0) {
        if (static_cast<std::size_t>(p_ - size_at) != declared)
            return fail("fun Size " + std::to_string(declared) + " does not match its content", at), Step::Failed;
        return Step::Value;
    }
    frames_.push_back(f);
    return Step::Opened;
}

// Grows the list being read by `more` elements (a LIST_EXT or STRING_EXT in tail position),
// so that [1 | [2]] comes out as the same node shape as [1, 2]. Capacity doubles, so a long
// chain of one-element LIST_EXTs costs linear time.
bool Decoder::extend_list(Frame& f, std::uint32_t more) {
    auto* l = static_cast<edist::detail::ListNode*>(f.node);
    std::uint64_t count = std::uint64_t(f.count) + more;
    if (count > std::numeric_limits<std::uint32_t>::max()) return fail("list too long", p_);
    if (count > f.cap) {
        // Never reserve past what the rest of the input could fill (a byte per element).
        std::uint64_t cap = std::max<std::uint64_t>(count, std::min<std::uint64_t>(2 * std::uint64_t(f.cap),
                                                                                    count + remaining()));
        cap = std::min<std::uint64_t>(cap, std::numeric_limits<std::uint32_t>::max());
        auto* bigger = arena_.list(static_cast<std::uint32_t>(cap));
        // The slots are uncounted arena references: a bytewise copy moves them, and the old
        // node stays unused in the arena until the arena goes.
        std::memcpy(static_cast<void*>(bigger->elems()), static_cast<const void*>(l->elems()),
                    std::size_t(f.count) * sizeof(Term));
        TermAccess::repoint(*f.slot, bigger);
        l = bigger;
        f.node = l;
        f.elems = l->elems();
        f.cap = static_cast<std::uint32_t>(cap);
    }
    f.count = static_cast<std::uint32_t>(count);
    l->size = f.count;
    return true;
}

namespace {

// Atoms order by their UTF-8 bytes, compared here eight at a time as big-endian words: the
// table lets 16 bytes past a name's end be read (atom_table.hpp), so no load needs a bounds
// check, and the bytes past the shorter name are shifted out of the last word.
int compare_names(edist::detail::AtomEntry a, edist::detail::AtomEntry b) noexcept {
    const std::size_t n = std::min(a.len, b.len);
    const auto* x = reinterpret_cast<const std::uint8_t*>(a.data);
    const auto* y = reinterpret_cast<const std::uint8_t*>(b.data);
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t u = get64(x + i), v = get64(y + i);
        if (n - i < 8) {
            const unsigned beyond = static_cast<unsigned>(8 * (8 - (n - i)));
            u >>= beyond;
            v >>= beyond;
        }
        if (u != v) return u < v ? -1 : 1;
    }
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

// The keys are those last confirmed ascending for a map of this size.
inline bool keys_known(const edist::detail::MapNode* m, const KnownKeys* known_keys) noexcept {
    const std::uint32_t n = m->size;
    if (n > max_known_keys || known_keys[n].n != n) return false;
    const Term* kv = const_cast<edist::detail::MapNode*>(m)->kv();
    const std::uint32_t* index = known_keys[n].index;
    for (std::uint32_t i = 0; i < n; ++i)
        if (TermAccess::tag(kv[2 * i]) != NodeTag::Atom || TermAccess::atom_index(kv[2 * i]) != index[i])
            return false;
    return true;
}

// Maps as OTP writes them (up to 32 keys) arrive sorted. When every key is an atom, or every
// key a small integer, that can be confirmed here without the general term comparison.
[[gnu::noinline]] bool keys_plainly_ascending(edist::detail::MapNode* m, KnownKeys* known_keys) noexcept {
    const Term* kv = m->kv();
    std::uint32_t n = m->size;
    NodeTag kind = TermAccess::tag(kv[0]);
    if (kind == NodeTag::Atom) {
        KnownKeys* known = n <= max_known_keys ? &known_keys[n] : nullptr;
        auto entry = [](const Term& k) {
            return edist::detail::atom_entry(Atom::from_index(TermAccess::atom_index(k)));
        };
        edist::detail::AtomEntry prev = entry(kv[0]);
        for (std::uint32_t i = 1; i < n; ++i) {
            const Term& k = kv[2 * i];
            if (TermAccess::tag(k) != NodeTag::Atom) return false;
            edist::detail::AtomEntry cur = entry(k);
            if (compare_names(prev, cur) >= 0) return false;
            prev = cur;
        }
        if (known) {
            for (std::uint32_t i = 0; i < n; ++i) known->index[i] = TermAccess::atom_index(kv[2 * i]);
            known->n = n;
        }
        return true;
    }
    if (kind == NodeTag::Small) {
        for (std::uint32_t i = 1; i < n; ++i) {
            const Term& k = kv[2 * i];
            if (TermAccess::tag(k) != NodeTag::Small || TermAccess::small(kv[2 * i - 2]) >= TermAccess::small(k))
                return false;
        }
        return true;
    }
    return false;
}

} // namespace

// A list's elements are done: read what follows. More LIST_EXT or STRING_EXT elements join
// this list; anything else but [] becomes the tail, read as the frame's one remaining slot.
Decoder::Step Decoder::list_tail(Frame& f) {
    for (;;) {
        const std::uint8_t* at = p_;
        if (p_ == end_) return truncated(at), Step::Failed;
        switch (*p_) {
        case NIL_EXT: ++p_; return Step::Value;
        case STRING_EXT: {
            if (!need(3, at)) return Step::Failed;
            std::size_t n = get16(p_ + 1);
            p_ += 3;
            if (!need(n, at) || !extend_list(f, static_cast<std::uint32_t>(n))) return Step::Failed;
            for (std::size_t i = 0; i < n; ++i) new (&f.elems[f.idx + i]) Term(TermAccess::small_int(p_[i]));
            f.idx = f.count;
            p_ += n;
            return Step::Value;
        }
        case LIST_EXT: {
            if (!need(5, at)) return Step::Failed;
            std::size_t n = get32(p_ + 1);
            p_ += 5;
            if (n >= remaining())
                return fail("list of " + std::to_string(n) + " elements exceeds remaining " +
                                std::to_string(remaining()) + " bytes",
                            at),
                       Step::Failed;
            if (n == 0) continue;
            if (!extend_list(f, static_cast<std::uint32_t>(n))) return Step::Failed;
            return Step::Opened;
        }
        default:
            f.kind = FrameKind::ListTail;
            f.elems = &static_cast<edist::detail::ListNode*>(f.node)->tail;
            f.idx = 0;
            f.count = 1;
            return Step::Opened;
        }
    }
}

// All slots of `f` are filled: check and complete the container. Opened means a list found
// more elements (or its tail) to read.
Decoder::Step Decoder::finish(Frame& f) {
    switch (f.kind) {
    case FrameKind::List: return list_tail(f);
    case FrameKind::Map: {
        auto* m = static_cast<edist::detail::MapNode*>(f.node);
        if (keys_known(m, caches_->known_keys) || keys_plainly_ascending(m, caches_->known_keys) ||
            edist::detail::sort_map(m))
            return Step::Value;
        return fail_finish(f);
    }
    case FrameKind::Fun:
        if (static_cast<std::size_t>(p_ - f.start) == f.cap) return Step::Value;
        return fail_finish(f);
    default: return Step::Value;
    }
}

// Out of line, so that finish() needs no stack for building messages.
Decoder::Step Decoder::fail_finish(const Frame& f) {
    if (f.kind == FrameKind::Map) return fail("duplicate map key", f.start), Step::Failed;
    return fail("fun Size " + std::to_string(f.cap) + " does not match its content", f.start - 1), Step::Failed;
}

bool Decoder::run(const std::uint8_t* start, Term& out) {
    p_ = start;
    bool ok;
    try {
        ok = run_frames(out);
    } catch (...) { // bad_alloc: `out` refers into the arena the builder is about to free
        TermAccess::forget(out);
        throw;
    }
    if (!ok) {
        TermAccess::forget(out); // the arena (and the partial term in it) goes with the builder
        return false;
    }
    if (TermAccess::tag(out) >= NodeTag::Big)
        arena_.take(); // the root's reference is the one the builder held
    else
        arena_.release();
    return true;
}

// The elements the container loop reads itself, without a call: small integers, floats and
// atoms of up to 16 bytes seen recently (map keys, records' tags). Answers false, having read
// nothing, for anything else. Unless `Checked`, at least `longest_common` bytes are left, so the
// element is read without a bounds check.
inline constexpr std::size_t longest_common = 2 + 16; // SMALL_ATOM_UTF8_EXT of 16 bytes

template <bool Checked>
[[gnu::always_inline]] inline bool read_common(const std::uint8_t*& p, const std::uint8_t* end, Term* out,
                                               RecentAtom* recent) noexcept {
    const std::size_t left = static_cast<std::size_t>(end - p);
    if (Checked && left < 2) return false;
    const std::uint8_t tag = *p;
    if (tag == SMALL_INTEGER_EXT) {
        TermAccess::place_small(out, p[1]);
        p += 2;
        return true;
    }
    if (tag == INTEGER_EXT) {
        if (Checked && left < 5) return false;
        TermAccess::place_small(out, static_cast<std::int32_t>(get32(p + 1)));
        p += 5;
        return true;
    }
    if (tag == NEW_FLOAT_EXT) {
        if (Checked && left < 9) return false;
        const std::uint64_t bits = get64(p + 1);
        constexpr std::uint64_t exponent = 0x7FF0000000000000ull;
        if ((bits & exponent) == exponent) return false; // not finite: step_any refuses it
        TermAccess::place(out, NodeTag::Float, bits);
        p += 9;
        return true;
    }
    if (tag == SMALL_ATOM_UTF8_EXT) {
        const std::size_t len = p[1];
        if (len > 16 || (Checked && left - 2 < len)) return false;
        AtomKey key = atom_key(p + 2, len, Checked ? left - 2 : 16);
        const RecentAtom& r = recent_atom(recent, key, len);
        if (!recent_atom_matches(r, key, len)) return false;
        TermAccess::place_atom(out, r.index);
        p += 2 + len;
        return true;
    }
    return false;
}

bool Decoder::run_frames(Term& out) {
    // The result is the one slot of a root frame, so the loop below has no special case for it.
    frames_.push_back({&out, 0, 1, 0, FrameKind::Tuple, nullptr, nullptr, p_});
    Frame* f = &frames_.back();
    // An element starting before `far` has longest_common bytes or more left.
    const std::uint8_t* const far = end_ - std::min<std::size_t>(end_ - begin_, longest_common - 1);
    RecentAtom* const recent = caches_->recent_atoms;
    for (;;) {
        // The hot loop: fill the innermost container. Common scalars are decoded right here;
        // everything else goes through step(), which may open a new innermost container.
        while (f->idx < f->count) {
            // Locals, not members: stores into Terms could otherwise alias the byte pointer.
            const std::uint8_t* p = p_;
            const std::uint8_t* const end = end_;
            Term* const elems = f->elems;
            Term* slot = elems + f->idx;
            Term* const stop = elems + f->count;
            while (slot != stop) {
                if (p >= far) {
                    if (!read_common<true>(p, end, slot, recent)) break;
                    ++slot;
                    continue;
                }
                if (*p == INTEGER_EXT) {
                    // A run of 32-bit integers (a list of numbers): a tighter loop.
                    do {
                        TermAccess::place_small(slot, static_cast<std::int32_t>(get32(p + 1)));
                        p += 5;
                    } while (++slot != stop && p < far && *p == INTEGER_EXT);
                    continue;
                }
                if (*p == BINARY_EXT && static_cast<std::size_t>(end - p) >= 5 + short_binary) {
                    const std::size_t len = get32(p + 1);
                    if (len <= short_binary && copies(len)) { // as in step(), without leaving the loop
                        std::memcpy(short_binary_node(slot, len), p + 5, short_binary);
                        p += 5 + len;
                        ++slot;
                        continue;
                    }
                }
                if (!read_common<false>(p, end, slot, recent)) break;
                ++slot;
            }
            p_ = p;
            f->idx = static_cast<std::uint32_t>(slot - elems);
            if (slot == stop) break;
            Step s = step(slot);
            if (s == Step::Value) {
                ++f->idx;
            } else if (s == Step::Opened) {
                f = &frames_.back();
            } else {
                return false;
            }
        }
        if (f->kind == FrameKind::List && p_ != end_ && *p_ == NIL_EXT) {
            ++p_; // a proper list's tail: what list_tail() would read first, without the call
        } else if (f->kind != FrameKind::Tuple) { // a tuple (or the root) needs no check
            Step s = finish(*f);
            if (s == Step::Opened) continue;
            if (s == Step::Failed) return false;
        }
        frames_.pop_back();
        if (frames_.empty()) return true;
        f = &frames_.back();
        ++f->idx;
    }
}

} // namespace codec

namespace {

// zlib cannot expand data by more than about 1032:1, so a larger declared size is a lie.
constexpr std::size_t max_deflate_ratio = 1032;

Error input_error(const std::string& what, std::size_t offset) {
    return Error(atoms::badarg, what + " at offset " + std::to_string(offset), offset);
}

// Inflates exactly `out_size` bytes. Returns the compressed bytes consumed, or an error text.
// Work is bounded by out_size: a stream that would produce more is cut off after one byte.
std::variant<std::size_t, std::string> inflate_exact(const std::uint8_t* in, std::size_t in_size,
                                                     std::uint8_t* out, std::size_t out_size) {
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) return std::string("zlib initialisation failed");
    struct Closer {
        z_stream* z;
        ~Closer() { inflateEnd(z); }
    } closer{&zs};
    constexpr std::size_t chunk = std::numeric_limits<uInt>::max();
    zs.next_in = const_cast<Bytef*>(in);
    zs.next_out = out;
    std::size_t in_left = in_size, out_left = out_size;
    std::uint8_t spare;
    bool probing = false; // `out` is full: one more byte would mean the size was a lie
    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            zs.avail_in = static_cast<uInt>(std::min(in_left, chunk));
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0) {
            if (out_left > 0) {
                zs.avail_out = static_cast<uInt>(std::min(out_left, chunk));
                out_left -= zs.avail_out;
            } else {
                probing = true;
                zs.next_out = &spare;
                zs.avail_out = 1;
            }
        }
        uLong in_before = zs.total_in, out_before = zs.total_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        if (probing && zs.avail_out == 0)
            return "compressed term declares " + std::to_string(out_size) + " bytes but inflates to more";
        if (rc == Z_STREAM_END) {
            if (zs.total_out != out_size)
                return "compressed term declares " + std::to_string(out_size) + " bytes but inflates to " +
                       std::to_string(zs.total_out);
            return static_cast<std::size_t>(zs.total_in);
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) return std::string("corrupt compressed data");
        bool stuck = zs.total_in == in_before && zs.total_out == out_before;
        if (zs.avail_out != 0 && zs.avail_in == 0 && in_left == 0)
            return "compressed data ends early (inflated " + std::to_string(zs.total_out) + " of " +
                   std::to_string(out_size) + " bytes)";
        if (stuck && zs.avail_out != 0 && zs.avail_in != 0) return std::string("corrupt compressed data");
    }
}

// Tag 80 at `offset`: OTP only compresses a whole term, so the inflated bytes hold one term
// that is not itself compressed.
Result<Term> decode_compressed(std::span<const std::uint8_t> bytes, std::size_t& offset, const DecodeOptions& opts) {
    std::size_t at = offset;
    if (bytes.size() - at < 5) return input_error("truncated input", at);
    std::size_t declared = get32(bytes.data() + at + 1);
    std::size_t compressed = bytes.size() - at - 5;
    if (declared / max_deflate_ratio > compressed)
        return input_error("compressed term declares " + std::to_string(declared) + " bytes but has only " +
                               std::to_string(compressed) + " compressed bytes",
                           at);
    if (declared > opts.max_uncompressed_size)
        return input_error("compressed term declares " + std::to_string(declared) +
                               " bytes, more than max_uncompressed_size (" +
                               std::to_string(opts.max_uncompressed_size) + ")",
                           at);
    // The inflated bytes live in a binary node, so large binaries inside can share them.
    auto* buffer = edist::detail::alloc_binary(declared * 8);
    Term holder = TermAccess::adopt(NodeTag::Binary, buffer);
    auto inflated = inflate_exact(bytes.data() + at + 5, compressed, buffer->inline_bytes(), declared);
    if (auto* why = std::get_if<std::string>(&inflated)) return input_error(*why, at);
    const std::uint8_t* data = buffer->inline_bytes();
    if (declared > 0 && data[0] == COMPRESSED) return input_error("compressed term inside a compressed term", at);
    Decoder d(data, data + declared, opts, buffer);
    d.set_context(" of the uncompressed term at offset " + std::to_string(at));
    Term out;
    if (!d.run(data, out)) return d.error();
    if (d.pos() != data + declared)
        return input_error("trailing bytes after term (" + std::to_string(data + declared - d.pos()) +
                               ") inside compressed data",
                           at);
    offset = at + 5 + std::get<std::size_t>(inflated);
    return out;
}

Result<Term> decode_one(std::span<const std::uint8_t> bytes, std::size_t& offset, const DecodeOptions& opts,
                        edist::detail::Node* owner) {
    if (offset < bytes.size() && bytes[offset] == COMPRESSED) return decode_compressed(bytes, offset, opts);
    Decoder d(bytes.data(), bytes.data() + bytes.size(), opts, owner);
    Term out;
    if (!d.run(bytes.data() + offset, out)) return d.error();
    offset = static_cast<std::size_t>(d.pos() - bytes.data());
    return out;
}

[[gnu::cold, gnu::noinline]] Result<Term> bad_version(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return input_error("truncated input", 0);
    return input_error("expected version byte 131, found " + std::to_string(bytes[0]), 0);
}

[[gnu::cold, gnu::noinline]] Result<Term> decode_whole_compressed(std::span<const std::uint8_t> bytes,
                                                                  const DecodeOptions& opts) {
    std::size_t offset = 1;
    Result<Term> r = decode_compressed(bytes, offset, opts);
    if (r.ok() && offset != bytes.size()) return input_error("trailing bytes after term", offset);
    return r;
}

// decode_one for a whole input after its version byte, written out so that a small term's
// decode is one call into the decoder and one Result built.
[[gnu::always_inline]] inline Result<Term> decode_whole(std::span<const std::uint8_t> bytes,
                                                        const DecodeOptions& opts, edist::detail::Node* owner) {
    if (bytes.empty() || bytes[0] != version_magic) [[unlikely]]
        return bad_version(bytes);
    if (bytes.size() > 1 && bytes[1] == COMPRESSED) [[unlikely]]
        return decode_whole_compressed(bytes, opts);
    Decoder d(bytes.data(), bytes.data() + bytes.size(), opts, owner);
    Term out;
    if (!d.run(bytes.data() + 1, out)) [[unlikely]]
        return d.error();
    if (d.pos() != bytes.data() + bytes.size()) [[unlikely]]
        return input_error("trailing bytes after term", static_cast<std::size_t>(d.pos() - bytes.data()));
    return out;
}

edist::detail::Node* storage_owner(const Term& binary) noexcept {
    auto* b = TermAccess::as<edist::detail::BinaryNode>(binary);
    return b->parent ? b->parent : b;
}

} // namespace

Result<Term> decode(std::span<const std::uint8_t> bytes, const DecodeOptions& opts) {
    return decode_whole(bytes, opts, nullptr);
}

Result<Term> decode(const Term& binary, const DecodeOptions& opts) {
    if (TermAccess::tag(binary) != NodeTag::Binary) return Error(atoms::badarg, "decode: expected a binary");
    const auto* b = TermAccess::as<edist::detail::BinaryNode>(binary);
    if (b->bits % 8 != 0) return Error(atoms::badarg, "decode: expected a binary");
    const std::span<const std::uint8_t> bytes(b->data, b->bits / 8);
    // A term that is one large binary (a file, a blob: the commonest large message) becomes a
    // node pointing into the input, without a decoder or an arena.
    if (bytes.size() >= 6 && bytes[0] == version_magic && bytes[1] == BINARY_EXT &&
        get32(bytes.data() + 2) == bytes.size() - 6 && bytes.size() - 6 >= opts.share_binaries_from)
        return TermAccess::adopt(NodeTag::Binary, edist::detail::alloc_sub_binary(
                                                      storage_owner(binary), bytes.data() + 6, 8 * (bytes.size() - 6)));
    return decode_whole(bytes, opts, storage_owner(binary));
}

Result<Term> decode_at(std::span<const std::uint8_t> bytes, std::size_t& offset, const DecodeOptions& opts,
                       const Term* owner) {
    if (offset > bytes.size()) return input_error("offset past the end of the input", bytes.size());
    edist::detail::Node* node = nullptr;
    if (owner && owner->is_binary() && !bytes.empty()) {
        auto held = owner->as_binary();
        std::less_equal<const std::uint8_t*> le;
        if (le(held.data(), bytes.data()) && le(bytes.data() + bytes.size(), held.data() + held.size()))
            node = storage_owner(*owner);
    }
    return decode_one(bytes, offset, opts, node);
}

} // namespace edist::etf
