// parse(): Erlang term literals (what erl_parse:parse_term accepts) plus edist's notations for
// pids, ports, refs and local funs. Containers are tracked on an explicit stack, so nesting
// depth is bounded by ParseOptions::max_depth and never by the C++ stack.
#include <edist/etf.hpp>
#include <edist/text.hpp>

#include "etf/text_common.hpp"
#include "etf/text_scan.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace edist {

namespace {

using namespace detail;

// One binary segment may not ask for more bits than this, so "<<0:99999999999>>" cannot make
// the parser allocate gigabytes.
constexpr std::uint64_t max_segment_bits = std::uint64_t(1) << 23;

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
class Parser : TextScanner {
public:
    Parser(std::string_view s, const ParseOptions& o) : TextScanner(s), opts_(o) {}

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
        std::vector<Term> elems;
        std::vector<std::pair<Term, Term>> pairs;
        Term key;
        bool in_tail = false;
        bool have_key = false;
    };

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
            stack.push_back(Frame{k, {}, {}, {}});
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
            if (is_reserved_word(name)) fail_at("reserved word '" + name + "' must be quoted", start);
            out = Term(make_atom(name, start));
            return true;
        }
        if (cp >= 0 && (is_upper(cp) || cp == '_')) fail("a variable is not a term");
        if (cp < 0) fail("invalid UTF-8");
        fail("unexpected " + describe(c));
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

    const ParseOptions& opts_;
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
