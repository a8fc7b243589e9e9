// edist::Term: one value type for every Erlang term.
//
// A Term is 16 bytes. Atoms, integers that fit 64 bits, floats, [] and external funs
// (`fun M:F/A`) live inline; everything else is an immutable, reference-counted node, so
// copying a Term is a pointer copy plus an atomic increment and Terms may be shared freely
// between threads. Binaries decoded from a buffer point into that buffer instead of copying it,
// and a decoded term's nodes share one block and one count: a sub-term kept after the decoded
// term is dropped keeps that block alive (docs/TERMS.md).
#pragma once

#include <edist/atom.hpp>
#include <edist/bigint.hpp>
#include <edist/error.hpp>

#include <array>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edist {

// In Erlang term order: number < atom < reference < fun < port < pid < tuple < map < nil <
// list < bit string. Integer and Float are both "number"; Fun and Export are both "fun".
enum class Kind : std::uint8_t {
    Integer,
    Float,
    Atom,
    Reference,
    Fun,    // a local fun (NEW_FUN_EXT); opaque, but round-trips byte-exact
    Export, // fun Module:Function/Arity
    Port,
    Pid,
    Tuple,
    Map,
    Nil,
    List, // a non-empty list, proper or improper
    Binary, // a binary or a bit string (bit_size() need not be a multiple of 8)
};

std::string_view kind_name(Kind k) noexcept;

// Process identifier. `node` is the node's name as an atom ('name@host').
struct Pid {
    Atom node;
    std::uint32_t id = 0;
    std::uint32_t serial = 0;
    std::uint32_t creation = 0;
    friend bool operator==(const Pid&, const Pid&) = default;
};

struct Port {
    Atom node;
    std::uint64_t id = 0;
    std::uint32_t creation = 0;
    friend bool operator==(const Port&, const Port&) = default;
};

// Reference: 1 to 5 32-bit words (5 since OTP 26), treated as opaque.
struct Ref {
    static constexpr std::size_t max_words = 5;
    Atom node;
    std::uint32_t creation = 0;
    std::uint8_t len = 0;
    std::array<std::uint32_t, max_words> words{};

    std::span<const std::uint32_t> ids() const noexcept { return {words.data(), len}; }
    friend bool operator==(const Ref& a, const Ref& b) noexcept {
        return a.node == b.node && a.creation == b.creation && a.len == b.len &&
               std::equal(a.words.begin(), a.words.begin() + a.len, b.words.begin());
    }
};

struct Export {
    Atom module;
    Atom function;
    std::uint8_t arity = 0;
    friend bool operator==(const Export&, const Export&) = default;
};

class Term;
struct FunData;
class MapView;
struct ListView;

namespace detail {
struct Node;
struct TermAccess;
enum class Tag : std::uint8_t { Nil, Atom, Small, Float, Export, Big, Binary, List, Tuple, Map, Pid, Port, Ref, Fun };
} // namespace detail

class Term {
public:
    Term() noexcept : tag_(detail::Tag::Nil) { v_.u = 0; } // []
    Term(Atom a) noexcept : tag_(detail::Tag::Atom) { v_.u = a.index(); }
    Term(bool b) noexcept : Term(b ? atoms::true_ : atoms::false_) {}
    template <std::integral I>
        requires(!std::same_as<I, bool>)
    Term(I v) : tag_(detail::Tag::Small) {
        if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
            if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                tag_ = detail::Tag::Nil;
                *this = Term(BigInt::from_uint64(v));
                return;
            }
        }
        v_.i = static_cast<std::int64_t>(v);
    }
    Term(double d);     // throws Error(badarg) for NaN and infinities, which Erlang cannot hold
    Term(BigInt value); // stored inline when it fits 64 bits, so each integer has one form
    Term(const Pid& p);
    Term(const Port& p);
    Term(const Ref& r);
    Term(const Export& e) noexcept;

    // Text is ambiguous in Erlang: say atom("..."), binary("...") or string("...").
    Term(const char*) = delete;
    Term(std::string_view) = delete;
    Term(const std::string&) = delete;
    Term(std::nullptr_t) = delete;

    // Atoms, integers, floats, [] and exports hold no node: copying or dropping one makes no call.
    Term(const Term& o) noexcept : tag_(o.tag_), aux_(o.aux_), v_(o.v_) {
        if (tag_ >= detail::Tag::Big) retain();
    }
    Term(Term&& o) noexcept : tag_(o.tag_), aux_(o.aux_), v_(o.v_) { o.tag_ = detail::Tag::Nil; }
    Term& operator=(const Term& o) noexcept {
        Term(o).swap(*this);
        return *this;
    }
    Term& operator=(Term&& o) noexcept {
        Term(std::move(o)).swap(*this);
        return *this;
    }
    ~Term() {
        if (tag_ >= detail::Tag::Big) release();
    }
    void swap(Term& o) noexcept {
        std::swap(tag_, o.tag_);
        std::swap(aux_, o.aux_);
        std::swap(v_, o.v_);
    }

    // --- What it is --------------------------------------------------------------------------
    Kind kind() const noexcept;
    bool is_atom() const noexcept { return tag_ == detail::Tag::Atom; }
    bool is_atom(Atom a) const noexcept { return is_atom() && v_.u == a.index(); }
    bool is_boolean() const noexcept { return is_atom(atoms::true_) || is_atom(atoms::false_); }
    bool is_integer() const noexcept { return tag_ == detail::Tag::Small || tag_ == detail::Tag::Big; }
    bool is_int64() const noexcept { return tag_ == detail::Tag::Small; } // fits std::int64_t
    bool is_float() const noexcept { return tag_ == detail::Tag::Float; }
    bool is_number() const noexcept { return is_integer() || is_float(); }
    bool is_nil() const noexcept { return tag_ == detail::Tag::Nil; }
    bool is_list() const noexcept { return tag_ == detail::Tag::List || is_nil(); } // like is_list/1
    bool is_proper_list() const noexcept;
    bool is_tuple() const noexcept { return tag_ == detail::Tag::Tuple; }
    bool is_tuple(std::size_t arity) const noexcept { return is_tuple() && tuple_size() == arity; }
    bool is_map() const noexcept { return tag_ == detail::Tag::Map; }
    bool is_bitstring() const noexcept { return tag_ == detail::Tag::Binary; }
    bool is_binary() const noexcept; // a bit string whose size is a multiple of 8
    bool is_pid() const noexcept { return tag_ == detail::Tag::Pid; }
    bool is_port() const noexcept { return tag_ == detail::Tag::Port; }
    bool is_ref() const noexcept { return tag_ == detail::Tag::Ref; }
    bool is_function() const noexcept { return tag_ == detail::Tag::Fun || tag_ == detail::Tag::Export; }
    bool is_export() const noexcept { return tag_ == detail::Tag::Export; }

    // --- Typed access: each throws Error(badarg, "expected ..., got ...") on a mismatch -----
    Atom as_atom() const;
    bool as_bool() const;
    std::int64_t as_int64() const; // also fails (badarg) for integers outside 64 bits
    template <std::integral I>
    I as() const; // range-checked conversion of an integer
    BigInt as_bigint() const; // any integer
    double as_double() const; // a float (integers are not silently converted)
    double as_number() const; // an integer or a float, as a double

    // Binary bytes (the bit string must be byte-aligned) as a span or as a string_view.
    std::span<const std::uint8_t> as_binary() const;
    std::string_view as_binary_view() const;
    // Any bit string: its bytes (the last one partly used) and its size in bits.
    std::span<const std::uint8_t> bitstring_bytes() const;
    std::size_t bit_size() const;

    std::span<const Term> as_tuple() const;
    std::size_t tuple_size() const; // 0 when not a tuple
    const Term& operator[](std::size_t i) const; // tuple element, 0-based, bounds-checked

    ListView as_list() const; // [] or a list; proper or not
    // A proper list of Unicode code points (an Erlang string) as UTF-8.
    std::string as_string() const;

    MapView as_map() const;

    Pid as_pid() const;
    Port as_port() const;
    Ref as_ref() const;
    Export as_export() const;
    const FunData& as_fun() const;

    // --- Comparison -------------------------------------------------------------------------
    // == is Erlang's =:= (1 and 1.0 differ, so do 0.0 and -0.0, as in OTP 27).
    friend bool operator==(const Term& a, const Term& b) noexcept;
    // A total order consistent with ==: OTP's map-key order, which is Erlang term order except
    // that every integer sorts before every float, at any depth (2 < 1.5 here, while
    // compare(2, 1.5) > 0). Maps keep their keys, and term_to_binary writes them, in this order;
    // it is also what std::map and std::sort need. Use compare() for Erlang's `<`.
    friend std::strong_ordering operator<=>(const Term& a, const Term& b) noexcept;
    std::size_t hash() const noexcept; // consistent with ==

private:
    friend struct detail::TermAccess;
    explicit Term(detail::Tag t, detail::Node* n) noexcept : tag_(t) { v_.p = n; }
    void retain() const noexcept;
    void release() noexcept;
    void fail_expected(std::string_view what) const;

    detail::Tag tag_;
    std::uint8_t pad_[3] = {};
    std::uint32_t aux_ = 0; // Export: arity
    union {
        std::int64_t i;
        std::uint64_t u;
        double f;
        detail::Node* p;
    } v_;
};
static_assert(sizeof(Term) == 16);

// Erlang term order with arithmetic equality (what `<`, `==` and lists:sort use in Erlang):
// negative, zero or positive; compare(1, 1.0) == 0.
int compare(const Term& a, const Term& b) noexcept;

// The elements of [] or a list, and what follows the last one ([] for a proper list).
struct ListView {
    std::span<const Term> elements;
    const Term* tail;
    bool proper() const noexcept { return tail->is_nil(); }
    std::size_t size() const noexcept { return elements.size(); }
    auto begin() const noexcept { return elements.begin(); }
    auto end() const noexcept { return elements.end(); }
};

// A map's pairs, ordered by key in OTP's map-key order (operator<=>).
class MapView {
public:
    struct Entry {
        const Term& key;
        const Term& value;
    };
    class iterator {
    public:
        using value_type = Entry;
        using difference_type = std::ptrdiff_t;
        explicit iterator(const Term* p = nullptr) : p_(p) {}
        Entry operator*() const { return {p_[0], p_[1]}; }
        iterator& operator++() {
            p_ += 2;
            return *this;
        }
        iterator operator++(int) {
            auto t = *this;
            p_ += 2;
            return t;
        }
        friend bool operator==(iterator, iterator) = default;

    private:
        const Term* p_;
    };

    MapView(const Term* kv, std::size_t size) : kv_(kv), size_(size) {}
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    iterator begin() const noexcept { return iterator(kv_); }
    iterator end() const noexcept { return iterator(kv_ + 2 * size_); }
    const Term& key(std::size_t i) const noexcept { return kv_[2 * i]; }
    const Term& value(std::size_t i) const noexcept { return kv_[2 * i + 1]; }
    const Term* find(const Term& key) const noexcept; // exact (=:=) key match, or nullptr
    const Term& at(const Term& key) const;            // throws Error(badarg) when absent

private:
    const Term* kv_;
    std::size_t size_;
};

// A local fun as NEW_FUN_EXT carries it. Only round-tripped, never called.
struct FunData {
    std::uint8_t arity = 0;
    std::array<std::uint8_t, 16> uniq{};
    std::uint32_t index = 0;
    Atom module;
    Term old_index; // integer
    Term old_uniq;  // integer
    Term pid;       // the creating process
    std::vector<Term> free_vars;
};

// --- Construction -----------------------------------------------------------------------------
Term binary(std::string_view bytes);
Term binary(std::span<const std::uint8_t> bytes);
Term binary(std::vector<std::uint8_t>&& bytes); // takes the storage over, no copy
// `bytes` holds ceil(bit_size / 8) bytes; unused low bits of the last byte are cleared.
Term bitstring(std::span<const std::uint8_t> bytes, std::size_t bit_size);
// An Erlang string: the list of the code points of `utf8`. Throws Error(badarg) on bad UTF-8.
Term string(std::string_view utf8);
Atom atom(std::string_view utf8);

Term tuple_from(std::vector<Term> elements);
template <class... Ts>
Term tuple(Ts&&... elements) {
    std::vector<Term> v;
    v.reserve(sizeof...(Ts));
    (v.emplace_back(std::forward<Ts>(elements)), ...);
    return tuple_from(std::move(v));
}
// A list; with a tail other than [] the list is improper. A tail that is itself a list is
// appended, so [1 | [2]] and [1, 2] are the same term.
Term list_from(std::vector<Term> elements, Term tail = Term());
template <class... Ts>
Term list(Ts&&... elements) {
    std::vector<Term> v;
    v.reserve(sizeof...(Ts));
    (v.emplace_back(std::forward<Ts>(elements)), ...);
    return list_from(std::move(v));
}
// A map; when a key repeats, the last value wins, as in an Erlang map expression.
Term map_from(std::vector<std::pair<Term, Term>> pairs);
Term map(std::initializer_list<std::pair<Term, Term>> pairs);

Term fun(FunData data);

namespace literals {
inline Atom operator""_a(const char* s, std::size_t n) { return Atom(std::string_view(s, n)); }
} // namespace literals

// --- Inline definitions ---------------------------------------------------------------------
template <std::integral I>
I Term::as() const {
    if (tag_ == detail::Tag::Small) {
        std::int64_t v = v_.i;
        if constexpr (std::is_signed_v<I>) {
            if (v >= std::numeric_limits<I>::min() && v <= std::numeric_limits<I>::max())
                return static_cast<I>(v);
        } else {
            if (v >= 0 && static_cast<std::uint64_t>(v) <= std::numeric_limits<I>::max())
                return static_cast<I>(v);
        }
    } else if (tag_ == detail::Tag::Big) {
        if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::uint64_t)) {
            if (auto u = as_bigint().to_uint64()) return static_cast<I>(*u);
        }
    } else {
        fail_expected("an integer");
    }
    throw Error(atoms::badarg, "integer out of range for the requested C++ type");
}

} // namespace edist

template <>
struct std::hash<edist::Term> {
    std::size_t operator()(const edist::Term& t) const noexcept { return t.hash(); }
};
