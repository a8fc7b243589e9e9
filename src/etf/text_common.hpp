// Pieces shared by the term printer, the pretty printer and the parser (text.hpp).
#pragma once

#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edist::detail {

// ~w writes every list as integers and escapes atom characters above 255; ~tp (what
// to_pretty_string follows) writes printable lists and binaries as text and keeps Unicode.
enum class TextStyle : std::uint8_t { Write, Pretty };

inline constexpr std::size_t no_limit = static_cast<std::size_t>(-1);

void append_utf8(std::string& out, std::uint32_t cp);
// One strict UTF-8 sequence at s[i] (no overlongs, no surrogates); advances i. -1 when bad.
long decode_utf8(std::string_view s, std::size_t& i) noexcept;

// erl_scan's character classes: Latin-1 letters count; ª, º, µ, × and ÷ do not.
bool is_lower(long c) noexcept;
bool is_upper(long c) noexcept;
bool is_name_char(long c) noexcept;
// Words erl quotes as atoms and refuses bare (OTP 25, without the maybe_expr feature).
bool is_reserved_word(std::string_view s) noexcept;

// Would erl print this atom quoted? (reserved words, non-lowercase start, other characters)
bool atom_needs_quotes(std::string_view utf8) noexcept;
void append_atom(std::string& out, std::string_view utf8, TextStyle style, bool force_quotes = false);

// One printable character: io_lib:printable_unicode_list's idea of it, or with `unicode`
// false io_lib:printable_latin1_list's (io:printable_range() unicode or latin1).
bool is_printable_char(std::int64_t c, bool unicode = true) noexcept;
// A non-empty proper list of printable characters, shorter than max_len elements.
bool is_printable_list(const Term& t, std::size_t max_len = no_limit) noexcept;

// Writes t on one line. Returns false as soon as more than `limit` bytes were appended (the
// text is then cut short), so callers can ask "does this fit?" cheaply on huge terms.
bool append_flat(std::string& out, const Term& t, TextStyle style, std::size_t limit = no_limit);

} // namespace edist::detail
