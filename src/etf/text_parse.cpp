// parse(): Erlang term literals (what erl_parse:parse_term accepts) plus edist's notations for
// pids, ports, refs and local funs. Containers are tracked on an explicit stack, so nesting
// depth is bounded by ParseOptions::max_depth and never by the C++ stack.
#include <edist/etf.hpp>
#include <edist/text.hpp>

#include "etf/text_common.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace edist {

namespace {

using detail::append_utf8;
using detail::decode_utf8;

struct ParseFailure {
    std::string what;
    std::size_t offset;
};

// Longer integer literals are refused: converting text to a bignum is quadratic, and no
// sensible term needs more digits than this.
constexpr std::size_t max_integer_digits = 100'000;
// One binary segment may not ask for more bits than this, so "<<0:99999999999>>" cannot make
// the parser allocate gigabytes.
constexpr std::uint64_t max_segment_bits = std::uint64_t(1) << 23;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}
bool is_lower(long c) { return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7); }
bool is_upper(long c) { return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7); }
bool is_name_char(long c) { return is_lower(c) || is_upper(c) || (c >= '0' && c <= '9') || c == '_' || c == '@'; }

std::string describe(char c) {
    if (c >= 33 && c < 127) return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(c));
    return buf;
}

// Appends the low `nbits` bits of a two's complement integer, most significant first.
class BitWriter {
public:
    void put_byte(std::uint8_t b) {
        if (bits_ % 8 == 0) {
            bytes_.push_back(b);
            bits_ += 8;
        } else {
            put_bits_le({b}, 8);
        }
    }
    // `le` is the value's two's complement, little-endian, at least ceil(nbits/8) bytes long.
    void put_bits_le(const std::vector<std::uint8_t>& le, std::uint64_t nbits) {
        for (std::uint64_t k = nbits; k-- > 0;) {
            bool bit = (le[k / 8] >> (k % 8)) & 1;
            if (bits_ % 8 == 0) bytes_.push_back(0);
            if (bit) bytes_.back() |= static_cast<std::uint8_t>(0x80 >> (bits_ % 8));
            ++bits_;
        }
    }
    Term finish() && {
        if (bits_ % 8 == 0) return binary(std::move(bytes_));
        return bitstring(bytes_, bits_);
    }
    std::uint64_t bits() const { return bits_; }

private:
    std::vector<std::uint8_t> bytes_;
    std::uint64_t bits_ = 0;
};

class Parser {
public:
    Parser(std::string_view s, const ParseOptions& o) : s_(s), opts_(o) {}

    Term parse_document() {
        skip_ws();
        Term t = parse_term();
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '.') {
            ++pos_;
            skip_ws();
        }
        if (pos_ < s_.size()) fail("unexpected " + describe(s_[pos_]) + " after the term");
        return t;
    }

private:
    struct Frame {
        enum Kind { List, Tuple, Map } kind;
        std::size_t offset; // of the opening bracket, for messages
        std::vector<Term> elems;
        std::vector<std::pair<Term, Term>> pairs;
        Term key;
        bool in_tail = false;
        bool have_key = false;
    };

    [[noreturn]] void fail(const std::string& what) const { fail_at(what, pos_); }
    [[noreturn]] static void fail_at(const std::string& what, std::size_t at) {
        throw ParseFailure{what + " at offset " + std::to_string(at), at};
    }

    bool at_end() const { return pos_ >= s_.size(); }
    char peek(std::size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
    bool starts_with(std::string_view w) const { return s_.substr(pos_).starts_with(w); }

    void skip_ws() {
        while (pos_ < s_.size()) {
            auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '%') {
                while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
            } else if (c <= ' ') {
                ++pos_;
            } else {
                break;
            }
        }
    }

    void expect(char c, const char* what) {
        skip_ws();
        if (peek() != c || at_end()) fail(std::string("expected ") + what);
        ++pos_;
    }

    // --- The container loop --------------------------------------------------------------
    Term parse_term() {
        std::vector<Frame> stack;
        Term value;
        for (;;) {
            if (!read_value(value, stack)) continue; // opened a container: read its first element
            for (;;) {
                if (stack.empty()) return value;
                Frame& f = stack.back();
                skip_ws();
                char c = at_end() ? '\0' : s_[pos_];
                if (f.kind == Frame::List) {
                    if (f.in_tail) {
                        if (c != ']' || at_end()) fail("expected ']' after a list tail");
                        ++pos_;
                        value = list_from(std::move(f.elems), std::move(value));
                        stack.pop_back();
                        continue;
                    }
                    f.elems.push_back(std::move(value));
                    if (c == ',' || c == '|') {
                        f.in_tail = c == '|';
                        ++pos_;
                        break;
                    }
                    if (c != ']' || at_end()) fail("expected ',', '|' or ']' in a list");
                    ++pos_;
                    value = list_from(std::move(f.elems));
                    stack.pop_back();
                } else if (f.kind == Frame::Tuple) {
                    f.elems.push_back(std::move(value));
                    if (c == ',') {
                        ++pos_;
                        break;
                    }
                    if (c != '}' || at_end()) fail("expected ',' or '}' in a tuple");
                    ++pos_;
                    value = tuple_from(std::move(f.elems));
                    stack.pop_back();
                } else if (!f.have_key) {
                    if (!starts_with("=>")) fail(starts_with(":=") ? "':=' cannot build a map, use '=>'"
                                                                   : "expected '=>' in a map");
                    pos_ += 2;
                    f.key = std::move(value);
                    f.have_key = true;
                    break;
                } else {
                    f.pairs.emplace_back(std::move(f.key), std::move(value));
                    f.have_key = false;
                    if (c == ',') {
                        ++pos_;
                        break;
                    }
                    if (c != '}' || at_end()) fail("expected ',' or '}' in a map");
                    ++pos_;
                    value = map_from(std::move(f.pairs));
                    stack.pop_back();
                }
            }
        }
    }

    // Reads one value into `out` (true), or opens a non-empty container (false).
    bool read_value(Term& out, std::vector<Frame>& stack) {
        skip_ws();
        if (at_end()) fail("unexpected end of input");
        const std::size_t start = pos_;
        auto open = [&](Frame::Kind k, std::size_t len, char close) {
            pos_ += len;
            skip_ws();
            if (peek() == close && !at_end()) {
                ++pos_;
                return true;
            }
            if (stack.size() >= opts_.max_depth)
                fail_at("nesting deeper than max_depth (" + std::to_string(opts_.max_depth) + ")", start);
            stack.push_back(Frame{k, start, {}, {}, {}});
            return false;
        };
        char c = s_[pos_];
        switch (c) {
        case '[':
            if (!open(Frame::List, 1, ']')) return false;
            out = Term();
            return true;
        case '{':
            if (!open(Frame::Tuple, 1, '}')) return false;
            out = tuple_from({});
            return true;
        case '#':
            if (peek(1) == '{') {
                if (!open(Frame::Map, 2, '}')) return false;
                out = map_from({});
                return true;
            }
            out = parse_hash_notation();
            return true;
        case '<':
            if (peek(1) != '<') fail("unexpected '<'");
            out = parse_binary();
            return true;
        case '"': out = string_term(parse_strings()); return true;
        case '\'': out = Term(parse_quoted_atom()); return true;
        case '-':
        case '+':
        case '$': out = parse_number(); return true;
        default: break;
        }
        if (is_digit(c)) {
            out = parse_number();
            return true;
        }
        std::size_t i = pos_;
        long cp = decode_utf8(s_, i);
        if (cp >= 0 && is_lower(cp)) {
            std::string name = read_bare_name();
            if (name == "fun") {
                out = parse_export();
                return true;
            }
            if (is_reserved(name)) fail_at("reserved word '" + name + "' must be quoted", start);
            out = Term(make_atom(name, start));
            return true;
        }
        if (cp >= 0 && (is_upper(cp) || cp == '_')) fail("a variable is not a term");
        if (cp < 0) fail("invalid UTF-8");
        fail("unexpected " + describe(c));
    }

    // --- Atoms ---------------------------------------------------------------------------
    static bool is_reserved(std::string_view w) {
        static constexpr std::string_view words[] = {
            "after", "and", "andalso", "band", "begin", "bnot", "bor",    "bsl",     "bsr",
            "bxor",  "case", "catch",  "cond", "div",   "end",  "fun",    "if",      "let",
            "not",   "of",  "or",      "orelse", "receive", "rem", "try", "when", "xor"};
        for (auto r : words)
            if (r == w) return true;
        return false;
    }

    std::string read_bare_name() {
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

    static Atom make_atom(const std::string& utf8, std::size_t at) {
        if (!is_valid_atom_text(utf8)) fail_at("atom longer than 255 characters", at);
        try {
            return Atom(utf8);
        } catch (const Error& e) {
            fail_at(e.what(), at);
        }
    }

    Atom parse_quoted_atom() {
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

    Atom parse_atom() {
        skip_ws();
        if (peek() == '\'') return parse_quoted_atom();
        const std::size_t start = pos_;
        std::size_t i = pos_;
        long cp = decode_utf8(s_, i);
        if (cp < 0 || !is_lower(cp)) fail("expected an atom");
        std::string name = read_bare_name();
        if (is_reserved(name)) fail_at("reserved word '" + name + "' must be quoted", start);
        return make_atom(name, start);
    }

    // --- Characters, strings -------------------------------------------------------------
    // One source character or escape sequence inside quotes, or after '$'.
    long read_char_in_quotes() {
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
    std::vector<long> parse_strings() {
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

    static Term string_term(const std::vector<long>& cps) {
        std::vector<Term> elems;
        elems.reserve(cps.size());
        for (long c : cps) elems.emplace_back(c);
        return list_from(std::move(elems));
    }

    // --- Numbers -------------------------------------------------------------------------
    // Digits of `base` with '_' allowed between two digits (OTP 23+); returns them without '_'.
    std::string read_digits(int base) {
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

    Term parse_number() {
        const std::size_t start = pos_;
        bool negative = false;
        if (peek() == '-' || peek() == '+') {
            negative = s_[pos_++] == '-';
            skip_ws();
            if (!is_digit(peek()) && peek() != '$') fail_at("a sign must be followed by a number", start);
        }
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

    static Term integer_term(const std::string& digits, int base, bool negative, std::size_t at) {
        if (base == 10 && digits.size() <= 18) {
            std::int64_t v = 0;
            std::from_chars(digits.data(), digits.data() + digits.size(), v);
            return Term(negative ? -v : v);
        }
        auto big = BigInt::from_string(digits, base);
        if (!big) fail_at("bad integer", at);
        return Term(negative ? -*big : std::move(*big));
    }

    static Term float_term(const std::string& text, bool negative, std::size_t at) {
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

    std::uint64_t read_unsigned(std::uint64_t max, const char* what) {
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

    // --- Binaries --------------------------------------------------------------------------
    Term parse_binary() {
        const std::size_t start = pos_;
        pos_ += 2;
        BitWriter w;
        skip_ws();
        if (starts_with(">>")) {
            pos_ += 2;
            return std::move(w).finish();
        }
        for (;;) {
            skip_ws();
            parse_segment(w);
            skip_ws();
            if (starts_with(">>")) {
                pos_ += 2;
                return std::move(w).finish();
            }
            if (peek() != ',' || at_end()) {
                if (at_end()) fail_at("unterminated binary", start);
                fail("expected ',' or '>>' in a binary");
            }
            ++pos_;
        }
    }

    void parse_segment(BitWriter& w) {
        const std::size_t start = pos_;
        std::vector<long> str;
        Term value;
        bool is_string = peek() == '"' && !at_end();
        if (is_string) {
            str = parse_strings();
        } else if (is_digit(peek()) || peek() == '-' || peek() == '+' || peek() == '$') {
            value = parse_number();
            if (!value.is_integer()) fail_at("only integer and string segments are supported in binaries", start);
        } else {
            fail("expected an integer or a string in a binary");
        }
        skip_ws();
        std::uint64_t size = 8;
        bool sized = false;
        if (peek() == ':' && !at_end()) {
            ++pos_;
            skip_ws();
            if (is_string) fail("a size on a string segment is not supported");
            size = read_unsigned(max_segment_bits, "segment size");
            sized = true;
        }
        bool utf8 = false;
        if (peek() == '/' && !at_end()) {
            ++pos_;
            std::size_t type_at = pos_;
            std::string type = read_bare_name();
            if (type == "utf8" && !sized) utf8 = true;
            else if (type != "integer")
                fail_at("unsupported binary segment type '" + type + "' (integer and utf8 are supported)", type_at);
        }
        if (is_string) {
            for (long c : str) {
                if (!utf8) {
                    w.put_byte(static_cast<std::uint8_t>(c & 0xFF)); // as Erlang: the low 8 bits
                    continue;
                }
                put_utf8(w, c, start);
            }
            return;
        }
        if (utf8) {
            if (!value.is_int64()) fail_at("not a Unicode code point", start);
            put_utf8(w, static_cast<long>(value.as_int64()), start);
            return;
        }
        // Text of n bytes may build a binary of a few megabytes plus 8n bits, no more.
        if (w.bits() + size > 8 * (max_segment_bits + s_.size())) fail_at("binary too large", start);
        if (size == 8 && value.is_int64()) {
            w.put_byte(static_cast<std::uint8_t>(value.as_int64())); // as Erlang: the low 8 bits
            return;
        }
        std::vector<std::uint8_t> le;
        BigInt v = value.as_bigint();
        v.to_le_bytes(le);
        le.resize(std::max<std::size_t>(le.size(), (size + 7) / 8 + 1), 0);
        if (v.negative()) { // two's complement of the magnitude
            unsigned carry = 1;
            for (auto& b : le) {
                unsigned x = static_cast<std::uint8_t>(~b) + carry;
                b = static_cast<std::uint8_t>(x);
                carry = x >> 8;
            }
        }
        w.put_bits_le(le, size);
    }

    void put_utf8(BitWriter& w, long cp, std::size_t at) {
        if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail_at("not a Unicode code point", at);
        std::string enc;
        append_utf8(enc, static_cast<std::uint32_t>(cp));
        for (char b : enc) w.put_byte(static_cast<std::uint8_t>(b));
    }

    // --- fun M:F/A and the #Name<...> notations --------------------------------------------
    Term parse_export() {
        Export e;
        e.module = parse_atom();
        expect(':', "':' in fun M:F/A");
        e.function = parse_atom();
        expect('/', "'/' in fun M:F/A");
        skip_ws();
        e.arity = static_cast<std::uint8_t>(read_unsigned(255, "arity"));
        return Term(e);
    }

    void expect_dot() {
        if (peek() != '.' || at_end()) fail("expected '.'");
        ++pos_;
    }
    void expect_close() {
        if (peek() != '>' || at_end()) fail("expected '>'");
        ++pos_;
    }

    Term parse_hash_notation() {
        const std::size_t start = pos_;
        constexpr auto u32 = std::numeric_limits<std::uint32_t>::max();
        if (starts_with("#Pid<")) {
            pos_ += 5;
            Pid p;
            p.node = parse_atom();
            expect_dot();
            p.id = static_cast<std::uint32_t>(read_unsigned(u32, "pid id"));
            expect_dot();
            p.serial = static_cast<std::uint32_t>(read_unsigned(u32, "pid serial"));
            expect_dot();
            p.creation = static_cast<std::uint32_t>(read_unsigned(u32, "creation"));
            expect_close();
            return Term(p);
        }
        if (starts_with("#Port<")) {
            pos_ += 6;
            Port p;
            p.node = parse_atom();
            expect_dot();
            p.id = read_unsigned(std::numeric_limits<std::uint64_t>::max(), "port id");
            expect_dot();
            p.creation = static_cast<std::uint32_t>(read_unsigned(u32, "creation"));
            expect_close();
            return Term(p);
        }
        if (starts_with("#Ref<")) {
            pos_ += 5;
            Ref r;
            r.node = parse_atom();
            expect_dot();
            r.creation = static_cast<std::uint32_t>(read_unsigned(u32, "creation"));
            while (peek() == '.' && !at_end()) {
                ++pos_;
                if (r.len == Ref::max_words) fail("a reference has at most 5 words");
                r.words[r.len++] = static_cast<std::uint32_t>(read_unsigned(u32, "reference word"));
            }
            if (r.len == 0) fail("expected '.' and a reference word");
            expect_close();
            return Term(r);
        }
        if (starts_with("#Fun<")) return parse_local_fun(start);
        fail("expected '#{', '#Pid<', '#Port<', '#Ref<' or '#Fun<'");
    }

    Term parse_local_fun(std::size_t start) {
        pos_ += 5;
        Atom module = parse_atom();
        expect_dot();
        auto index = read_unsigned(std::numeric_limits<std::uint32_t>::max(), "fun index");
        expect_dot();
        bool neg = peek() == '-' && !at_end();
        if (neg) ++pos_;
        auto old_uniq = static_cast<std::int64_t>(read_unsigned(std::uint64_t(1) << 32, "fun old uniq"));
        if (neg) old_uniq = -old_uniq;
        expect_dot();
        const std::size_t hex_at = pos_;
        std::vector<std::uint8_t> bytes;
        while (!at_end() && digit_value(peek()) < 16 && digit_value(peek(1)) < 16 && pos_ + 1 < s_.size()) {
            bytes.push_back(static_cast<std::uint8_t>(digit_value(s_[pos_]) * 16 + digit_value(s_[pos_ + 1])));
            pos_ += 2;
        }
        expect_close();
        std::size_t off = 0;
        auto decoded = etf::decode_at(bytes, off);
        if (!decoded || off != bytes.size() || decoded->kind() != Kind::Fun)
            fail_at("the hex of #Fun<...> is not one NEW_FUN_EXT", hex_at);
        const FunData& f = decoded->as_fun();
        if (f.module != module || f.index != index || !(f.old_uniq == Term(old_uniq)))
            fail_at("#Fun<...> module, index or old uniq disagree with its NEW_FUN_EXT bytes", start);
        return std::move(decoded).value();
    }

    std::string_view s_;
    const ParseOptions& opts_;
    std::size_t pos_ = 0;
};

} // namespace

Result<Term> parse(std::string_view text, const ParseOptions& opts) {
    Parser p(text, opts);
    try {
        return p.parse_document();
    } catch (const ParseFailure& f) {
        return Error(atoms::badarg, f.what, f.offset);
    } catch (const Error& e) {
        return Error(atoms::badarg, e.what());
    } catch (const std::bad_alloc&) {
        return Error(atoms::system_limit, "out of memory while parsing");
    } catch (const std::exception& e) {
        return Error(atoms::badarg, e.what());
    }
}

} // namespace edist
