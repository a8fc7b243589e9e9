// Term construction, typed access and node lifetime.
#include "etf/term_impl.hpp"
#include "etf/text_common.hpp"

#include <edist/convert.hpp>
#include <edist/text.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

namespace edist {

using detail::Tag;
using detail::TermAccess;

std::string_view kind_name(Kind k) noexcept {
    switch (k) {
    case Kind::Integer: return "integer";
    case Kind::Float: return "float";
    case Kind::Atom: return "atom";
    case Kind::Reference: return "reference";
    case Kind::Fun: return "fun";
    case Kind::Export: return "external fun";
    case Kind::Port: return "port";
    case Kind::Pid: return "pid";
    case Kind::Tuple: return "tuple";
    case Kind::Map: return "map";
    case Kind::Nil: return "[]";
    case Kind::List: return "list";
    case Kind::Binary: return "bit string";
    }
    return "?";
}

namespace detail {

namespace {

// Small nodes come from per-thread free lists in 16-byte size classes: decoding and dropping
// terms is mostly allocating and freeing such nodes, and a free list is several times
// cheaper than malloc. A thread keeps at most `pool_cap` blocks of a class; nodes freed on
// another thread than they were made on simply join that thread's lists.
constexpr std::size_t pool_classes = 16; // blocks of 16..256 bytes
#if defined(__SANITIZE_ADDRESS__)
constexpr std::uint32_t pool_cap = 0; // let AddressSanitizer see every use after free
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr std::uint32_t pool_cap = 0;
#else
constexpr std::uint32_t pool_cap = 4096;
#endif
#else
constexpr std::uint32_t pool_cap = 4096;
#endif

struct Pool {
    struct Block {
        Block* next;
    };
    std::array<Block*, pool_classes + 1> free{};
    std::array<std::uint32_t, pool_classes + 1> count{};
    ~Pool() {
        for (auto* b : free)
            while (b) {
                Block* next = b->next;
                ::operator delete(b);
                b = next;
            }
    }
};
thread_local Pool pool;

void* alloc_raw(std::size_t bytes, std::uint8_t& cls) {
    std::size_t c = (bytes + 15) / 16;
    if (c > pool_classes) {
        cls = 0;
        return ::operator new(bytes);
    }
    cls = static_cast<std::uint8_t>(c);
    Pool& p = pool; // once: each mention of a thread_local is a lookup and a guard test
    if (Pool::Block* b = p.free[c]) {
        p.free[c] = b->next;
        --p.count[c];
        return b;
    }
    return ::operator new(c * 16);
}

template <class N>
N* make_node(std::size_t bytes, auto&&... args) {
    std::uint8_t cls;
    N* n = new (alloc_raw(bytes, cls)) N(std::forward<decltype(args)>(args)...);
    n->pool_class = cls;
    return n;
}

} // namespace

void free_node(void* n, std::uint8_t c) noexcept {
    if (c == 0) {
        ::operator delete(n);
        return;
    }
    Pool& p = pool;
    if (p.count[c] >= pool_cap) {
        ::operator delete(n);
        return;
    }
    auto* b = static_cast<Pool::Block*>(n);
    b->next = p.free[c];
    p.free[c] = b;
    ++p.count[c];
}

TupleNode* alloc_tuple(std::uint32_t n) {
    return make_node<TupleNode>(sizeof(TupleNode) + std::size_t(n) * sizeof(Term), n);
}
ListNode* alloc_list(std::uint32_t n) {
    return make_node<ListNode>(sizeof(ListNode) + std::size_t(n) * sizeof(Term), n);
}
MapNode* alloc_map(std::uint32_t n) {
    return make_node<MapNode>(sizeof(MapNode) + std::size_t(n) * 2 * sizeof(Term), n);
}
BinaryNode* alloc_binary(std::size_t bits) {
    auto* b = make_node<BinaryNode>(sizeof(BinaryNode) + (bits + 7) / 8);
    b->bits = bits;
    b->data = b->inline_bytes();
    return b;
}
BinaryNode* alloc_sub_binary(Node* parent, const std::uint8_t* data, std::size_t bits) {
    auto* b = make_node<BinaryNode>(sizeof(BinaryNode));
    retain_node(parent);
    b->parent = parent;
    b->data = data;
    b->bits = bits;
    return b;
}

// --- Arenas -------------------------------------------------------------------------------------

namespace {
constexpr std::size_t block_header = (sizeof(ArenaBlock) + 7) & ~std::size_t(7);
constexpr std::size_t arena_header_bytes = (sizeof(Arena) + 7) & ~std::size_t(7);
// The first block holds about what the input will need (a decoded term takes 2.5-6 times its
// encoded size in nodes), within these bounds; later ones double up to the largest size.
// A first block of the largest size is exactly 16 KB, header included.
constexpr std::size_t first_block_min = 128, largest_block = 1024 * 1024;
constexpr std::size_t first_block_max = 16 * 1024 - block_header - arena_header_bytes;

#if EDIST_ARENA_POISON
extern "C" void __asan_poison_memory_region(void const volatile*, std::size_t);
extern "C" void __asan_unpoison_memory_region(void const volatile*, std::size_t);
void poison(void* p, std::size_t n) noexcept { __asan_poison_memory_region(p, n); }
void unpoison_block(ArenaBlock* b, std::size_t n) noexcept { __asan_unpoison_memory_region(b, n); }
#endif

// Arena blocks of 512 bytes to 16 KB come in powers of two, and a thread keeps one spare of
// each size: decoding a term of a few KB and dropping it, over and over, would otherwise take
// each block from malloc's slower bins (tcache stops at about 1 KB) and give it back.
constexpr unsigned spare_min_shift = 9, spare_max_shift = 14;
constexpr std::size_t spare_max = std::size_t(1) << spare_max_shift;
struct SpareBlocks {
    std::array<void*, spare_max_shift - spare_min_shift + 1> block{};
    ~SpareBlocks() {
        for (void* b : block) ::operator delete(b);
    }
};
thread_local SpareBlocks spare_blocks;

[[gnu::noinline]] void* alloc_spare(std::size_t& bytes, std::uint8_t& cls) {
    unsigned shift = std::max<unsigned>(spare_min_shift, static_cast<unsigned>(std::bit_width(bytes - 1)));
    cls = static_cast<std::uint8_t>(pool_classes + 1 + (shift - spare_min_shift));
    bytes = std::size_t(1) << shift;
    if (void* b = std::exchange(spare_blocks.block[shift - spare_min_shift], nullptr)) return b;
    return ::operator new(bytes);
}

// Memory for a block of at least `bytes`, and in `bytes` how much it really holds.
inline void* alloc_block(std::size_t& bytes, std::uint8_t& cls) {
    if (bytes <= pool_classes * 16 || bytes > spare_max || pool_cap == 0) return alloc_raw(bytes, cls);
    return alloc_spare(bytes, cls);
}

[[gnu::noinline]] void free_spare(void* b, std::uint8_t cls) noexcept {
    void*& spare = spare_blocks.block[cls - pool_classes - 1];
    if (!spare) {
        spare = b;
        return;
    }
    ::operator delete(b);
}

inline void free_block(void* b, std::uint8_t cls) noexcept {
    if (cls > pool_classes) return free_spare(b, cls);
    free_node(b, cls);
}

// A decode's arena, kept whole (block and header) for the thread's next decode that needs a
// first block of the same size: one per size. Most decoded terms are small and soon dropped,
// and making and freeing an arena was a fifth of decoding a 3-element tuple.
constexpr std::size_t block_classes = pool_classes + 1 + (spare_max_shift - spare_min_shift + 1);
struct SpareArenas {
    std::array<Arena*, block_classes> arena{};
    ~SpareArenas() {
        for (Arena* a : arena)
            if (a) ::operator delete(a->blocks);
    }
};
thread_local SpareArenas spare_arenas;

// The size class of a block of `bytes` (rounded up to it in `bytes`); 0 for none.
inline std::uint8_t block_class(std::size_t& bytes) noexcept {
    if (pool_cap == 0) return 0;
    if (bytes <= pool_classes * 16) {
        std::size_t c = (bytes + 15) / 16;
        bytes = c * 16;
        return static_cast<std::uint8_t>(c);
    }
    if (bytes > spare_max) return 0;
    unsigned shift = std::max<unsigned>(spare_min_shift, static_cast<unsigned>(std::bit_width(bytes - 1)));
    bytes = std::size_t(1) << shift;
    return static_cast<std::uint8_t>(pool_classes + 1 + (shift - spare_min_shift));
}

ArenaBlock* new_block(Arena* a, std::size_t payload) {
    std::uint8_t cls;
    std::size_t bytes = block_header + payload;
    auto* b = static_cast<ArenaBlock*>(alloc_block(bytes, cls));
    b->arena = a;
    b->pool_class = cls;
    return b;
}
} // namespace

#if EDIST_ARENA_POISON
void ArenaBuilder::unpoison(void* p, std::size_t n) noexcept { __asan_unpoison_memory_region(p, n); }
#endif

void* ArenaBuilder::alloc_slow(std::size_t bytes) {
    if (!a_) {
        std::size_t payload = std::clamp(4 * hint_ + 64, first_block_min, first_block_max);
        payload = std::max(payload, bytes);
        std::size_t raw_bytes = block_header + arena_header_bytes + payload;
        std::size_t rounded = raw_bytes;
        if (std::uint8_t c = block_class(rounded)) {
            if (Arena* a = std::exchange(spare_arenas.arena[c], nullptr)) {
                payload = rounded - block_header - arena_header_bytes;
                a->rc.store(1, std::memory_order_relaxed);
                a->bump = reinterpret_cast<char*>(a) + arena_header_bytes;
                a->limit = a->bump + payload;
                a->next_block = std::max<std::size_t>(2 * payload, 4096);
                a_ = a;
                return alloc(bytes);
            }
        }
        std::uint8_t cls;
        void* raw = alloc_block(raw_bytes, cls);
        payload = raw_bytes - block_header - arena_header_bytes; // all of a rounded-up block
        auto* block = static_cast<ArenaBlock*>(raw);
        auto* a = new (static_cast<char*>(raw) + block_header) Arena();
        block->arena = a;
        block->next = nullptr;
        block->pool_class = cls;
        a->current = a->blocks = block;
        a->bump = reinterpret_cast<char*>(a) + arena_header_bytes;
        a->limit = a->bump + payload;
        a->next_block = std::max<std::size_t>(2 * payload, 4096);
        a_ = a;
#if EDIST_ARENA_POISON
        poison(a->bump, payload);
#endif
        return alloc(bytes);
    }
    if (bytes > a_->next_block / 4) {
        // A large node gets a block of its own; the current block keeps serving small ones.
        ArenaBlock* b = new_block(a_, bytes);
        b->next = a_->blocks;
        a_->blocks = b;
        block_ = b;
        return reinterpret_cast<char*>(b) + block_header;
    }
    // The header inside the block's size, so that it stays a power of two.
    std::size_t payload = a_->next_block - block_header;
    ArenaBlock* b = new_block(a_, payload);
    b->next = a_->blocks;
    a_->blocks = b;
    a_->current = b;
    a_->bump = reinterpret_cast<char*>(b) + block_header;
    a_->limit = a_->bump + payload;
#if EDIST_ARENA_POISON
    poison(a_->bump, payload);
#endif
    a_->next_block = std::min(2 * a_->next_block, largest_block);
    return alloc(bytes);
}

BinaryNode* ArenaBuilder::sub_binary(Node* owner, const std::uint8_t* data, std::size_t bits) {
    auto* b = make<BinaryNode>(sizeof(BinaryNode));
    b->parent = owner;
    b->data = data;
    b->bits = bits;
    if (!a_->owner) {
        retain_node(owner);
        a_->owner = owner;
    }
    return b;
}

void ArenaBuilder::add_finalizer(Node* n) {
    auto* f = new (alloc(sizeof(ArenaFinalizer))) ArenaFinalizer{n, a_->finalizers};
    a_->finalizers = f;
}

namespace {

bool is_heap(Tag t) noexcept { return t >= Tag::Big; }

// A stack that lives on the C++ stack until it outgrows it.
class NodeStack {
public:
    void push(Node* n) {
        if (size_ < inline_.size()) {
            inline_[size_++] = n;
        } else {
            spill_.push_back(n);
        }
    }
    Node* pop() noexcept {
        if (!spill_.empty()) {
            Node* n = spill_.back();
            spill_.pop_back();
            return n;
        }
        return inline_[--size_];
    }
    bool empty() const noexcept { return size_ == 0 && spill_.empty(); }

private:
    std::array<Node*, 32> inline_; // not zeroed: only [0, size_) is ever read
    std::size_t size_ = 0;
    std::vector<Node*> spill_;
};

} // namespace

} // namespace detail

// Frees an arena's memory, `a` included.
static void free_arena_blocks(detail::Arena* a) noexcept {
    if (!a->blocks->next) { // one block: keep the arena for the next decode, if none is kept
        detail::Arena*& spare = detail::spare_arenas.arena[a->blocks->pool_class];
        if (detail::pool_cap != 0 && a->blocks->pool_class != 0 && !spare) {
            a->finalizers = nullptr;
            a->owner = nullptr;
            spare = a;
            return;
        }
    }
    // The first block, which holds `a` itself, is the last in the list.
    for (detail::ArenaBlock* b = a->blocks; b;) {
        detail::ArenaBlock* next = b->next;
        detail::free_block(b, b->pool_class);
        b = next;
    }
}

// Drops a reference without recursing: a node that dies is queued instead.
static void drop_node(detail::Node* n, detail::NodeStack& stack) noexcept {
    n = detail::counted(n);
    if (n->rc.fetch_sub(1, std::memory_order_acq_rel) == 1) stack.push(n);
}
static void drop_child(Term& t, detail::NodeStack& stack) noexcept {
    if (detail::Node* n = TermAccess::steal(t)) drop_node(n, stack);
}

// Frees an arena whose last reference is gone: only the nodes that own memory are visited.
static void destroy_arena(detail::Arena* a, detail::NodeStack& stack) noexcept {
    using namespace detail;
    for (ArenaFinalizer* f = a->finalizers; f; f = f->next) {
        if (f->node->tag == Tag::Fun) {
            auto* fn = static_cast<FunNode*>(f->node);
            for (Term& v : fn->fun.free_vars) TermAccess::forget(v); // arena-internal: uncounted
            fn->~FunNode();
        } else {
            static_cast<BigNode*>(f->node)->~BigNode();
        }
    }
    Node* owner = a->owner;
    free_arena_blocks(a);
    if (owner) drop_node(owner, stack);
}

void detail::destroy(Node* first) noexcept {
    NodeStack stack;
    stack.push(first);
    while (!stack.empty()) {
        Node* n = stack.pop();
        auto drop = [&](Term& t) { drop_child(t, stack); };
        switch (n->tag) {
        case Tag::Tuple: {
            auto* t = static_cast<TupleNode*>(n);
            for (std::uint32_t i = 0; i < t->size; ++i) drop(t->elems()[i]);
            std::uint8_t cls = t->pool_class;
            t->~TupleNode();
            free_node(t, cls);
            break;
        }
        case Tag::List: {
            auto* l = static_cast<ListNode*>(n);
            for (std::uint32_t i = 0; i < l->size; ++i) drop(l->elems()[i]);
            drop(l->tail);
            std::uint8_t cls = l->pool_class;
            l->~ListNode();
            free_node(l, cls);
            break;
        }
        case Tag::Map: {
            auto* m = static_cast<MapNode*>(n);
            for (std::uint32_t i = 0; i < 2 * m->size; ++i) drop(m->kv()[i]);
            std::uint8_t cls = m->pool_class;
            m->~MapNode();
            free_node(m, cls);
            break;
        }
        case Tag::Binary: {
            auto* b = static_cast<BinaryNode*>(n);
            if (b->parent) drop_node(b->parent, stack);
            std::uint8_t cls = b->pool_class;
            b->~BinaryNode();
            free_node(b, cls);
            break;
        }
        case Tag::Fun: {
            auto* f = static_cast<FunNode*>(n);
            drop(f->fun.old_index);
            drop(f->fun.old_uniq);
            drop(f->fun.pid);
            for (auto& v : f->fun.free_vars) drop(v);
            delete f;
            break;
        }
        case Tag::Big: delete static_cast<BigNode*>(n); break;
        case Tag::Pid: delete static_cast<PidNode*>(n); break;
        case Tag::Port: delete static_cast<PortNode*>(n); break;
        case Tag::Ref: delete static_cast<RefNode*>(n); break;
        case Tag::Nil:
            if (n->pool_class == arena_header)
                destroy_arena(static_cast<Arena*>(n), stack);
            else
                delete static_cast<OwnedBytes*>(n);
            break;
        default: break; // inline tags never own a node
        }
    }
}

void detail::release_node(Node* n) noexcept {
    for (;;) {
        n = counted(n);
        // A count of 1 is ours alone: nobody can add to it without a reference, so the last
        // reference is dropped without the atomic read-modify-write (a fifth of the cycles of
        // decoding and dropping a small term went to it).
        if (n->rc.load(std::memory_order_acquire) != 1 && n->rc.fetch_sub(1, std::memory_order_acq_rel) != 1)
            return;
        if (n->tag == Tag::Binary) { // holds no terms: no stack needed (a large decoded binary)
            auto* b = static_cast<BinaryNode*>(n);
            Node* parent = b->parent;
            std::uint8_t cls = b->pool_class;
            b->~BinaryNode();
            free_node(b, cls);
            if (!parent) return;
            n = parent;
            continue;
        }
        auto* a = static_cast<Arena*>(n);
        if (n->pool_class != arena_header || a->finalizers) break;
        // The common case needs no stack: an arena without finalizers holds at most one other
        // reference, its input's owner, which is dropped next (a loop, so a chain of arenas
        // each decoded from the previous one does not recurse).
        Node* owner = a->owner;
        free_arena_blocks(a);
        if (!owner) return;
        n = owner;
    }
    destroy(n);
}

void Term::retain() const noexcept {
    if (detail::is_heap(tag_)) detail::retain_node(v_.p);
}

void Term::release() noexcept {
    if (detail::is_heap(tag_)) detail::release_node(v_.p);
}

// --- Construction ---------------------------------------------------------------------------

Term::Term(double d) : tag_(Tag::Float) {
    if (!std::isfinite(d)) {
        tag_ = Tag::Nil;
        throw Error(atoms::badarg, "Erlang floats are finite: NaN and infinities have no term");
    }
    v_.f = d;
}

Term::Term(BigInt value) {
    if (value.fits_int64()) {
        tag_ = Tag::Small;
        v_.i = value.to_int64();
    } else {
        tag_ = Tag::Big;
        v_.p = new detail::BigNode(std::move(value));
    }
}

Term::Term(const Pid& p) : tag_(Tag::Pid) { v_.p = new detail::PidNode(p); }
Term::Term(const Port& p) : tag_(Tag::Port) { v_.p = new detail::PortNode(p); }
Term::Term(const Ref& r) : tag_(Tag::Ref) {
    if (r.len < 1 || r.len > Ref::max_words) {
        tag_ = Tag::Nil;
        throw Error(atoms::badarg, "a reference has 1 to 5 words");
    }
    v_.p = new detail::RefNode(r);
}
Term::Term(const Export& e) noexcept : tag_(Tag::Export), aux_(e.arity) {
    v_.u = (std::uint64_t(e.module.index()) << 32) | e.function.index();
}

Term binary(std::span<const std::uint8_t> bytes) {
    auto* b = detail::alloc_binary(bytes.size() * 8);
    if (!bytes.empty()) std::memcpy(b->inline_bytes(), bytes.data(), bytes.size());
    return TermAccess::adopt(Tag::Binary, b);
}
Term binary(std::string_view bytes) {
    return binary(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}
Term binary(std::vector<std::uint8_t>&& bytes) {
    if (bytes.size() < 256) return binary(std::span<const std::uint8_t>(bytes));
    auto* owner = new detail::OwnedBytes(std::move(bytes));
    auto* b = detail::alloc_sub_binary(owner, owner->bytes.data(), owner->bytes.size() * 8);
    owner->rc.fetch_sub(1, std::memory_order_relaxed); // the sub-binary holds the only reference
    return TermAccess::adopt(Tag::Binary, b);
}
Term detail::adopt_bytes(std::unique_ptr<std::uint8_t[]> bytes, std::size_t size) {
    if (size < 256) return binary(std::span<const std::uint8_t>(bytes.get(), size));
    auto* owner = new detail::OwnedBytes(std::move(bytes));
    auto* b = detail::alloc_sub_binary(owner, owner->raw.get(), size * 8);
    owner->rc.fetch_sub(1, std::memory_order_relaxed); // the sub-binary holds the only reference
    return TermAccess::adopt(Tag::Binary, b);
}
Term bitstring(std::span<const std::uint8_t> bytes, std::size_t bit_size) {
    if (bytes.size() != (bit_size + 7) / 8)
        throw Error(atoms::badarg, "bitstring: byte count does not match the bit size");
    auto* b = detail::alloc_binary(bit_size);
    if (!bytes.empty()) {
        std::memcpy(b->inline_bytes(), bytes.data(), bytes.size());
        if (unsigned rest = bit_size % 8) b->inline_bytes()[bytes.size() - 1] &= static_cast<std::uint8_t>(0xFF << (8 - rest));
    }
    return TermAccess::adopt(Tag::Binary, b);
}

Atom atom(std::string_view utf8) { return Atom(utf8); }

Term string(std::string_view utf8) {
    std::vector<Term> cps;
    cps.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size();) {
        long cp = detail::decode_utf8(utf8, i);
        if (cp < 0) throw Error(atoms::badarg, "string: invalid UTF-8 at byte " + std::to_string(i));
        cps.emplace_back(cp);
    }
    return list_from(std::move(cps));
}

Term tuple_from(std::vector<Term> elements) {
    auto* t = detail::alloc_tuple(static_cast<std::uint32_t>(elements.size()));
    for (std::size_t i = 0; i < elements.size(); ++i) new (&t->elems()[i]) Term(std::move(elements[i]));
    return TermAccess::adopt(Tag::Tuple, t);
}

Term list_from(std::vector<Term> elements, Term tail) {
    // Keep one canonical shape: a list's tail is never itself a list.
    while (tail.is_list() && !tail.is_nil()) {
        ListView more = tail.as_list();
        elements.insert(elements.end(), more.elements.begin(), more.elements.end());
        Term next = *more.tail;
        tail = std::move(next);
    }
    if (elements.empty()) return tail;
    auto* l = detail::alloc_list(static_cast<std::uint32_t>(elements.size()));
    for (std::size_t i = 0; i < elements.size(); ++i) new (&l->elems()[i]) Term(std::move(elements[i]));
    l->tail = std::move(tail);
    return TermAccess::adopt(Tag::List, l);
}

Term map_from(std::vector<std::pair<Term, Term>> pairs) {
    auto* m = detail::alloc_map(static_cast<std::uint32_t>(pairs.size()));
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        new (&m->kv()[2 * i]) Term(std::move(pairs[i].first));
        new (&m->kv()[2 * i + 1]) Term(std::move(pairs[i].second));
    }
    detail::sort_map_last_wins(m);
    return TermAccess::adopt(Tag::Map, m);
}
Term map(std::initializer_list<std::pair<Term, Term>> pairs) {
    return map_from(std::vector<std::pair<Term, Term>>(pairs));
}

Term fun(FunData data) {
    if (!data.old_index.is_integer() || !data.old_uniq.is_integer() || !data.pid.is_pid())
        throw Error(atoms::badarg, "fun: old_index and old_uniq must be integers and pid a pid");
    return TermAccess::adopt(Tag::Fun, new detail::FunNode(std::move(data)));
}

// --- Inspection -----------------------------------------------------------------------------

Kind Term::kind() const noexcept {
    switch (tag_) {
    case Tag::Nil: return Kind::Nil;
    case Tag::Atom: return Kind::Atom;
    case Tag::Small:
    case Tag::Big: return Kind::Integer;
    case Tag::Float: return Kind::Float;
    case Tag::Export: return Kind::Export;
    case Tag::Binary: return Kind::Binary;
    case Tag::List: return Kind::List;
    case Tag::Tuple: return Kind::Tuple;
    case Tag::Map: return Kind::Map;
    case Tag::Pid: return Kind::Pid;
    case Tag::Port: return Kind::Port;
    case Tag::Ref: return Kind::Reference;
    case Tag::Fun: return Kind::Fun;
    }
    return Kind::Nil;
}

bool Term::is_proper_list() const noexcept {
    return is_nil() || (tag_ == Tag::List && static_cast<detail::ListNode*>(v_.p)->tail.is_nil());
}
bool Term::is_binary() const noexcept {
    return tag_ == Tag::Binary && static_cast<detail::BinaryNode*>(v_.p)->bits % 8 == 0;
}

void Term::fail_expected(std::string_view what) const { detail::convert_failed(*this, what); }

namespace detail {
void convert_failed(const Term& t, std::string_view what) {
    std::string shown = to_string(t);
    if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
    throw Error(atoms::badarg, "expected " + std::string(what) + ", got " + shown);
}
} // namespace detail

Atom Term::as_atom() const {
    if (!is_atom()) fail_expected("an atom");
    return Atom::from_index(static_cast<std::uint32_t>(v_.u));
}
bool Term::as_bool() const {
    if (is_atom(atoms::true_)) return true;
    if (is_atom(atoms::false_)) return false;
    fail_expected("a boolean");
    return false;
}
std::int64_t Term::as_int64() const {
    if (tag_ == Tag::Small) return v_.i;
    if (tag_ == Tag::Big) throw Error(atoms::badarg, "integer does not fit in 64 bits");
    fail_expected("an integer");
    return 0;
}
BigInt Term::as_bigint() const {
    if (tag_ == Tag::Small) return BigInt(v_.i);
    if (tag_ == Tag::Big) return static_cast<detail::BigNode*>(v_.p)->value;
    fail_expected("an integer");
    return {};
}
double Term::as_double() const {
    if (tag_ != Tag::Float) fail_expected("a float");
    return v_.f;
}
double Term::as_number() const {
    if (tag_ == Tag::Float) return v_.f;
    if (tag_ == Tag::Small) return static_cast<double>(v_.i);
    if (tag_ == Tag::Big) return static_cast<detail::BigNode*>(v_.p)->value.to_double();
    fail_expected("a number");
    return 0;
}

std::span<const std::uint8_t> Term::as_binary() const {
    if (!is_binary()) fail_expected("a binary");
    auto* b = static_cast<detail::BinaryNode*>(v_.p);
    return {b->data, b->bits / 8};
}
std::string_view Term::as_binary_view() const {
    auto s = as_binary();
    return {reinterpret_cast<const char*>(s.data()), s.size()};
}
std::span<const std::uint8_t> Term::bitstring_bytes() const {
    if (tag_ != Tag::Binary) fail_expected("a bit string");
    auto* b = static_cast<detail::BinaryNode*>(v_.p);
    return {b->data, b->byte_size()};
}
std::size_t Term::bit_size() const {
    if (tag_ != Tag::Binary) fail_expected("a bit string");
    return static_cast<detail::BinaryNode*>(v_.p)->bits;
}

std::span<const Term> Term::as_tuple() const {
    if (tag_ != Tag::Tuple) fail_expected("a tuple");
    auto* t = static_cast<detail::TupleNode*>(v_.p);
    return {t->elems(), t->size};
}
std::size_t Term::tuple_size() const {
    return tag_ == Tag::Tuple ? static_cast<detail::TupleNode*>(v_.p)->size : 0;
}
const Term& Term::operator[](std::size_t i) const {
    auto t = as_tuple();
    if (i >= t.size())
        throw Error(atoms::badarg, "tuple index " + std::to_string(i) + " out of range for a tuple of " +
                                       std::to_string(t.size()));
    return t[i];
}

ListView Term::as_list() const {
    if (tag_ == Tag::Nil) return {{}, this};
    if (tag_ != Tag::List) fail_expected("a list");
    auto* l = static_cast<detail::ListNode*>(v_.p);
    return {{l->elems(), l->size}, &l->tail};
}

std::string Term::as_string() const {
    if (!is_proper_list()) fail_expected("a string (a proper list of code points)");
    std::string out;
    for (const Term& e : as_list()) {
        if (e.tag_ != Tag::Small || e.v_.i < 0 || e.v_.i > 0x10FFFF || (e.v_.i >= 0xD800 && e.v_.i <= 0xDFFF))
            fail_expected("a string (a proper list of code points)");
        detail::append_utf8(out, static_cast<std::uint32_t>(e.v_.i));
    }
    return out;
}

MapView Term::as_map() const {
    if (tag_ != Tag::Map) fail_expected("a map");
    auto* m = static_cast<detail::MapNode*>(v_.p);
    return {m->kv(), m->size};
}

Pid Term::as_pid() const {
    if (tag_ != Tag::Pid) fail_expected("a pid");
    return static_cast<detail::PidNode*>(v_.p)->pid;
}
Port Term::as_port() const {
    if (tag_ != Tag::Port) fail_expected("a port");
    return static_cast<detail::PortNode*>(v_.p)->port;
}
Ref Term::as_ref() const {
    if (tag_ != Tag::Ref) fail_expected("a reference");
    return static_cast<detail::RefNode*>(v_.p)->ref;
}
Export Term::as_export() const {
    if (tag_ != Tag::Export) fail_expected("an external fun");
    return {Atom::from_index(static_cast<std::uint32_t>(v_.u >> 32)),
            Atom::from_index(static_cast<std::uint32_t>(v_.u)), static_cast<std::uint8_t>(aux_)};
}
const FunData& Term::as_fun() const {
    if (tag_ != Tag::Fun) fail_expected("a local fun");
    return static_cast<detail::FunNode*>(v_.p)->fun;
}

const Term& MapView::at(const Term& key) const {
    if (const Term* v = find(key)) return *v;
    throw Error(atoms::badarg, "key " + to_string(key) + " not in map");
}

} // namespace edist
