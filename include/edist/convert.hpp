// C++ values to terms and back: what typed exported functions (edist/exports.hpp) use for their
// arguments and results, and what any code can use through from_term<T> and to_term.
//
//   std::vector<std::int64_t> xs = from_term<std::vector<std::int64_t>>(t);   // [1,2,3]
//   Term reply = to_term(std::pair(atom("ok"), std::string("done")));          // {ok,<<"done">>}
//
// | C++                                    | Erlang                                          |
// |----------------------------------------|-------------------------------------------------|
// | Term                                   | any term                                        |
// | Atom, bool                             | atom; true / false                              |
// | integer types                          | integer, range-checked both ways               |
// | BigInt                                 | any integer                                     |
// | double, float                          | float; an integer is accepted as an argument    |
// | std::string                            | binary (result); binary or string (argument)    |
// | std::string_view                       | binary (argument: a view into it)               |
// | std::vector<std::uint8_t>, std::byte   | binary                                          |
// | std::vector<T>, std::list<T>           | proper list                                     |
// | std::pair<A, B>, std::tuple<Ts...>     | tuple of that size                              |
// | std::map<K, V>, std::unordered_map     | map                                             |
// | std::optional<T>                       | `undefined` or T                                |
// | Pid, Port, Ref, Export                 | pid, port, reference, fun M:F/A                 |
// | const char* (result only)              | binary                                          |
//
// A term that does not fit throws Error(badarg, "expected ..., got ..."): in an exported
// function that is error:badarg, as a BIF given a bad argument. Strings are binaries when they
// go out, as Elixir and modern Erlang code pass text; a function that must return an Erlang
// string (a list of code points) returns string(text) as a Term.
//
// For a type of your own, specialise TermConvert:
//
//   template <> struct edist::TermConvert<Point> {
//       static Point from(const Term& t) { return {from_term<double>(t[1]), from_term<double>(t[2])}; }
//       static Term to(const Point& p) { return tuple(atom("point"), p.x, p.y); }
//   };
#pragma once

#include <edist/atom.hpp>
#include <edist/bigint.hpp>
#include <edist/error.hpp>
#include <edist/term.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace edist {

// Specialise with `static T from(const Term&)` (throwing Error(badarg) when the term does not
// fit) and/or `static Term to(const T&)`.
template <class T>
struct TermConvert {};

template <class T>
concept FromTerm = requires(const Term& t) {
    { TermConvert<std::remove_cvref_t<T>>::from(t) } -> std::convertible_to<std::remove_cvref_t<T>>;
};
template <class T>
concept ToTerm = requires(const std::remove_cvref_t<T>& v) {
    { TermConvert<std::remove_cvref_t<T>>::to(v) } -> std::convertible_to<Term>;
};

template <class T>
std::remove_cvref_t<T> from_term(const Term& t) {
    static_assert(FromTerm<T>, "edist::from_term: no TermConvert<T>::from for this type (see edist/convert.hpp)");
    return TermConvert<std::remove_cvref_t<T>>::from(t);
}
template <class T>
Term to_term(const T& v) {
    static_assert(ToTerm<T>, "edist::to_term: no TermConvert<T>::to for this type (see edist/convert.hpp)");
    return TermConvert<std::remove_cvref_t<T>>::to(v);
}

namespace detail {
// Throws Error(badarg, "expected <what>, got <t as ~w, shortened>").
[[noreturn]] void convert_failed(const Term& t, std::string_view what);
} // namespace detail

template <>
struct TermConvert<Term> {
    static Term from(const Term& t) { return t; }
    static Term to(const Term& t) { return t; }
};

template <>
struct TermConvert<Atom> {
    static Atom from(const Term& t) { return t.as_atom(); }
    static Term to(Atom a) { return Term(a); }
};

template <>
struct TermConvert<bool> {
    static bool from(const Term& t) { return t.as_bool(); }
    static Term to(bool b) { return Term(b); }
};

template <std::integral I>
    requires(!std::same_as<I, bool>)
struct TermConvert<I> {
    static I from(const Term& t) { return t.as<I>(); }
    static Term to(I v) { return Term(v); }
};

template <>
struct TermConvert<BigInt> {
    static BigInt from(const Term& t) { return t.as_bigint(); }
    static Term to(const BigInt& v) { return Term(v); }
};

// As Erlang's float/1: an integer argument is accepted, one too large for a double is badarg.
template <std::floating_point F>
struct TermConvert<F> {
    static F from(const Term& t) {
        const double d = t.as_number();
        if (!(d - d == 0)) detail::convert_failed(t, "a number that fits a double");
        return static_cast<F>(d);
    }
    static Term to(F v) { return Term(static_cast<double>(v)); }
};

template <>
struct TermConvert<std::string> {
    static std::string from(const Term& t) {
        if (t.is_binary()) return std::string(t.as_binary_view());
        if (t.is_list()) return t.as_string();
        detail::convert_failed(t, "a binary or a string");
    }
    static Term to(const std::string& s) { return binary(std::string_view(s)); }
};

// A view into the argument's binary: valid while the argument is (the whole call, for an
// exported function's parameters).
template <>
struct TermConvert<std::string_view> {
    static std::string_view from(const Term& t) { return t.as_binary_view(); }
    static Term to(std::string_view s) { return binary(s); }
};

template <>
struct TermConvert<const char*> {
    static Term to(const char* s) { return binary(std::string_view(s)); }
};

template <std::size_t N>
struct TermConvert<char[N]> {
    static Term to(const char* s) { return binary(std::string_view(s)); }
};

template <>
struct TermConvert<std::vector<std::uint8_t>> {
    static std::vector<std::uint8_t> from(const Term& t) {
        auto b = t.as_binary();
        return {b.begin(), b.end()};
    }
    static Term to(const std::vector<std::uint8_t>& v) { return binary(std::span<const std::uint8_t>(v)); }
};

template <>
struct TermConvert<std::vector<std::byte>> {
    static std::vector<std::byte> from(const Term& t) {
        auto b = t.as_binary();
        std::vector<std::byte> out(b.size());
        for (std::size_t i = 0; i < b.size(); ++i) out[i] = static_cast<std::byte>(b[i]);
        return out;
    }
    static Term to(const std::vector<std::byte>& v) {
        return binary(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(v.data()), v.size()));
    }
};

template <>
struct TermConvert<Pid> {
    static Pid from(const Term& t) { return t.as_pid(); }
    static Term to(const Pid& p) { return Term(p); }
};
template <>
struct TermConvert<Port> {
    static Port from(const Term& t) { return t.as_port(); }
    static Term to(const Port& p) { return Term(p); }
};
template <>
struct TermConvert<Ref> {
    static Ref from(const Term& t) { return t.as_ref(); }
    static Term to(const Ref& r) { return Term(r); }
};
template <>
struct TermConvert<Export> {
    static Export from(const Term& t) { return t.as_export(); }
    static Term to(const Export& e) { return Term(e); }
};

namespace detail {
// A sequence container as a proper list.
template <class Seq>
struct ListConvert {
    using T = typename Seq::value_type;
    static Seq from(const Term& t)
        requires FromTerm<T>
    {
        if (!t.is_proper_list()) convert_failed(t, "a proper list");
        Seq out;
        for (const Term& e : t.as_list()) out.push_back(from_term<T>(e));
        return out;
    }
    static Term to(const Seq& s)
        requires ToTerm<T>
    {
        std::vector<Term> v;
        v.reserve(s.size());
        for (const auto& e : s) v.push_back(to_term(e));
        return list_from(std::move(v));
    }
};
// An associative container as a map.
template <class M>
struct MapConvert {
    using K = typename M::key_type;
    using V = typename M::mapped_type;
    static M from(const Term& t)
        requires FromTerm<K> && FromTerm<V>
    {
        if (!t.is_map()) convert_failed(t, "a map");
        M out;
        for (auto [k, v] : t.as_map()) out.emplace(from_term<K>(k), from_term<V>(v));
        return out;
    }
    static Term to(const M& m)
        requires ToTerm<K> && ToTerm<V>
    {
        std::vector<std::pair<Term, Term>> v;
        v.reserve(m.size());
        for (const auto& [k, x] : m) v.emplace_back(to_term(k), to_term(x));
        return map_from(std::move(v));
    }
};
} // namespace detail

template <class T, class A>
struct TermConvert<std::vector<T, A>> : detail::ListConvert<std::vector<T, A>> {};
template <class T, class A>
struct TermConvert<std::list<T, A>> : detail::ListConvert<std::list<T, A>> {};
template <class K, class V, class C, class A>
struct TermConvert<std::map<K, V, C, A>> : detail::MapConvert<std::map<K, V, C, A>> {};
template <class K, class V, class H, class E, class A>
struct TermConvert<std::unordered_map<K, V, H, E, A>> : detail::MapConvert<std::unordered_map<K, V, H, E, A>> {};

// `undefined` is std::nullopt, as Erlang APIs say "no value".
template <class T>
struct TermConvert<std::optional<T>> {
    static std::optional<T> from(const Term& t)
        requires FromTerm<T>
    {
        if (t.is_atom(atom("undefined"))) return std::nullopt;
        return from_term<T>(t);
    }
    static Term to(const std::optional<T>& v)
        requires ToTerm<T>
    {
        return v ? to_term(*v) : Term(atom("undefined"));
    }
};

template <class... Ts>
struct TermConvert<std::tuple<Ts...>> {
    static std::tuple<Ts...> from(const Term& t)
        requires(FromTerm<Ts> && ...)
    {
        if (!t.is_tuple(sizeof...(Ts))) detail::convert_failed(t, "a tuple of " + std::to_string(sizeof...(Ts)) + " elements");
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple<Ts...>{from_term<Ts>(t[I])...}; // braces: left to right
        }(std::index_sequence_for<Ts...>{});
    }
    static Term to(const std::tuple<Ts...>& v)
        requires(ToTerm<Ts> && ...)
    {
        return std::apply([](const auto&... e) { return tuple_from({to_term(e)...}); }, v);
    }
};
template <class A, class B>
struct TermConvert<std::pair<A, B>> {
    static std::pair<A, B> from(const Term& t)
        requires FromTerm<A> && FromTerm<B>
    {
        if (!t.is_tuple(2)) detail::convert_failed(t, "a tuple of 2 elements");
        return {from_term<A>(t[0]), from_term<B>(t[1])};
    }
    static Term to(const std::pair<A, B>& p)
        requires ToTerm<A> && ToTerm<B>
    {
        return tuple(to_term(p.first), to_term(p.second));
    }
};

} // namespace edist
