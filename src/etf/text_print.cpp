// to_string (io_lib:format("~w")) and the flat writer the pretty printer builds on.
#include <edist/etf.hpp>
#include <edist/text.hpp>

#include "etf/float_text.hpp"
#include "etf/term_impl.hpp"
#include "etf/text_common.hpp"

#include <array>
#include <charconv>
#include <ostream>
#include <vector>

namespace edist::detail {

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

long decode_utf8(std::string_view s, std::size_t& i) noexcept {
    if (i >= s.size()) return -1;
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
        ++i;
        return c;
    }
    std::size_t n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
    if (n == 0 || n >= s.size() - i) return -1;
    long cp = c & (0x3F >> n);
    for (std::size_t k = 1; k <= n; ++k) {
        auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr long min_for_len[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    i += n + 1;
    return cp;
}

namespace {

// Reserved words as OTP 25's io_lib quotes them. 'maybe' and 'else' belong to a feature that
// is off by default there, so erl writes them bare.
constexpr std::array<std::string_view, 27> reserved_words = {
    "after", "and", "andalso", "band", "begin", "bnot",   "bor",     "bsl", "bsr",
    "bxor",  "case", "catch",  "cond", "div",   "end",    "fun",     "if",  "let",
    "not",   "of",  "or",      "orelse", "receive", "rem", "try",   "when", "xor"};

void append_octal(std::string& out, std::uint32_t c) {
    out += '\\';
    out += static_cast<char>('0' + ((c >> 6) & 7));
    out += static_cast<char>('0' + ((c >> 3) & 7));
    out += static_cast<char>('0' + (c & 7));
}

// One character inside '...' or "...", escaped the way io_lib writes it.
void append_quoted_char(std::string& out, std::uint32_t c, char quote, TextStyle style) {
    switch (c) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\v': out += "\\v"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    case 27: out += "\\e"; return;
    case 127: out += "\\d"; return;
    case '\\': out += "\\\\"; return;
    default: break;
    }
    if (c == static_cast<std::uint32_t>(quote)) {
        out += '\\';
        out += quote;
    } else if (c < 32 || (c >= 128 && c < 160)) {
        append_octal(out, c);
    } else if (c < 128) {
        out += static_cast<char>(c);
    } else if (c < 256 || style == TextStyle::Pretty) {
        append_utf8(out, c);
    } else {
        char buf[16];
        auto r = std::to_chars(buf, buf + sizeof buf, c, 16);
        out += "\\x{";
        for (char* p = buf; p != r.ptr; ++p) out += static_cast<char>(*p >= 'a' ? *p - 'a' + 'A' : *p);
        out += '}';
    }
}

template <class Int>
void append_int(std::string& out, Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_integer(std::string& out, const Term& t) {
    if (t.is_int64())
        append_int(out, TermAccess::small(t));
    else
        out += t.as_bigint().to_string(10);
}

// How ~tp shows a binary: as ASCII/UTF-8 text, as Latin-1 text, or as bytes.
enum class BinaryText { None, Plain, Utf8, Latin1 };

BinaryText classify_binary(std::span<const std::uint8_t> b) {
    std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
    bool ascii = true, utf8 = true;
    for (std::size_t i = 0; i < s.size();) {
        long c = decode_utf8(s, i);
        if (c < 0) {
            utf8 = false;
            break;
        }
        if (!is_printable_char(c)) return BinaryText::None; // valid UTF-8 but not text
        if (c >= 128) ascii = false;
    }
    if (utf8) return ascii ? BinaryText::Plain : BinaryText::Utf8;
    for (std::uint8_t c : b)
        if (!(is_printable_char(c) && (c < 128 || c >= 160))) return BinaryText::None;
    return BinaryText::Latin1;
}

void append_bitstring(std::string& out, const Term& t, TextStyle style, std::size_t limit) {
    auto bytes = t.bitstring_bytes();
    std::size_t bits = t.bit_size();
    std::size_t whole = bits / 8;
    out += "<<";
    if (style == TextStyle::Pretty && bits % 8 == 0 && whole > 0) {
        BinaryText kind = classify_binary(bytes);
        if (kind != BinaryText::None) {
            out += '"';
            std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            for (std::size_t i = 0; i < s.size() && out.size() <= limit;) {
                std::uint32_t c = kind == BinaryText::Latin1 ? static_cast<std::uint8_t>(s[i++])
                                                             : static_cast<std::uint32_t>(decode_utf8(s, i));
                append_quoted_char(out, c, '"', style);
            }
            out += kind == BinaryText::Utf8 ? "\"/utf8>>" : "\">>";
            return;
        }
    }
    for (std::size_t i = 0; i < whole && out.size() <= limit; ++i) {
        if (i > 0) out += ',';
        append_int(out, static_cast<unsigned>(bytes[i]));
    }
    if (std::size_t rest = bits % 8) {
        if (whole > 0) out += ',';
        append_int(out, static_cast<unsigned>(bytes[whole] >> (8 - rest)));
        out += ':';
        append_int(out, rest);
    }
    out += ">>";
}

void append_printable_list(std::string& out, const Term& t, std::size_t limit) {
    out += '"';
    for (const Term& e : t.as_list()) {
        append_quoted_char(out, static_cast<std::uint32_t>(TermAccess::small(e)), '"', TextStyle::Pretty);
        if (out.size() > limit) break;
    }
    out += '"';
}

void append_fun(std::string& out, const Term& t, TextStyle style) {
    const FunData& f = t.as_fun();
    out += "#Fun<";
    append_atom(out, f.module.name(), style);
    out += '.';
    append_int(out, f.index);
    out += '.';
    append_integer(out, f.old_uniq);
    out += '.';
    std::vector<std::uint8_t> bytes;
    etf::encode_to(bytes, t);
    static constexpr char hex[] = "0123456789ABCDEF";
    for (std::uint8_t b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    out += '>';
}

// A container being written: the loop in append_flat walks its elements instead of
// recursing, so nesting depth costs heap, not stack.
struct Frame {
    const Term* elems;
    std::size_t n;
    std::size_t i;
    const Term* tail; // lists only
    char close;       // ']', '}' (tuples and maps)
    bool map;
};

} // namespace

bool is_lower(long c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7); }
bool is_upper(long c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7); }
bool is_name_char(long c) noexcept {
    return is_lower(c) || is_upper(c) || (c >= '0' && c <= '9') || c == '_' || c == '@';
}

bool is_reserved_word(std::string_view s) noexcept {
    for (std::string_view w : reserved_words)
        if (w == s) return true;
    return false;
}

bool atom_needs_quotes(std::string_view name) noexcept {
    if (name.empty()) return true;
    std::size_t i = 0;
    long first = decode_utf8(name, i);
    if (first < 0 || !is_lower(first)) return true;
    while (i < name.size()) {
        long c = decode_utf8(name, i);
        if (c < 0 || !is_name_char(c)) return true;
    }
    return is_reserved_word(name);
}

void append_atom(std::string& out, std::string_view name, TextStyle style, bool force_quotes) {
    if (!force_quotes && !atom_needs_quotes(name)) {
        out += name;
        return;
    }
    out += '\'';
    for (std::size_t i = 0; i < name.size();) {
        long c = decode_utf8(name, i);
        if (c < 0) { // atoms are valid UTF-8; be safe anyway
            c = static_cast<unsigned char>(name[i]);
            ++i;
        }
        append_quoted_char(out, static_cast<std::uint32_t>(c), '\'', style);
    }
    out += '\'';
}

bool is_printable_char(std::int64_t c, bool unicode) noexcept {
    if (c >= 32 && c < 127) return true;
    if (c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\b' || c == '\f' || c == 27) return true;
    if (!unicode) return c >= 0xA0 && c <= 0xFF;
    return (c >= 0xA0 && c < 0xD800) || (c >= 0xE000 && c < 0xFFFE) || (c >= 0x10000 && c <= 0x10FFFF);
}

bool is_printable_list(const Term& t, std::size_t max_len) noexcept {
    if (TermAccess::tag(t) != Tag::List) return false;
    auto* l = TermAccess::as<ListNode>(t);
    if (!l->tail.is_nil() || l->size > max_len) return false;
    const Term* e = l->elems();
    for (std::uint32_t i = 0; i < l->size; ++i)
        if (!e[i].is_int64() || !is_printable_char(TermAccess::small(e[i]))) return false;
    return true;
}

bool append_flat(std::string& out, const Term& root, TextStyle style, std::size_t limit) {
    const std::size_t start = out.size();
    const std::size_t stop = limit == no_limit ? no_limit : start + limit;
    std::vector<Frame> stack;

    // Writes t, or opens it and leaves its elements to the loop below.
    auto emit = [&](const Term& t) {
        switch (TermAccess::tag(t)) {
        case Tag::Nil: out += "[]"; break;
        case Tag::Atom: append_atom(out, t.as_atom().name(), style); break;
        case Tag::Small: append_int(out, TermAccess::small(t)); break;
        case Tag::Big: out += t.as_bigint().to_string(10); break;
        case Tag::Float: append_erlang_float(out, TermAccess::flt(t)); break;
        case Tag::Binary: append_bitstring(out, t, style, stop); break;
        case Tag::Export: {
            Export e = t.as_export();
            out += "fun ";
            append_atom(out, e.module.name(), style);
            out += ':';
            append_atom(out, e.function.name(), style);
            out += '/';
            append_int(out, static_cast<unsigned>(e.arity));
            break;
        }
        case Tag::Pid: {
            Pid p = t.as_pid();
            out += "#Pid<";
            append_atom(out, p.node.name(), style, true);
            for (std::uint32_t v : {p.id, p.serial, p.creation}) {
                out += '.';
                append_int(out, v);
            }
            out += '>';
            break;
        }
        case Tag::Port: {
            Port p = t.as_port();
            out += "#Port<";
            append_atom(out, p.node.name(), style, true);
            out += '.';
            append_int(out, p.id);
            out += '.';
            append_int(out, p.creation);
            out += '>';
            break;
        }
        case Tag::Ref: {
            Ref r = t.as_ref();
            out += "#Ref<";
            append_atom(out, r.node.name(), style, true);
            out += '.';
            append_int(out, r.creation);
            for (std::uint32_t w : r.ids()) {
                out += '.';
                append_int(out, w);
            }
            out += '>';
            break;
        }
        case Tag::Fun: append_fun(out, t, style); break;
        case Tag::List: {
            if (style == TextStyle::Pretty && is_printable_list(t, stop - out.size())) {
                append_printable_list(out, t, stop);
                break;
            }
            auto* l = TermAccess::as<ListNode>(t);
            out += '[';
            stack.push_back({l->elems(), l->size, 0, &l->tail, ']', false});
            break;
        }
        case Tag::Tuple: {
            auto* tn = TermAccess::as<TupleNode>(t);
            out += '{';
            stack.push_back({tn->elems(), tn->size, 0, nullptr, '}', false});
            break;
        }
        case Tag::Map: {
            auto* m = TermAccess::as<MapNode>(t);
            out += "#{";
            stack.push_back({m->kv(), std::size_t(m->size) * 2, 0, nullptr, '}', true});
            break;
        }
        }
    };

    emit(root);
    while (!stack.empty()) {
        if (out.size() > stop) return false;
        Frame& f = stack.back();
        if (f.i < f.n) {
            if (f.i > 0) out += f.map && f.i % 2 == 1 ? " => " : ",";
            emit(f.elems[f.i++]); // may grow the stack: f is not used after this
            continue;
        }
        if (f.tail && !f.tail->is_nil()) {
            const Term* tail = f.tail;
            f.tail = nullptr;
            out += '|';
            emit(*tail);
            continue;
        }
        out += f.close;
        stack.pop_back();
    }
    return out.size() <= stop;
}

} // namespace edist::detail

namespace edist {

std::string to_string(const Term& t) {
    std::string out;
    detail::append_flat(out, t, detail::TextStyle::Write);
    return out;
}

std::ostream& operator<<(std::ostream& os, const Term& t) { return os << to_string(t); }

} // namespace edist
