// Shared by the io_lib format engine (io_lib_format.cpp) and the term writer behind ~w/~W
// (io_lib_write.cpp). ~p/~P use the pretty printer of the etf layer (etf/text_pretty.hpp),
// whose character helpers they share.
//
// They work on code points (std::u32string), because every width, column and truncation rule
// of io_lib counts characters, not bytes; the result is UTF-8 encoded once at the end.
#pragma once

#include "etf/text_pretty.hpp"

#include <edist/io_lib.hpp>
#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edist::io_lib::detail {

using edist::detail::append_utf8_text;
using edist::detail::Chars;
using edist::detail::chars_length;
using edist::detail::grapheme_count;
using edist::detail::grapheme_prefix;
using edist::detail::write_string;

// ~w versus ~tw: Latin-1 writes atoms and strings with characters above 255 escaped.
enum class Encoding { latin1, unicode };

void append_ascii(Chars& out, std::string_view s);

// io_lib:write(Term, Depth) with the given encoding; depth -1 means unlimited.
// Never recurses: deep terms cost heap, not stack.
void write_term(Chars& out, const Term& t, long depth, Encoding enc, const FormatOptions& opts);

} // namespace edist::io_lib::detail
