// Term's heap nodes. Private to the library: the codec builds nodes in place through these.
#pragma once

#include <edist/term.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace edist::detail {

struct Node {
    std::atomic<std::uint32_t> rc{1};
    Tag tag;
    // Which free list the node's memory goes back to (0: the general heap). Kept in the node
    // because a container's size need not say how much was allocated for it.
    std::uint8_t pool_class = 0;
    explicit Node(Tag t) noexcept : tag(t) {}
};

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
    explicit OwnedBytes(std::vector<std::uint8_t>&& b) noexcept : Node(Tag::Nil), bytes(std::move(b)) {}
};

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
};

} // namespace edist::detail
