// parse(): Erlang term literals (what erl_parse:parse_term accepts) plus edist's notations for
// pids, ports, refs and local funs. Containers, parentheses and binaries (whose segments may be
// binaries) are tracked on an explicit stack, so nesting depth is bounded by
// ParseOptions::max_depth and never by the C++ stack.
#include <edist/etf.hpp>
#include <edist/text.hpp>

#include "etf/text_bits.hpp"
#include "etf/text_common.hpp"
#include "etf/text_scan.hpp"

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace edist {

namespace {

using namespace detail;

// Binary literals may build a few megabytes more than their text, no more (text_bits.hpp).
constexpr std::uint64_t extra_binary_bits = std::uint64_t(8) << 23;

class Parser : TextScanner {
public:
    Parser(std::string_view s, const ParseOptions& o)
        : TextScanner(s), opts_(o), bits_budget_(extra_binary_bits + 8 * std::uint64_t(s.size())) {}

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
        // Paren: `( Term )`, which erl_parse reads as the term itself.
        enum Kind { List, Tuple, Map, Paren, Binary } kind = List;
        std::size_t start = 0; // where the container opened
        std::vector<Term> elems;
        std::vector<std::pair<Term, Term>> pairs;
        Term key;
        bool in_tail = false;
        bool have_key = false;
        BitWriter bits;         // Binary: the segments so far
        std::size_t seg_at = 0; // Binary: where the current segment began
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
                // Whether the value was a string literal matters to a binary segment only, through
                // any parentheses.
                if (f.kind != Frame::Paren && f.kind != Frame::Binary) string_chars_.reset();
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
                } else if (f.kind == Frame::Paren) {
                    if (c != ')' || at_end()) fail("expected ')'");
                    ++pos_;
                    stack.pop_back(); // the value, and whether it was a string literal, pass through
                    continue;
                } else if (f.kind == Frame::Binary) {
                    end_segment(f, value);
                    skip_ws();
                    if (starts_with(">>")) {
                        pos_ += 2;
                        value = std::move(f.bits).finish();
                        stack.pop_back();
                    } else if (peek() == ',' && !at_end()) {
                        ++pos_;
                        skip_ws();
                        f.seg_at = pos_;
                        break;
                    } else {
                        if (at_end()) fail_at("unterminated binary", f.start);
                        fail("expected ',' or '>>' in a binary");
                    }
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

    void push(std::vector<Frame>& stack, Frame::Kind k, std::size_t start) {
        if (stack.size() >= opts_.max_depth)
            fail_at("nesting deeper than max_depth (" + std::to_string(opts_.max_depth) + ")", start);
        Frame& f = stack.emplace_back();
        f.kind = k;
        f.start = start;
        if (k == Frame::Binary) {
            f.bits = BitWriter(&bits_budget_);
            f.seg_at = pos_;
        }
    }

    // Reads one value into `out` (true), or opens a non-empty container (false).
    bool read_value(Term& out, std::vector<Frame>& stack) {
        skip_ws();
        string_chars_.reset();
        if (at_end()) fail("unexpected end of input");
        const std::size_t start = pos_;
        auto open = [&](Frame::Kind k, std::size_t len, std::string_view close) {
            pos_ += len;
            skip_ws();
            if (starts_with(close)) {
                pos_ += close.size();
                return true;
            }
            push(stack, k, start);
            return false;
        };
        char c = s_[pos_];
        switch (c) {
        case '[':
            if (!open(Frame::List, 1, "]")) return false;
            out = Term();
            return true;
        case '{':
            if (!open(Frame::Tuple, 1, "}")) return false;
            out = tuple_from({});
            return true;
        case '(':
            ++pos_;
            push(stack, Frame::Paren, start);
            return false;
        case '#': {
            ++pos_;
            skip_ws(); // erl_scan makes '#' a token of its own: "# {}" is a map too
            if (peek() == '{' && !at_end()) {
                if (!open(Frame::Map, 1, "}")) return false;
                out = map_from({});
                return true;
            }
            pos_ = start;
            out = parse_hash_notation();
            return true;
        }
        case '<':
            if (peek(1) != '<') fail("unexpected '<'");
            if (!open(Frame::Binary, 2, ">>")) return false;
            out = binary("");
            return true;
        case '"':
            string_chars_ = parse_strings();
            out = string_term(*string_chars_);
            return true;
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

    // --- Binary segments ---------------------------------------------------------------------
    // After a segment's value: its optional `:Size` and `/Type-...` list, then the bits.
    void end_segment(Frame& f, const Term& value) {
        SegmentSpec spec;
        skip_ws();
        if (peek() == ':' && !at_end()) {
            ++pos_;
            read_segment_size(spec);
            skip_ws();
        }
        if (peek() == '/' && !at_end()) {
            ++pos_;
            read_segment_types(spec);
        }
        try {
            if (string_chars_) put_string_segment(f.bits, *string_chars_, spec);
            else put_segment(f.bits, value, spec);
        } catch (const SegmentError& e) {
            fail_at(e.what + " in the binary segment", f.seg_at);
        }
        string_chars_.reset();
    }

    // A size is a literal or a parenthesised term: 8, 16#10, $a, (8), (-8) (refused later),
    // or the atoms all and undefined that erl_bits knows.
    void read_segment_size(SegmentSpec& spec) {
        skip_ws();
        const std::size_t at = pos_;
        std::size_t parens = 0;
        for (; peek() == '(' && !at_end(); skip_ws()) {
            ++pos_;
            ++parens;
        }
        char c = peek();
        if (at_end()) fail("expected a segment size");
        if (is_digit(c) || c == '$' || ((c == '-' || c == '+') && parens > 0)) {
            Term size = parse_number();
            if (!size.is_integer()) fail_at("a segment size must be an integer", at);
            if (size.is_int64() && size.as_int64() < 0) fail_at("a segment size cannot be negative", at);
            if (!size.is_int64() || size.as_int64() > (std::int64_t(1) << 40)) fail_at("binary too large", at);
            spec.size_kind = SegmentSpec::Size::Bits;
            spec.size = static_cast<std::uint64_t>(size.as_int64());
        } else if (c == '\'' || is_lower(static_cast<unsigned char>(c))) {
            Atom a = parse_atom();
            if (a.name() == "all") spec.size_kind = SegmentSpec::Size::All;
            else if (a.name() == "undefined") spec.size_kind = SegmentSpec::Size::Undefined;
            else fail_at("a segment size must be an integer", at);
        } else {
            fail("expected a segment size");
        }
        for (; parens > 0; --parens) {
            skip_ws();
            if (peek() != ')' || at_end()) fail("expected ')'");
            ++pos_;
        }
    }

    void read_segment_types(SegmentSpec& spec) {
        for (;;) {
            skip_ws();
            const std::size_t at = pos_;
            Atom word = parse_atom();
            std::uint64_t unit = 0;
            if (word.name() == "unit") {
                expect(':', "':' after unit");
                skip_ws();
                if (!is_digit(peek()) || at_end()) fail("expected a unit of 1 to 256");
                Term u = parse_number();
                if (!u.is_int64() || u.as_int64() > 256) fail_at("unit must be 1 to 256", at);
                unit = static_cast<std::uint64_t>(u.as_int64());
            }
            try {
                add_segment_type(spec, word.name(), unit);
            } catch (const SegmentError& e) {
                fail_at(e.what, at);
            }
            skip_ws();
            if (peek() != '-' || at_end()) return;
            ++pos_;
        }
    }

    // --- fun M:F/A and the #Name<...> notations --------------------------------------------
    Term parse_export() {
        Export e;
        e.module = parse_atom();
        expect(':', "':' in fun M:F/A");
        e.function = parse_atom();
        expect('/', "'/' in fun M:F/A");
        skip_ws();
        const std::size_t at = pos_;
        if (!is_digit(peek()) || at_end()) fail("expected an arity");
        Term arity = parse_number(); // any integer literal: 16#2 and 1_0 too
        if (!arity.is_int64() || arity.as_int64() > 255) fail_at("arity must be an integer from 0 to 255", at);
        e.arity = static_cast<std::uint8_t>(arity.as_int64());
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
    std::uint64_t bits_budget_; // bits all binary literals together may still write
    std::optional<std::vector<long>> string_chars_; // the value just read was this string literal
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
