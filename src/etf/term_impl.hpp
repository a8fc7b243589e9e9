// Term's heap nodes. Private to the library: the codec builds nodes in place through these.
#pragma once

#include <edist/term.hpp>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

// AddressSanitizer cannot see the nodes inside an arena block: poison what is not handed out.
#if defined(__SANITIZE_ADDRESS__)
#define EDIST_ARENA_POISON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDIST_ARENA_POISON 1
#endif
#endif
#ifndef EDIST_ARENA_POISON
#define EDIST_ARENA_POISON 0
#endif

namespace edist::detail {

struct Node {
    // The reference count; for a node inside an arena (pool_class == in_arena), which has no
    // count of its own, the distance in 8-byte units back to the start of its ArenaBlock.
    std::atomic<std::uint32_t> rc{1};
    Tag tag;
    // Which free list the node's memory goes back to (0: the general heap), or one of the two
    // arena markers below. Kept in the node because a container's size need not say how much
    // was allocated for it.
    std::uint8_t pool_class = 0;
    explicit Node(Tag t) noexcept : tag(t) {}
};

// --- Arenas: all the nodes of one decoded term ------------------------------------------------
//
// The decoder allocates every node of a term from one arena: a chain of blocks with a bump
// pointer. The nodes inside have no counts of their own, and the references between them are not
// counted either; every reference from outside (the decoded root, a sub-term copied out of it)
// counts on the arena instead, so a sub-term keeps the whole arena alive and dropping the last
// reference frees it at once, without visiting the nodes. Only nodes that own memory of their own
// (big integers, funs) are finalised one by one, and a shared input buffer is released once.
inline constexpr std::uint8_t in_arena = 0xFF;     // a node inside an arena
inline constexpr std::uint8_t arena_header = 0xFE; // the Arena itself (tag Nil)

struct Arena;
struct ArenaBlock {
    Arena* arena;
    ArenaBlock* next;
    std::uint8_t pool_class; // how the block was allocated (alloc_raw's size classes)
};
struct ArenaFinalizer {
    Node* node; // an in-arena BigNode or FunNode whose destructor must run
    ArenaFinalizer* next;
};
struct Arena : Node {
    char* bump;
    char* limit;
    ArenaBlock* current;  // the block `bump` points into
    ArenaBlock* blocks;   // every block, the first one (holding this header) last
    ArenaFinalizer* finalizers = nullptr;
    Node* owner = nullptr;   // holds one reference: the input buffer sub-binaries point into
    std::size_t next_block;  // size of the next bump block
    Arena() noexcept : Node(Tag::Nil) { pool_class = arena_header; }
};

inline Arena* arena_of(const Node* n) noexcept {
    auto* block = reinterpret_cast<const ArenaBlock*>(reinterpret_cast<const char*>(n) -
                                                      std::size_t(n->rc.load(std::memory_order_relaxed)) * 8);
    return block->arena;
}
// The node whose count stands for references to `n`.
inline Node* counted(Node* n) noexcept { return n->pool_class == in_arena ? arena_of(n) : n; }
inline void retain_node(Node* n) noexcept { counted(n)->rc.fetch_add(1, std::memory_order_relaxed); }
void release_node(Node* n) noexcept;

// A bit string. Its bytes are either stored right after the node (`parent == nullptr`) or
// belong to `parent`, a node that owns a larger buffer (another Binary, or an OwnedBytes).
struct BinaryNode : Node {
    const std::uint8_t* data;
    std::size_t bits; // size in bits
    Node* parent;     // holds a reference when not null
    BinaryNode() noexcept : Node(Tag::Binary), data(nullptr), bits(0), parent(nullptr) {}
    std::size_t byte_size() const noexcept { return (bits + 7) / 8; }
    std::uint8_t* inline_bytes() noexcept { return reinterpret_cast<std::uint8_t*>(this + 1); }
};

// Storage taken over from a std::vector; only ever a BinaryNode's parent. Its tag is Nil, which
// no real node has, so release() knows it holds no terms.
struct OwnedBytes : Node {
    std::vector<std::uint8_t> bytes;
    std::unique_ptr<std::uint8_t[]> raw; // or this (adopt_bytes), never both
    explicit OwnedBytes(std::vector<std::uint8_t>&& b) noexcept : Node(Tag::Nil), bytes(std::move(b)) {}
    explicit OwnedBytes(std::unique_ptr<std::uint8_t[]>&& b) noexcept : Node(Tag::Nil), raw(std::move(b)) {}
};
// A binary of `size` bytes that takes `bytes` over, as binary(std::vector&&) does: for buffers
// that grow without being zero-filled first.
Term adopt_bytes(std::unique_ptr<std::uint8_t[]> bytes, std::size_t size);

// Tuples, lists and maps: a count and an array of Terms after the node.
struct alignas(Term) TupleNode : Node {
    std::uint32_t size;
    TupleNode(std::uint32_t n) noexcept : Node(Tag::Tuple), size(n) {}
    Term* elems() noexcept { return reinterpret_cast<Term*>(this + 1); }
};
struct ListNode : Node {
    std::uint32_t size; // elements before the tail, >= 1
    Term tail;          // [] for a proper list; never a list itself
    ListNode(std::uint32_t n) noexcept : Node(Tag::List), size(n) {}
    Term* elems() noexcept { return reinterpret_cast<Term*>(this + 1); }
};
struct alignas(Term) MapNode : Node {
    std::uint32_t size; // pairs; 2*size Terms follow, key then value, keys strictly ascending
    MapNode(std::uint32_t n) noexcept : Node(Tag::Map), size(n) {}
    Term* kv() noexcept { return reinterpret_cast<Term*>(this + 1); }
};
struct BigNode : Node {
    BigInt value;
    explicit BigNode(BigInt v) noexcept : Node(Tag::Big), value(std::move(v)) {}
};
struct PidNode : Node {
    Pid pid;
    explicit PidNode(const Pid& p) noexcept : Node(Tag::Pid), pid(p) {}
};
struct PortNode : Node {
    Port port;
    explicit PortNode(const Port& p) noexcept : Node(Tag::Port), port(p) {}
};
struct RefNode : Node {
    Ref ref;
    explicit RefNode(const Ref& r) noexcept : Node(Tag::Ref), ref(r) {}
};
struct FunNode : Node {
    FunData fun;
    explicit FunNode(FunData f) noexcept : Node(Tag::Fun), fun(std::move(f)) {}
};

static_assert(alignof(Term) <= alignof(std::max_align_t));
static_assert(sizeof(TupleNode) % alignof(Term) == 0);
static_assert(sizeof(ListNode) % alignof(Term) == 0);
static_assert(sizeof(MapNode) % alignof(Term) == 0);

// Allocation of variable-size nodes. The Term arrays are left *uninitialised*: the caller
// must placement-new every element (and ListNode::tail is already constructed as []).
TupleNode* alloc_tuple(std::uint32_t n);
ListNode* alloc_list(std::uint32_t n);
MapNode* alloc_map(std::uint32_t n);
// A binary with inline storage of ceil(bits/8) bytes (uninitialised).
BinaryNode* alloc_binary(std::size_t bits);
// A binary pointing into `parent`'s storage; takes a new reference on parent.
BinaryNode* alloc_sub_binary(Node* parent, const std::uint8_t* data, std::size_t bits);

// Frees a node whose count reached zero, and iteratively every node that only it held, so
// that dropping a deeply nested term never recurses.
void destroy(Node* n) noexcept;

// Building an arena; used by the decoder. The arena is made on the first allocation, with a
// first block sized from `input_bytes`. Until release() or take(), the builder holds the arena's
// one reference.
class ArenaBuilder {
public:
    explicit ArenaBuilder(std::size_t input_bytes) noexcept : hint_(input_bytes) {}
    ArenaBuilder(const ArenaBuilder&) = delete;
    ArenaBuilder& operator=(const ArenaBuilder&) = delete;
    ~ArenaBuilder() { release(); }

    // Memory for a node of `bytes` bytes (8-byte aligned); mark() it once constructed.
    void* alloc(std::size_t bytes) {
        bytes = (bytes + 7) & ~std::size_t(7);
        if (a_ && static_cast<std::size_t>(a_->limit - a_->bump) >= bytes) {
            void* p = a_->bump;
            a_->bump += bytes;
            block_ = a_->current;
#if EDIST_ARENA_POISON
            unpoison(p, bytes);
#endif
            return p;
        }
        return alloc_slow(bytes);
    }
    template <class N>
    N* mark(N* n) noexcept {
        n->pool_class = in_arena;
        n->rc.store(static_cast<std::uint32_t>((reinterpret_cast<char*>(n) - reinterpret_cast<char*>(block_)) / 8),
                    std::memory_order_relaxed);
        return n;
    }
    template <class N, class... Args>
    N* make(std::size_t bytes, Args&&... args) {
        return mark(new (alloc(bytes)) N(std::forward<Args>(args)...));
    }
    TupleNode* tuple(std::uint32_t n) { return make<TupleNode>(sizeof(TupleNode) + std::size_t(n) * sizeof(Term), n); }
    ListNode* list(std::uint32_t n) { return make<ListNode>(sizeof(ListNode) + std::size_t(n) * sizeof(Term), n); }
    MapNode* map(std::uint32_t n) { return make<MapNode>(sizeof(MapNode) + std::size_t(n) * 2 * sizeof(Term), n); }
    BinaryNode* binary(std::size_t bits) {
        auto* b = make<BinaryNode>(sizeof(BinaryNode) + (bits + 7) / 8);
        b->bits = bits;
        b->data = b->inline_bytes();
        return b;
    }
    // Before the first allocation: the input left to decode is `bytes`, not what the builder
    // was made with (the first node shares a large binary, which needs no arena memory).
    void expect_input(std::size_t bytes) noexcept {
        if (!a_) hint_ = bytes;
    }
    // Points into `owner`'s storage; the arena takes one reference on owner for all of them.
    BinaryNode* sub_binary(Node* owner, const std::uint8_t* data, std::size_t bits);
    // A node whose destructor must run when the arena dies (BigNode, FunNode).
    void add_finalizer(Node* n);

    // Hands the arena's reference over to the caller (the decoded root); nullptr if none.
    Arena* take() noexcept { return std::exchange(a_, nullptr); }
    // Drops the builder's reference, freeing the arena unless something else holds it.
    void release() noexcept {
        if (Arena* a = take()) release_node(a);
    }

private:
    void* alloc_slow(std::size_t bytes);
#if EDIST_ARENA_POISON
    static void unpoison(void* p, std::size_t n) noexcept;
#endif
    Arena* a_ = nullptr;
    ArenaBlock* block_ = nullptr; // the block of the last allocation
    std::size_t hint_;
};

// Sorts a freshly built map's pairs by key. Returns false if two keys are equal (=:=), in
// which case the map node is left sorted but with the duplicate still present.
bool sort_map(MapNode* m) noexcept;
// Same, keeping the last value for a repeated key and shrinking `size` accordingly.
void sort_map_last_wins(MapNode* m) noexcept;

struct TermAccess {
    static Tag tag(const Term& t) noexcept { return t.tag_; }
    static Node* node(const Term& t) noexcept { return t.v_.p; }
    static std::int64_t small(const Term& t) noexcept { return t.v_.i; }
    static double flt(const Term& t) noexcept { return t.v_.f; }
    static std::uint32_t atom_index(const Term& t) noexcept { return static_cast<std::uint32_t>(t.v_.u); }
    // Wraps a node (taking over its reference).
    static Term adopt(Tag t, Node* n) noexcept { return Term(t, n); }
    static Term small_int(std::int64_t v) noexcept {
        Term t;
        t.tag_ = Tag::Small;
        t.v_.i = v;
        return t;
    }
    // Constructs a term in raw memory (an arena slot) as two 8-byte stores. Building it through
    // a constructor writes the tag, the padding and aux_ one by one: four stores where two do,
    // which is a sixth of the instructions of a list of integers.
    static void place(Term* slot, Tag t, std::uint64_t value) noexcept {
        static_assert(sizeof(Term) == 16 && offsetof(Term, tag_) == 0 && offsetof(Term, aux_) == 4 &&
                      offsetof(Term, v_) == 8 && std::endian::native == std::endian::little);
        const std::uint64_t words[2] = {static_cast<std::uint64_t>(t), value};
        std::memcpy(static_cast<void*>(slot), words, sizeof words);
    }
    static void place_small(Term* slot, std::int64_t v) noexcept {
        place(slot, Tag::Small, static_cast<std::uint64_t>(v));
    }
    static void place_atom(Term* slot, std::uint32_t index) noexcept { place(slot, Tag::Atom, index); }
    // A node of the arena being built: the reference is not counted.
    static void place_node(Term* slot, Tag t, Node* n) noexcept {
        place(slot, t, reinterpret_cast<std::uintptr_t>(n));
    }
    // A float already known to be finite.
    static Term finite_float(double d) noexcept {
        Term t;
        t.tag_ = Tag::Float;
        t.v_.f = d;
        return t;
    }
    // Takes a heap term's node out of `t` (leaving []) without touching its count;
    // nullptr for inline terms.
    static Node* steal(Term& t) noexcept {
        if (t.tag_ < Tag::Big) return nullptr;
        Node* n = t.v_.p;
        t.tag_ = Tag::Nil;
        return n;
    }
    template <class T>
    static T* as(const Term& t) noexcept { return static_cast<T*>(t.v_.p); }
    // Makes `t` [] without dropping what it referred to: for a slot inside an arena, whose
    // reference was never counted.
    static void forget(Term& t) noexcept { t.tag_ = Tag::Nil; }
    // Points `t`, an uncounted slot inside an arena, at another node of the same arena.
    static void repoint(Term& t, Node* n) noexcept { t.v_.p = n; }
};

} // namespace edist::detail
