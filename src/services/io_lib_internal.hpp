// Shared by the io_lib format engine (io_lib_format.cpp), the term writer behind ~w/~W
// (io_lib_write.cpp) and the pretty printer behind ~p/~P (io_lib_pretty.cpp).
//
// They work on code points (std::u32string), because every width, column and truncation rule
// of io_lib counts characters, not bytes; the result is UTF-8 encoded once at the end.
#pragma once

#include <edist/io_lib.hpp>
#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edist::io_lib::detail {

using Chars = std::u32string;

// ~w versus ~tw: Latin-1 writes atoms and strings with characters above 255 escaped.
enum class Encoding { latin1, unicode };

void append_ascii(Chars& out, std::string_view s);
void append_utf8_text(Chars& out, std::string_view utf8); // bad sequences become U+FFFD
// Characters as string:length counts them: grapheme clusters, approximated (see io_lib.hpp).
std::size_t grapheme_count(const Chars& s);
// The first n grapheme clusters of s (string:slice(S, 0, N)).
Chars grapheme_prefix(const Chars& s, std::size_t n);

// io_lib:chars_length: the plain count when every character is Latin-1, else string:length.
std::size_t chars_length(const Chars& s);
// io_lib:write_string(Chars, $"): quotes, escapes, and characters from U+00A0 up kept.
void write_string(Chars& out, const std::vector<char32_t>& cs);
// One printable character, in the Latin-1 or the Unicode range (io:printable_range()).
bool printable_char(std::int64_t c, bool unicode);

// io_lib:write(Term, Depth) with the given encoding; depth -1 means unlimited.
// Never recurses: deep terms cost heap, not stack.
void write_term(Chars& out, const Term& t, long depth, Encoding enc, const FormatOptions& opts);

// io_lib_pretty:print/2 with {column, Col} (1-based), {line_length, Ll}, {depth, D},
// {encoding, Enc} and {strings, Str}. Throws Error(system_limit) for terms nested deeper than
// it will follow (the layout is recursive, like OTP's).
void print_term(Chars& out, const Term& t, long col, long line_length, long depth, Encoding enc, bool strings,
                const FormatOptions& opts);

} // namespace edist::io_lib::detail
