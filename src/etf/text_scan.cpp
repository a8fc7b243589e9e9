// The token-level half of parse(): whitespace, atoms, characters and escapes, strings and
// numbers, each read exactly as erl_scan reads them (checked against erl 25).
#include "etf/text_scan.hpp"

#include "etf/text_common.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace edist::detail {

namespace {

// Longer integer literals are refused: converting text to a bignum is quadratic, and no
// sensible term needs more digits than this.
constexpr std::size_t max_integer_digits = 100'000;

} // namespace

bool is_digit(char c) { return c >= '0' && c <= '9'; }
int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

std::string describe(char c) {
    if (c >= 33 && c < 127) return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(c));
    return buf;
}

// erl_scan's white space is 0-32 and, from Latin-1, 128-160 (U+0080-U+00A0, NBSP included).
void TextScanner::skip_ws() {
    while (pos_ < s_.size()) {
        auto c = static_cast<unsigned char>(s_[pos_]);
        if (c == '%') {
            while (pos_ < s_.size() && s_[pos_] != '\n') {
                if (starts_with("\xef\xbf\xbe") || starts_with("\xef\xbf\xbf"))
                    fail("illegal character in a comment"); // U+FFFE, U+FFFF: erl_scan refuses them
                ++pos_;
            }
        } else if (c <= ' ') {
            ++pos_;
        } else if (c == 0xC2 && pos_ + 1 < s_.size() && static_cast<unsigned char>(s_[pos_ + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s_[pos_ + 1]) <= 0xA0) {
            pos_ += 2;
        } else {
            break;
        }
    }
}

void TextScanner::expect(char c, const char* what) {
    skip_ws();
    if (peek() != c || at_end()) fail(std::string("expected ") + what);
    ++pos_;
}

// --- Atoms ---------------------------------------------------------------------------
std::string TextScanner::read_bare_name() {
    std::string name;
    while (pos_ < s_.size()) {
        std::size_t i = pos_;
        long cp = decode_utf8(s_, i);
        if (cp < 0 || !is_name_char(cp)) break;
        name.append(s_.substr(pos_, i - pos_));
        pos_ = i;
    }
    return name;
}

Atom TextScanner::make_atom(const std::string& utf8, std::size_t at) {
    if (!is_valid_atom_text(utf8)) fail_at("atom longer than 255 characters", at);
    try {
        return Atom(utf8);
    } catch (const Error& e) {
        fail_at(e.what(), at);
    }
}

Atom TextScanner::parse_quoted_atom() {
    const std::size_t start = pos_++;
    std::string text;
    for (;;) {
        if (at_end()) fail_at("unterminated quoted atom", start);
        if (s_[pos_] == '\'') break;
        long cp = read_char_in_quotes();
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail_at("atom holds an invalid code point", start);
        append_utf8(text, static_cast<std::uint32_t>(cp));
    }
    ++pos_;
    return make_atom(text, start);
}

Atom TextScanner::parse_atom() {
    skip_ws();
    if (peek() == '\'') return parse_quoted_atom();
    const std::size_t start = pos_;
    std::size_t i = pos_;
    long cp = decode_utf8(s_, i);
    if (cp < 0 || !is_lower(cp)) fail("expected an atom");
    std::string name = read_bare_name();
    if (is_reserved_word(name)) fail_at("reserved word '" + name + "' must be quoted", start);
    return make_atom(name, start);
}

// --- Characters, strings -------------------------------------------------------------
// One source character or escape sequence inside quotes, or after '$'. Like erl_scan, refuses
// surrogates and the non-characters U+FFFE and U+FFFF however they are written.
long TextScanner::read_char_in_quotes() {
    const std::size_t start = pos_;
    long cp = read_char_or_escape();
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "U+%04lX", cp);
        fail_at(std::string("illegal character ") + buf, start);
    }
    return cp;
}

long TextScanner::read_char_or_escape() {
    const std::size_t start = pos_;
    if (s_[pos_] != '\\') {
        long cp = decode_utf8(s_, pos_);
        if (cp < 0) fail("invalid UTF-8");
        return cp;
    }
    ++pos_;
    if (at_end()) fail_at("unfinished escape sequence", start);
    char c = s_[pos_];
    if (c >= '0' && c <= '7') {
        long v = 0;
        for (int k = 0; k < 3 && peek() >= '0' && peek() <= '7' && !at_end(); ++k) v = v * 8 + (s_[pos_++] - '0');
        return v;
    }
    if (c == 'x') {
        ++pos_;
        long v = 0;
        if (peek() == '{') {
            ++pos_;
            std::size_t n = 0;
            while (!at_end() && digit_value(peek()) < 16) {
                v = v * 16 + digit_value(s_[pos_++]);
                if (v > 0x10FFFF) fail_at("code point out of range in escape", start);
                ++n;
            }
            if (n == 0 || peek() != '}' || at_end()) fail_at("bad \\x{...} escape", start);
            ++pos_;
            return v;
        }
        for (int k = 0; k < 2; ++k) {
            if (at_end() || digit_value(peek()) >= 16) fail_at("bad \\x escape", start);
            v = v * 16 + digit_value(s_[pos_++]);
        }
        return v;
    }
    if (c == '^') {
        ++pos_;
        if (at_end()) fail_at("unfinished escape sequence", start);
        long cp = decode_utf8(s_, pos_);
        if (cp < 0) fail("invalid UTF-8");
        return cp & 31;
    }
    switch (c) {
    case 'b': ++pos_; return '\b';
    case 'd': ++pos_; return 127;
    case 'e': ++pos_; return 27;
    case 'f': ++pos_; return '\f';
    case 'n': ++pos_; return '\n';
    case 'r': ++pos_; return '\r';
    case 's': ++pos_; return ' ';
    case 't': ++pos_; return '\t';
    case 'v': ++pos_; return '\v';
    default: break;
    }
    long cp = decode_utf8(s_, pos_); // any other escaped character stands for itself
    if (cp < 0) fail("invalid UTF-8");
    return cp;
}

// One or more adjacent "..." literals, concatenated as Erlang does.
std::vector<long> TextScanner::parse_strings() {
    std::vector<long> cps;
    do {
        const std::size_t start = pos_++;
        for (;;) {
            if (at_end()) fail_at("unterminated string", start);
            if (s_[pos_] == '"') break;
            cps.push_back(read_char_in_quotes());
        }
        ++pos_;
        skip_ws();
    } while (peek() == '"' && !at_end());
    return cps;
}

Term TextScanner::string_term(const std::vector<long>& cps) {
    std::vector<Term> elems;
    elems.reserve(cps.size());
    for (long c : cps) elems.emplace_back(c);
    return list_from(std::move(elems));
}

// --- Numbers -------------------------------------------------------------------------
// Digits of `base` with '_' allowed between two digits (OTP 23+); returns them without '_'.
std::string TextScanner::read_digits(int base) {
    std::string d;
    while (!at_end()) {
        char c = s_[pos_];
        if (digit_value(c) < base) {
            d += c;
            ++pos_;
        } else if (c == '_' && !d.empty() && pos_ + 1 < s_.size() && digit_value(s_[pos_ + 1]) < base) {
            ++pos_;
        } else {
            break;
        }
        if (d.size() > max_integer_digits) fail("number has too many digits");
    }
    return d;
}

Term TextScanner::parse_number() {
    const std::size_t start = pos_;
    bool negative = false;
    std::size_t parens = 0;
    if (peek() == '-' || peek() == '+') {
        negative = s_[pos_++] == '-';
        // erl_parse:parse_term takes a sign on a number literal only, perhaps parenthesised:
        // -(5) and -((5)) are -5, -(-5) is refused. Counting the parentheses needs no stack.
        for (skip_ws(); peek() == '(' && !at_end(); skip_ws()) {
            ++pos_;
            ++parens;
        }
        if (!is_digit(peek()) && peek() != '$') fail_at("a sign must be followed by a number", start);
    }
    Term t = parse_number_literal(negative, start);
    for (; parens > 0; --parens) {
        skip_ws();
        if (peek() != ')' || at_end()) fail("expected ')'");
        ++pos_;
    }
    return t;
}

Term TextScanner::parse_number_literal(bool negative, std::size_t start) {
    if (peek() == '$') {
        ++pos_;
        if (at_end()) fail_at("unfinished character literal", start);
        long cp = read_char_in_quotes();
        return Term(negative ? -cp : cp);
    }
    std::string digits = read_digits(10);
    if (peek() == '#' && !at_end()) {
        ++pos_;
        int base = digits.size() <= 2 ? std::stoi(digits) : 0;
        if (base < 2 || base > 36) fail_at("base must be 2 to 36", start);
        std::string body = read_digits(base);
        if (body.empty()) fail("expected a digit of base " + std::to_string(base));
        if (digit_value(peek()) < 36 && !at_end()) fail("digit not valid in base " + std::to_string(base));
        return integer_term(body, base, negative, start);
    }
    if (peek() == '.' && is_digit(peek(1))) {
        ++pos_;
        std::string text = digits + "." + read_digits(10);
        if ((peek() == 'e' || peek() == 'E') && !at_end()) {
            std::size_t save = pos_++;
            std::string exp = "e";
            if (peek() == '+' || peek() == '-') exp += s_[pos_++];
            std::string ed = read_digits(10);
            if (ed.empty()) {
                pos_ = save; // "1.0e" is 1.0 followed by the atom e: let the caller complain
            } else {
                text += exp + ed;
            }
        }
        return float_term(text, negative, start);
    }
    return integer_term(digits, 10, negative, start);
}

Term TextScanner::integer_term(const std::string& digits, int base, bool negative, std::size_t at) {
    if (base == 10 && digits.size() <= 18) {
        std::int64_t v = 0;
        std::from_chars(digits.data(), digits.data() + digits.size(), v);
        return Term(negative ? -v : v);
    }
    auto big = BigInt::from_string(digits, base);
    if (!big) fail_at("bad integer", at);
    return Term(negative ? -*big : std::move(*big));
}

Term TextScanner::float_term(const std::string& text, bool negative, std::size_t at) {
    double d = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), d);
    if (r.ec == std::errc::result_out_of_range) {
        // Erlang reads a float too small to hold as 0.0 but refuses one too large. Which
        // way it went follows from the first significant digit's decimal position.
        std::size_t e = text.find('e');
        std::string_view mant = std::string_view(text).substr(0, e);
        long exp = 0;
        if (e != std::string::npos) {
            std::string_view es = std::string_view(text).substr(e + 1);
            if (!es.empty() && es[0] == '+') es.remove_prefix(1);
            if (std::from_chars(es.data(), es.data() + es.size(), exp).ec != std::errc())
                exp = es[0] == '-' ? -1'000'000 : 1'000'000;
        }
        std::size_t dot = mant.find('.');
        std::size_t first = mant.find_first_not_of("0.");
        long magnitude = first < dot ? static_cast<long>(dot - first) - 1 : -static_cast<long>(first - dot);
        if (magnitude + exp >= 0) fail_at("float out of range", at);
        d = 0.0;
    } else if (r.ec != std::errc() || !std::isfinite(d)) {
        fail_at("float out of range", at);
    }
    return Term(negative ? -d : d);
}

std::uint64_t TextScanner::read_unsigned(std::uint64_t max, const char* what) {
    const std::size_t start = pos_;
    if (!is_digit(peek()) || at_end()) fail(std::string("expected ") + what);
    std::uint64_t v = 0;
    while (!at_end() && is_digit(s_[pos_])) {
        unsigned d = static_cast<unsigned>(s_[pos_++] - '0');
        if (v > (max - d) / 10) fail_at(std::string(what) + " out of range", start);
        v = v * 10 + d;
    }
    return v;
}

} // namespace edist::detail
