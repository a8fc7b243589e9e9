// Term order, equality and hashing, all without recursion so that any depth is safe.
#include "etf/term_impl.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace edist {

using detail::Tag;
using detail::TermAccess;

namespace {

// Rank in Erlang term order: number < atom < reference < fun < port < pid < tuple < map < nil <
// list < bit string.
int rank(Tag t) noexcept {
    switch (t) {
    case Tag::Small:
    case Tag::Big:
    case Tag::Float: return 0;
    case Tag::Atom: return 1;
    case Tag::Ref: return 2;
    case Tag::Fun:
    case Tag::Export: return 3;
    case Tag::Port: return 4;
    case Tag::Pid: return 5;
    case Tag::Tuple: return 6;
    case Tag::Map: return 7;
    case Tag::Nil: return 8;
    case Tag::List: return 9;
    case Tag::Binary: return 10;
    }
    return 11;
}

template <class T>
int three_way(const T& a, const T& b) noexcept {
    return a < b ? -1 : (b < a ? 1 : 0);
}

// An integral double of magnitude >= 2^63 as a BigInt, exactly.
BigInt big_from_integral_double(double f) {
    int exp;
    double frac = std::frexp(std::fabs(f), &exp); // |f| = frac * 2^exp, frac in [0.5, 1)
    auto mantissa = static_cast<std::uint64_t>(std::ldexp(frac, 53));
    int shift = exp - 53; // >= 11 here
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>((53 + shift) / 8 + 2), 0);
    for (int bit = 0; bit < 53; ++bit)
        if (mantissa >> bit & 1) {
            int pos = bit + shift;
            bytes[static_cast<std::size_t>(pos / 8)] |= static_cast<std::uint8_t>(1u << (pos % 8));
        }
    return BigInt::from_le_bytes(bytes, f < 0);
}

// Integer vs float by mathematical value (how OTP compares them, transitively).
int cmp_int_float(const Term& i, double f) {
    constexpr double two63 = 9223372036854775808.0;
    if (TermAccess::tag(i) == Tag::Small) {
        std::int64_t v = TermAccess::small(i);
        if (f >= two63) return -1;
        if (f < -two63) return 1;
        double t = std::trunc(f);
        auto ti = static_cast<std::int64_t>(t);
        if (v != ti) return v < ti ? -1 : 1;
        double rest = f - t;
        return rest > 0 ? -1 : (rest < 0 ? 1 : 0);
    }
    const BigInt& b = TermAccess::as<detail::BigNode>(i)->value;
    if (std::fabs(f) < two63) return b.negative() ? -1 : 1; // a big is outside the int64 range
    auto c = b <=> big_from_integral_double(f);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int cmp_numbers(const Term& a, const Term& b, bool exact) {
    Tag ta = TermAccess::tag(a), tb = TermAccess::tag(b);
    if (ta == Tag::Float && tb == Tag::Float) {
        double x = TermAccess::flt(a), y = TermAccess::flt(b);
        if (x != y) return x < y ? -1 : 1;
        if (exact && std::signbit(x) != std::signbit(y)) return std::signbit(x) ? -1 : 1;
        return 0;
    }
    if (ta == Tag::Float || tb == Tag::Float) {
        bool a_float = ta == Tag::Float;
        if (exact) return a_float ? 1 : -1; // map-key order: every integer before every float
        return a_float ? -cmp_int_float(b, TermAccess::flt(a)) : cmp_int_float(a, TermAccess::flt(b));
    }
    if (ta == Tag::Small && tb == Tag::Small) return three_way(TermAccess::small(a), TermAccess::small(b));
    if (ta == Tag::Small) return TermAccess::as<detail::BigNode>(b)->value.negative() ? 1 : -1;
    if (tb == Tag::Small) return TermAccess::as<detail::BigNode>(a)->value.negative() ? -1 : 1;
    auto c = TermAccess::as<detail::BigNode>(a)->value <=> TermAccess::as<detail::BigNode>(b)->value;
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int cmp_bits(const detail::BinaryNode* a, const detail::BinaryNode* b) noexcept {
    std::size_t common = std::min(a->bits, b->bits);
    std::size_t full = common / 8;
    if (full) {
        int c = std::memcmp(a->data, b->data, full);
        if (c) return c < 0 ? -1 : 1;
    }
    if (unsigned rest = common % 8) {
        unsigned mask = (0xFFu << (8 - rest)) & 0xFF;
        unsigned x = a->data[full] & mask, y = b->data[full] & mask;
        if (x != y) return x < y ? -1 : 1;
    }
    return three_way(a->bits, b->bits);
}

// Pids order by serial, number, node name, creation; ports and refs by node name and creation
// first. These are what OTP 25's lists:sort shows.
int cmp_pid(const Pid& a, const Pid& b) noexcept {
    if (int c = three_way(a.serial, b.serial)) return c;
    if (int c = three_way(a.id, b.id)) return c;
    if (int c = compare(a.node, b.node)) return c;
    return three_way(a.creation, b.creation);
}
int cmp_port(const Port& a, const Port& b) noexcept {
    if (int c = compare(a.node, b.node)) return c;
    if (int c = three_way(a.creation, b.creation)) return c;
    return three_way(a.id, b.id);
}
int cmp_ref(const Ref& a, const Ref& b) noexcept {
    if (int c = compare(a.node, b.node)) return c;
    if (int c = three_way(a.creation, b.creation)) return c;
    if (int c = three_way(a.len, b.len)) return c;
    for (int i = a.len - 1; i >= 0; --i)
        if (int c = three_way(a.words[i], b.words[i])) return c;
    return 0;
}

struct Item {
    const Term* a;
    const Term* b;
    bool exact;
    signed char fixed; // when not 0: the answer, decided when the item was pushed
};

class ItemStack {
public:
    void push(Item it) {
        if (size_ < inline_.size())
            inline_[size_++] = it;
        else
            spill_.push_back(it);
    }
    Item pop() {
        if (!spill_.empty()) {
            Item it = spill_.back();
            spill_.pop_back();
            return it;
        }
        return inline_[--size_];
    }
    bool empty() const { return size_ == 0 && spill_.empty(); }

private:
    std::array<Item, 32> inline_; // not zeroed: only [0, size_) is ever read
    std::size_t size_ = 0;
    std::vector<Item> spill_;
};

int sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

int cmp_terms(const Term& a0, const Term& b0, bool exact0) {
    ItemStack stack;
    stack.push({&a0, &b0, exact0, 0});
    while (!stack.empty()) {
        Item it = stack.pop();
        if (it.fixed) return it.fixed;
        const Term& a = *it.a;
        const Term& b = *it.b;
        Tag ta = TermAccess::tag(a), tb = TermAccess::tag(b);
        if (int r = rank(ta) - rank(tb)) return sign(r);
        if (ta == tb && ta >= Tag::Big && TermAccess::node(a) == TermAccess::node(b)) continue; // shared
        switch (rank(ta)) {
        case 0:
            if (int c = cmp_numbers(a, b, it.exact)) return c;
            break;
        case 1:
            if (int c = compare(a.as_atom(), b.as_atom())) return c;
            break;
        case 2:
            if (int c = cmp_ref(TermAccess::as<detail::RefNode>(a)->ref, TermAccess::as<detail::RefNode>(b)->ref))
                return c;
            break;
        case 3: {
            if (ta != tb) return ta == Tag::Fun ? -1 : 1; // local funs before external ones
            if (ta == Tag::Export) {
                Export x = a.as_export(), y = b.as_export();
                if (int c = compare(x.module, y.module)) return c;
                if (int c = compare(x.function, y.function)) return c;
                if (int c = three_way(x.arity, y.arity)) return c;
                break;
            }
            // OTP 25 orders local funs by module, index (a signed 32-bit int), old uniq, number of
            // free variables and the free variables; uniq, old index and pid only break ties in
            // the exact order.
            const FunData& x = TermAccess::as<detail::FunNode>(a)->fun;
            const FunData& y = TermAccess::as<detail::FunNode>(b)->fun;
            if (int c = compare(x.module, y.module)) return c;
            if (int c = three_way(static_cast<std::int32_t>(x.index), static_cast<std::int32_t>(y.index))) return c;
            if (it.exact) {
                stack.push({&x.pid, &y.pid, true, 0});
                stack.push({&x.old_index, &y.old_index, true, 0});
                if (int c = std::memcmp(x.uniq.data(), y.uniq.data(), x.uniq.size()))
                    stack.push({nullptr, nullptr, true, static_cast<signed char>(sign(c))});
            }
            std::size_t common = std::min(x.free_vars.size(), y.free_vars.size());
            for (std::size_t i = common; i-- > 0;) stack.push({&x.free_vars[i], &y.free_vars[i], it.exact, 0});
            if (int c = three_way(x.free_vars.size(), y.free_vars.size()))
                stack.push({nullptr, nullptr, it.exact, static_cast<signed char>(c)});
            stack.push({&x.old_uniq, &y.old_uniq, it.exact, 0});
            break;
        }
        case 4:
            if (int c = cmp_port(TermAccess::as<detail::PortNode>(a)->port, TermAccess::as<detail::PortNode>(b)->port))
                return c;
            break;
        case 5:
            if (int c = cmp_pid(TermAccess::as<detail::PidNode>(a)->pid, TermAccess::as<detail::PidNode>(b)->pid))
                return c;
            break;
        case 6: {
            auto* x = TermAccess::as<detail::TupleNode>(a);
            auto* y = TermAccess::as<detail::TupleNode>(b);
            if (int c = three_way(x->size, y->size)) return c;
            for (std::uint32_t i = x->size; i-- > 0;) stack.push({&x->elems()[i], &y->elems()[i], it.exact, 0});
            break;
        }
        case 7: {
            // By size, then all keys in key order (always exact: #{1=>a} and #{1.0=>a} differ), then
            // the values in key order.
            auto* x = TermAccess::as<detail::MapNode>(a);
            auto* y = TermAccess::as<detail::MapNode>(b);
            if (int c = three_way(x->size, y->size)) return c;
            for (std::uint32_t i = x->size; i-- > 0;) stack.push({&x->kv()[2 * i + 1], &y->kv()[2 * i + 1], it.exact, 0});
            for (std::uint32_t i = x->size; i-- > 0;) stack.push({&x->kv()[2 * i], &y->kv()[2 * i], true, 0});
            break;
        }
        case 8: break;
        case 9: {
            auto* x = TermAccess::as<detail::ListNode>(a);
            auto* y = TermAccess::as<detail::ListNode>(b);
            std::uint32_t n = std::min(x->size, y->size);
            if (x->size == y->size) {
                stack.push({&x->tail, &y->tail, it.exact, 0});
            } else {
                // One list goes on where the other has its tail, which is never a list.
                const Term& tail = x->size < y->size ? x->tail : y->tail;
                int r = sign(rank(TermAccess::tag(tail)) - rank(Tag::List));
                stack.push({nullptr, nullptr, it.exact, static_cast<signed char>(x->size < y->size ? r : -r)});
            }
            for (std::uint32_t i = n; i-- > 0;) stack.push({&x->elems()[i], &y->elems()[i], it.exact, 0});
            break;
        }
        case 10:
            if (int c = cmp_bits(TermAccess::as<detail::BinaryNode>(a), TermAccess::as<detail::BinaryNode>(b)))
                return c;
            break;
        }
    }
    return 0;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) noexcept {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

} // namespace

int compare(const Term& a, const Term& b) noexcept { return cmp_terms(a, b, false); }

bool operator==(const Term& a, const Term& b) noexcept {
    Tag ta = TermAccess::tag(a);
    if (ta != TermAccess::tag(b)) return false;
    switch (ta) {
    case Tag::Nil: return true;
    case Tag::Atom:
    case Tag::Small:
    case Tag::Export: return a.v_.u == b.v_.u && a.aux_ == b.aux_;
    case Tag::Float: return std::memcmp(&a.v_.f, &b.v_.f, sizeof(double)) == 0;
    default: return cmp_terms(a, b, true) == 0;
    }
}

std::strong_ordering operator<=>(const Term& a, const Term& b) noexcept {
    int c = cmp_terms(a, b, true);
    return c < 0 ? std::strong_ordering::less : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

std::size_t Term::hash() const noexcept {
    std::uint64_t h = 0x243F6A8885A308D3ull;
    std::vector<const Term*> todo;
    const Term* t = this;
    for (;;) {
        Tag tag = t->tag_;
        h = mix(h, static_cast<std::uint64_t>(tag));
        switch (tag) {
        case Tag::Nil: break;
        case Tag::Atom:
        case Tag::Small:
        case Tag::Export: h = mix(mix(h, t->v_.u), t->aux_); break;
        case Tag::Float: {
            std::uint64_t bits;
            std::memcpy(&bits, &t->v_.f, sizeof bits);
            h = mix(h, bits);
            break;
        }
        case Tag::Big: h = mix(h, TermAccess::as<detail::BigNode>(*t)->value.hash()); break;
        case Tag::Binary: {
            auto* b = TermAccess::as<detail::BinaryNode>(*t);
            h = mix(h, b->bits);
            std::size_t n = b->byte_size(), i = 0;
            for (; i + 8 <= n; i += 8) {
                std::uint64_t w;
                std::memcpy(&w, b->data + i, 8);
                h = mix(h, w);
            }
            for (; i < n; ++i) h = mix(h, b->data[i]);
            break;
        }
        case Tag::List: {
            auto* l = TermAccess::as<detail::ListNode>(*t);
            h = mix(h, l->size);
            todo.push_back(&l->tail);
            for (std::uint32_t i = l->size; i-- > 0;) todo.push_back(&l->elems()[i]);
            break;
        }
        case Tag::Tuple: {
            auto* x = TermAccess::as<detail::TupleNode>(*t);
            h = mix(h, x->size);
            for (std::uint32_t i = x->size; i-- > 0;) todo.push_back(&x->elems()[i]);
            break;
        }
        case Tag::Map: {
            auto* m = TermAccess::as<detail::MapNode>(*t);
            h = mix(h, m->size);
            for (std::uint32_t i = 2 * m->size; i-- > 0;) todo.push_back(&m->kv()[i]);
            break;
        }
        case Tag::Pid: {
            const Pid& p = TermAccess::as<detail::PidNode>(*t)->pid;
            h = mix(mix(mix(mix(h, p.node.index()), p.id), p.serial), p.creation);
            break;
        }
        case Tag::Port: {
            const Port& p = TermAccess::as<detail::PortNode>(*t)->port;
            h = mix(mix(mix(h, p.node.index()), p.id), p.creation);
            break;
        }
        case Tag::Ref: {
            const Ref& r = TermAccess::as<detail::RefNode>(*t)->ref;
            h = mix(mix(mix(h, r.node.index()), r.creation), r.len);
            for (auto w : r.ids()) h = mix(h, w);
            break;
        }
        case Tag::Fun: {
            const FunData& f = TermAccess::as<detail::FunNode>(*t)->fun;
            h = mix(mix(mix(h, f.module.index()), f.index), f.arity);
            for (auto u : f.uniq) h = mix(h, u);
            todo.push_back(&f.pid);
            todo.push_back(&f.old_uniq);
            todo.push_back(&f.old_index);
            for (const Term& v : f.free_vars) todo.push_back(&v);
            break;
        }
        }
        if (todo.empty()) break;
        t = todo.back();
        todo.pop_back();
    }
    return static_cast<std::size_t>(h);
}

const Term* MapView::find(const Term& key) const noexcept {
    std::size_t lo = 0, hi = size_;
    while (lo < hi) {
        std::size_t mid = (lo + hi) / 2;
        int c = cmp_terms(kv_[2 * mid], key, true);
        if (c == 0) return &kv_[2 * mid + 1];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return nullptr;
}

namespace detail {

namespace {
struct KV {
    Term k;
    Term v;
};
static_assert(sizeof(KV) == 2 * sizeof(Term));
KV* pairs(MapNode* m) noexcept { return reinterpret_cast<KV*>(m->kv()); }
bool key_less(const KV& x, const KV& y) noexcept { return cmp_terms(x.k, y.k, true) < 0; }
} // namespace

bool sort_map(MapNode* m) noexcept {
    KV* p = pairs(m);
    std::uint32_t n = m->size;
    bool sorted = true;
    for (std::uint32_t i = 1; i < n; ++i) {
        int c = cmp_terms(p[i - 1].k, p[i].k, true);
        if (c == 0) return false;
        if (c > 0) {
            sorted = false;
            break;
        }
    }
    if (sorted) return true;
    std::sort(p, p + n, key_less);
    for (std::uint32_t i = 1; i < n; ++i)
        if (p[i - 1].k == p[i].k) return false;
    return true;
}

void sort_map_last_wins(MapNode* m) noexcept {
    KV* p = pairs(m);
    std::uint32_t n = m->size;
    std::stable_sort(p, p + n, key_less);
    std::uint32_t out = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i + 1 < n && p[i].k == p[i + 1].k) continue; // a later pair has the same key
        if (out != i) p[out] = std::move(p[i]);
        ++out;
    }
    for (std::uint32_t i = out; i < n; ++i) p[i].~KV(); // moved-from or superseded
    m->size = out;
}

} // namespace detail
} // namespace edist
