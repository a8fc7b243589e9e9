// Characters as io_lib counts, tests and quotes them; shared by the pretty printer
// (text_pretty.cpp) and io_lib's formatter (services/io_lib_format.cpp).
#include "etf/text_pretty.hpp"

#include "etf/text_common.hpp"

namespace edist::detail {

void append_utf8_text(Chars& out, std::string_view utf8) {
    std::size_t i = 0;
    while (i < utf8.size()) {
        long cp = decode_utf8(utf8, i);
        if (cp < 0) {
            out += U'\uFFFD';
            ++i;
        } else {
            out += static_cast<char32_t>(cp);
        }
    }
}

namespace {

bool is_extender(char32_t c) {
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
           (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || (c >= 0xFE00 && c <= 0xFE0F) ||
           (c >= 0xE0100 && c <= 0xE01EF) || (c >= 0x1F3FB && c <= 0x1F3FF) || c == 0x200D;
}

// Grapheme_Cluster_Break=Control: C0/C1 controls and the format characters (Cf) that are not
// joiners; a combining mark after one of these starts a cluster of its own.
bool is_control(char32_t c) {
    return c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0xAD || c == 0x61C || c == 0x180E || c == 0x200B ||
           c == 0x200E || c == 0x200F || (c >= 0x2028 && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F) ||
           c == 0xFEFF || (c >= 0xFFF0 && c <= 0xFFFB) || (c >= 0xD800 && c <= 0xDFFF);
}

// Does a new grapheme cluster start at s[i]?
bool cluster_starts(const Chars& s, std::size_t i) {
    if (i == 0) return true;
    char32_t prev = s[i - 1], c = s[i];
    if (prev == U'\r' && c == U'\n') return false;
    if (is_control(prev) || is_control(c)) return true;
    return !(is_extender(c) || prev == 0x200D);
}

} // namespace

std::size_t grapheme_count(const Chars& s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (cluster_starts(s, i)) ++n;
    return n;
}

Chars grapheme_prefix(const Chars& s, std::size_t n) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (cluster_starts(s, i) && seen++ == n) return s.substr(0, i);
    }
    return s;
}

std::size_t chars_length(const Chars& s) {
    // io_lib:chars_length: the plain count when every character is Latin-1, else string:length.
    for (char32_t c : s)
        if (c > 255) return grapheme_count(s);
    return s.size();
}

void write_string(Chars& out, const std::vector<char32_t>& cs) {
    out += U'"';
    for (char32_t c : cs) {
        switch (c) {
        case U'"': out += U"\\\""; continue;
        case U'\\': out += U"\\\\"; continue;
        case U'\n': out += U"\\n"; continue;
        case U'\r': out += U"\\r"; continue;
        case U'\t': out += U"\\t"; continue;
        case U'\v': out += U"\\v"; continue;
        case U'\b': out += U"\\b"; continue;
        case U'\f': out += U"\\f"; continue;
        case 0x1B: out += U"\\e"; continue;
        case 0x7F: out += U"\\d"; continue;
        default: break;
        }
        if ((c >= 0x20 && c <= 0x7E) || c >= 0xA0) {
            out += c;
        } else {
            out += U'\\';
            out += static_cast<char32_t>(U'0' + ((c >> 6) & 7));
            out += static_cast<char32_t>(U'0' + ((c >> 3) & 7));
            out += static_cast<char32_t>(U'0' + (c & 7));
        }
    }
    out += U'"';
}

} // namespace edist::detail
