// Atoms: interned UTF-8 names, compared and hashed by index.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace edist {

// An Erlang atom. Atoms live in one process-wide table for the life of the program, as in BEAM;
// the table is bounded (set_atom_table_limit), and creating an atom past the limit fails with
// `system_limit` rather than growing without bound under hostile input.
class Atom {
public:
    // The empty atom ''.
    constexpr Atom() noexcept = default;

    // Interns `utf8`. Throws edist::Error: `badarg` if the text is not valid UTF-8 or is longer
    // than 255 characters, `system_limit` if the atom table is full.
    explicit Atom(std::string_view utf8);

    // Interns bytes the caller knows to be valid UTF-8 of at most 255 characters.
    // Returns false (and leaves `out` alone) only if the atom table is full.
    static bool try_intern(std::string_view valid_utf8, Atom& out) noexcept;

    std::string_view name() const noexcept;
    std::string str() const { return std::string(name()); }
    constexpr std::uint32_t index() const noexcept { return index_; }
    static constexpr Atom from_index(std::uint32_t index) noexcept {
        Atom a;
        a.index_ = index;
        return a;
    }

    friend constexpr bool operator==(Atom a, Atom b) noexcept { return a.index_ == b.index_; }
    // Erlang term order between atoms: by their text, code point by code point.
    friend int compare(Atom a, Atom b) noexcept;
    // The same order, so atoms can key a std::map or be sorted.
    friend std::strong_ordering operator<=>(Atom a, Atom b) noexcept {
        if (a == b) return std::strong_ordering::equal;
        return compare(a, b) < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }

private:
    std::uint32_t index_ = 0;
};

// Number of atoms currently interned, and the table's limit (default 1,048,576 like BEAM).
std::size_t atom_count() noexcept;
std::size_t atom_table_limit() noexcept;
void set_atom_table_limit(std::size_t limit) noexcept;

// True if `s` is valid UTF-8 with at most 255 code points (what an atom may hold).
bool is_valid_atom_text(std::string_view s) noexcept;

// Atoms every layer uses, interned once at start-up with fixed indices.
namespace atoms {
#define EDIST_ATOM_LIST(X)                                                                         \
    X(empty, "")                                                                                   \
    X(ok, "ok")                                                                                    \
    X(error, "error")                                                                              \
    X(true_, "true")                                                                               \
    X(false_, "false")                                                                             \
    X(undefined, "undefined")                                                                      \
    X(badarg, "badarg")                                                                            \
    X(system_limit, "system_limit")                                                                \
    X(nonode_nohost, "nonode@nohost")                                                              \
    X(normal, "normal")                                                                            \
    X(timeout, "timeout")                                                                          \
    X(noproc, "noproc")                                                                            \
    X(noconnection, "noconnection")                                                                \
    X(infinity, "infinity")                                                                        \
    X(killed, "killed")                                                                            \
    X(kill, "kill")                                                                                \
    X(badrpc, "badrpc")                                                                            \
    X(nil, "nil")
namespace detail {
enum : std::uint32_t {
#define EDIST_ATOM_INDEX(id, text) id##_index,
    EDIST_ATOM_LIST(EDIST_ATOM_INDEX)
#undef EDIST_ATOM_INDEX
        predefined_count
};
} // namespace detail
#define EDIST_DEFINE_ATOM(id, text) inline constexpr Atom id = Atom::from_index(detail::id##_index);
EDIST_ATOM_LIST(EDIST_DEFINE_ATOM)
#undef EDIST_DEFINE_ATOM
} // namespace atoms

} // namespace edist

template <>
struct std::hash<edist::Atom> {
    std::size_t operator()(edist::Atom a) const noexcept { return a.index() * 0x9E3779B97F4A7C15ull; }
};
