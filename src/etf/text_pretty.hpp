// The pretty printer behind both to_pretty_string (text.hpp) and io_lib's ~p/~P
// (services/io_lib_format.cpp): a port of OTP 25's io_lib_pretty layout rules, and the
// character helpers it shares with io_lib's formatter.
//
// It works on code points (std::u32string), because every width, column and truncation rule
// of io_lib counts characters, not bytes; callers encode the result as UTF-8 once at the end.
#pragma once

#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace edist::detail {

using Chars = std::u32string;

void append_utf8_text(Chars& out, std::string_view utf8); // bad sequences become U+FFFD
// Characters as string:length counts them: grapheme clusters, approximated (see io_lib.hpp).
std::size_t grapheme_count(const Chars& s);
// The first n grapheme clusters of s (string:slice(S, 0, N)).
Chars grapheme_prefix(const Chars& s, std::size_t n);
// io_lib:chars_length: the plain count when every character is Latin-1, else string:length.
std::size_t chars_length(const Chars& s);
// io_lib:write_string(Chars, $"): quotes, escapes, and characters from U+00A0 up kept.
void write_string(Chars& out, const std::vector<char32_t>& cs);

// io_lib_pretty:print/2's options, as ~p/~P and ~tp/~tP pass them.
struct PrettyLayout {
    long column = 1;        // 1-based column the term starts at
    long line_length = 80;  // 0: never break lines
    long depth = -1;        // ~P's depth; -1 means unlimited
    bool unicode = true;    // ~tp rather than ~p: atoms keep Unicode, UTF-8 binaries may be text
    bool strings = true;    // ~lp turns this off: lists and binaries are never shown as text
    bool printable_unicode = true; // erl's printable range: +pc unicode (true) or latin1
    // io_lib:write(T, Depth) for what the layout does not break: atoms (with `unicode`),
    // numbers, pids, ports, refs, funs (unicode false), and binaries shown as bytes (with a
    // depth). Unset: edist's own notation (text.hpp), which supports only depth -1.
    std::function<void(Chars& out, const Term& t, long depth, bool unicode)> write;
};

// io_lib_pretty:print(T, Options). Throws Error(system_limit) for terms nested deeper than it
// will follow (the layout is recursive, like OTP's).
void print_pretty(Chars& out, const Term& t, const PrettyLayout& layout);

} // namespace edist::detail
