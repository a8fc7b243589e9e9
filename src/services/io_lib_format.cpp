// io_lib:format/2: control sequences, field widths, precision, padding and adjustment, with the
// rules of OTP 25 as checked against erl (every quirk below was observed there):
//  - a number that does not fit its field fills the field with '*';
//  - ~s truncates to the field; under ~ts by grapheme clusters, under ~s by characters;
//  - ~c with a width repeats the character (~5c of $a is "aaaaa");
//  - ~e/~f/~g round the 21 significant digits of float_to_list/1 half up, not the exact value;
//  - ~p starts its layout at the column the text before it ends on.
// Each failure erl reports as badarg is an Error(badarg) here, with a message saying which.
#include "services/io_lib_internal.hpp"

#include "etf/text_common.hpp"

#include <edist/text.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <optional>
#include <string>
#include <vector>

namespace edist::io_lib {

namespace {

using detail::Chars;
using detail::Encoding;

[[noreturn]] void bad(const std::string& why) { throw Error(atoms::badarg, "io_lib:format: " + why); }

// Widths beyond this would make erl build a list of that many characters; refuse instead.
constexpr std::int64_t max_field = 1 << 24;

enum class Adjust { left, right };

// Stands for an integer that is no character where erl would only fail on writing it out;
// finish() refuses it if it is still there.
constexpr char32_t not_a_char = 0xFFFFFFFF;

struct Spec {
    std::optional<std::int64_t> width;
    Adjust adjust = Adjust::right;
    std::optional<std::int64_t> precision;
    Term pad = Term(static_cast<std::int64_t>(' '));
    Encoding enc = Encoding::latin1;
    bool strings = true;
    char32_t control = 0;
};

Chars string_arg(const Term& a, Encoding enc);

// The pad from ~..*c may be any term; erl repeats it and only the final flattening and encoding
// judge it, so a list pads with its characters ([] with nothing) and an integer that is no
// character fails only if it is written.
void append_pad(Chars& out, const Term& pad, std::int64_t n) {
    if (n <= 0) return;
    if (pad.is_integer()) {
        bool valid = pad.is_int64() && pad.as_int64() >= 0 && pad.as_int64() <= 0x10FFFF;
        out.append(static_cast<std::size_t>(n), valid ? static_cast<char32_t>(pad.as_int64()) : not_a_char);
        return;
    }
    if (!pad.is_list() && !pad.is_binary()) bad("pad character is not a character");
    Chars one = string_arg(pad, Encoding::unicode);
    for (std::int64_t i = 0; i < n; ++i) out += one;
}

// adjust(Data, Pad, Adj)
Chars adjusted(const Chars& data, const Term& pad, std::int64_t n, Adjust adj) {
    Chars out;
    if (adj == Adjust::right) append_pad(out, pad, n);
    out += data;
    if (adj == Adjust::left) append_pad(out, pad, n);
    return out;
}

std::int64_t chars_length(const Chars& s, Encoding enc) {
    if (enc == Encoding::latin1)
        for (char32_t c : s)
            if (c > 255) return static_cast<std::int64_t>(detail::grapheme_count(s));
    if (enc == Encoding::latin1) return static_cast<std::int64_t>(s.size());
    return static_cast<std::int64_t>(detail::grapheme_count(s));
}

// term/6: a term's text in a field; too long and the field is stars.
Chars field(const Chars& text, const Spec& s, std::optional<std::int64_t> precision, Encoding enc) {
    auto f = s.width;
    if (!f && !precision) return text;
    if (!f) f = precision;
    std::int64_t len = chars_length(text, enc);
    std::int64_t p = std::min(len, precision ? std::min(*precision, *f) : *f);
    if (len > p) return adjusted(Chars(static_cast<std::size_t>(p), U'*'), s.pad, *f - p, s.adjust);
    return adjusted(text, s.pad, *f - len, s.adjust);
}

// --- Floats ------------------------------------------------------------------------------------

struct FloatDigits {
    std::string digits; // 21 significant digits, as float_to_list/1 writes them
    int exp;            // value = 0.d1d2... * 10^exp
};

FloatDigits float_data(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.20e", v < 0 ? -v : v);
    FloatDigits fd;
    const char* p = buf;
    for (; *p && *p != 'e'; ++p)
        if (*p >= '0' && *p <= '9') fd.digits += *p;
    fd.exp = std::atoi(p + 1) + 1;
    return fd;
}

// float_man: `whole` digits, '.', `decimals` digits, rounded half up on the next digit.
// Returns the text and whether a carry ran off the top (all the digits written are then 0).
std::pair<std::string, bool> mantissa(const std::string& ds, int whole, int decimals) {
    std::string d;
    std::size_t n = static_cast<std::size_t>(whole + decimals);
    for (std::size_t i = 0; i < n; ++i) d += i < ds.size() ? ds[i] : '0';
    bool carry = n < ds.size() && ds[n] >= '5';
    for (std::size_t i = n; carry && i-- > 0;) {
        if (d[i] == '9') {
            d[i] = '0';
        } else {
            ++d[i];
            carry = false;
        }
    }
    d.insert(static_cast<std::size_t>(whole), 1, '.');
    return {d, carry};
}

std::string sign_of(double v) { return std::signbit(v) ? "-" : ""; }

std::string float_e(double v, int precision) {
    FloatDigits fd = float_data(v);
    auto [m, carry] = mantissa(fd.digits, 1, precision - 1);
    int e = fd.exp - 1;
    if (carry) {
        m[0] = '1';
        e = fd.exp;
    }
    return sign_of(v) + m + (e >= 0 ? "e+" : "e") + std::to_string(e);
}

std::string float_f(double v, int precision) {
    FloatDigits fd = float_data(v);
    if (fd.exp <= 0) {
        fd.digits.insert(0, static_cast<std::size_t>(-fd.exp + 1), '0');
        fd.exp = 1;
    }
    auto [m, carry] = mantissa(fd.digits, fd.exp, precision);
    return sign_of(v) + (carry ? "1" : "") + m;
}

Chars ascii(const std::string& s) {
    Chars c;
    detail::append_ascii(c, s);
    return c;
}

Chars control_e(double v, const Spec& s, std::int64_t p) {
    if (p < 2) bad("~e needs a precision of at least 2");
    return field(ascii(float_e(v, static_cast<int>(p))), s, s.width, Encoding::latin1);
}

Chars control_f(double v, const Spec& s, std::int64_t p) {
    if (p < 1) bad("~f needs a precision of at least 1");
    return field(ascii(float_f(v, static_cast<int>(p))), s, s.width, Encoding::latin1);
}

Chars control_g(double v, const Spec& s) {
    std::int64_t p = s.precision.value_or(6);
    if (p < 1) bad("~g needs a precision of at least 1");
    double a = std::fabs(v);
    // The decimal exponent band; 4 stands for "1.0e4 or more", which never takes the f form.
    int e = a < 1.0e-1 ? -2 : a < 1.0e0 ? -1 : a < 1.0e1 ? 0 : a < 1.0e2 ? 1 : a < 1.0e3 ? 2 : a < 1.0e4 ? 3 : 4;
    if ((p <= 1 && e == -1) || (e < 4 && p - 1 > e && e >= -1)) return control_f(v, s, p - 1 - e);
    return control_e(v, s, p <= 1 ? 2 : p);
}

// --- Integers ----------------------------------------------------------------------------------

Chars integer_text(const Term& a, std::int64_t base, const Chars& prefix, bool lowercase, const Spec& s) {
    if (base < 2 || base > 36) bad("integer base must be 2..36");
    std::string digits = a.as_bigint().to_string(static_cast<int>(base));
    bool negative = !digits.empty() && digits[0] == '-';
    if (negative) digits.erase(0, 1);
    if (lowercase)
        for (char& c : digits)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    Chars text = negative ? Chars(U"-") : Chars();
    text += prefix;
    detail::append_ascii(text, digits);
    return field(text, s, std::nullopt, Encoding::latin1);
}

// A deep list of characters (io_lib:deep_char_list), as the prefix of ~x/~X.
bool deep_char_list(const Term& t, Chars& out) {
    std::vector<std::pair<const Term*, std::size_t>> walk{{&t, 0}};
    while (!walk.empty()) {
        auto& [x, i] = walk.back();
        if (!x->is_list() || !x->as_list().proper()) return false;
        ListView l = x->as_list();
        if (i == l.size()) {
            walk.pop_back();
            continue;
        }
        const Term& e = l.elements[i++];
        if (e.is_list()) {
            walk.push_back({&e, 0});
            continue;
        }
        if (!e.is_int64()) return false;
        std::int64_t c = e.as_int64();
        if (c < 0 || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF || c > 0x10FFFF) return false;
        out += static_cast<char32_t>(c);
    }
    return true;
}

// --- Strings -----------------------------------------------------------------------------------

void append_bytes(Chars& out, const Term& b, Encoding enc) {
    if (!b.is_binary()) bad("~s argument holds a bit string");
    std::string_view bytes = b.as_binary_view();
    if (enc == Encoding::unicode) {
        // Valid UTF-8 is decoded; anything else is taken byte by byte, as erl falls back to.
        std::size_t i = 0;
        Chars decoded;
        while (i < bytes.size()) {
            long c = edist::detail::decode_utf8(bytes, i);
            if (c < 0) {
                for (unsigned char x : bytes) out += x;
                return;
            }
            decoded += static_cast<char32_t>(c);
        }
        out += decoded;
        return;
    }
    for (unsigned char x : bytes) out += x;
}

// iolist_to_chars (~s) and cdata_to_chars (~ts): deep lists of characters and binaries.
Chars string_arg(const Term& a, Encoding enc) {
    Chars out;
    if (a.is_atom()) {
        detail::append_utf8_text(out, a.as_atom().name());
        if (enc == Encoding::latin1)
            for (char32_t c : out)
                if (c > 255) bad("~s of an atom with characters above 255 (use ~ts)");
        return out;
    }
    std::vector<std::pair<const Term*, std::size_t>> walk{{&a, 0}};
    while (!walk.empty()) {
        auto& [x, i] = walk.back();
        if (x->is_binary() || x->is_bitstring()) {
            append_bytes(out, *x, enc);
            walk.pop_back();
            continue;
        }
        if (!x->is_list()) bad("~s argument is not a string, binary, atom or io list");
        ListView l = x->as_list();
        if (i == l.size()) {
            const Term* tail = l.tail;
            walk.pop_back();
            if (!tail->is_nil()) walk.push_back({tail, 0}); // a binary may end an io list
            continue;
        }
        const Term& e = l.elements[i++];
        if (e.is_integer()) {
            bool negative = e.is_int64() ? e.as_int64() < 0 : e.as_bigint().negative();
            bool latin1 = e.is_int64() && e.as_int64() <= 255;
            if (negative || (enc == Encoding::latin1 && !latin1)) bad("~s argument holds a character out of range");
            std::int64_t c = e.is_int64() ? e.as_int64() : -1;
            out += c >= 0 && c <= 0x10FFFF ? static_cast<char32_t>(c) : not_a_char;
        } else if (e.is_list() || e.is_bitstring()) {
            walk.push_back({&e, 0});
        } else {
            bad("~s argument is not a string, binary, atom or io list");
        }
    }
    return out;
}

Chars truncated(const Chars& s, std::int64_t n, Encoding enc) {
    if (enc == Encoding::latin1) return s.substr(0, static_cast<std::size_t>(n));
    return detail::grapheme_prefix(s, static_cast<std::size_t>(n));
}

Chars string_field(const Chars& s, std::int64_t f, Adjust adj, std::int64_t n, const Term& pad, Encoding enc) {
    if (n > f) return truncated(s, f, enc);
    if (n < f) return adjusted(s, pad, f - n, adj);
    return s;
}

Chars control_s(const Chars& s, const Spec& sp) {
    std::int64_t n = chars_length(s, Encoding::latin1); // io_lib:chars_length, whatever the modifier
    if (!sp.width && !sp.precision) return s;
    if (!sp.precision) return string_field(s, *sp.width, sp.adjust, n, sp.pad, sp.enc);
    if (!sp.width) return string_field(s, *sp.precision, Adjust::left, n, sp.pad, sp.enc);
    std::int64_t f = *sp.width, p = *sp.precision;
    if (f < p) bad("~s field width smaller than its precision");
    if (f == p) return string_field(s, f, sp.adjust, n, sp.pad, sp.enc);
    if (n > p) return adjusted(truncated(s, p, sp.enc), sp.pad, f - p, sp.adjust);
    Chars body = s;
    if (n < p) append_pad(body, sp.pad, p - n);
    return adjusted(body, sp.pad, f - p, sp.adjust);
}

// --- ~c ~~ ~n ----------------------------------------------------------------------------------

Chars control_char(char32_t c, const Spec& s) {
    if (!s.width && !s.precision) return Chars(1, c);
    if (!s.precision) return Chars(static_cast<std::size_t>(*s.width), c);
    if (!s.width) return Chars(static_cast<std::size_t>(*s.precision), c);
    if (*s.width < *s.precision) bad("~c field width smaller than its precision");
    return adjusted(Chars(static_cast<std::size_t>(*s.precision), c), s.pad, *s.width - *s.precision, s.adjust);
}

char32_t char_arg(const Term& a, Encoding enc) {
    if (!a.is_integer()) bad("~c argument is not an integer");
    if (enc == Encoding::latin1) {
        // A band 255, which for a negative number is taken in two's complement.
        BigInt b = a.as_bigint();
        std::uint32_t low = b.limbs().empty() ? 0 : b.limbs()[0] & 255;
        if (b.negative()) low = (256 - low) & 255;
        return low;
    }
    // Not a character: erl only fails if it is written (~2.0tc writes none), so mark it and let
    // the final encoding refuse it.
    if (!a.is_int64() || a.as_int64() < 0 || a.as_int64() > 0x10FFFF) return not_a_char;
    return static_cast<char32_t>(a.as_int64());
}

// --- The format string -------------------------------------------------------------------------

class Formatter {
public:
    Formatter(const Term& args, const FormatOptions& opts) : opts_(opts) {
        if (!args.is_list() || !args.as_list().proper()) bad("arguments are not a proper list");
        if (!args.is_nil()) args_ = args.as_list().elements;
    }

    // One literal character of the format.
    void literal(char32_t c) { put(Chars(1, c)); }
    // A nested list or binary in a format list: copied as is; erl's column count moves by one.
    void literal_chardata(const Chars& cs) {
        out_ += cs;
        ++col_;
    }

    // Reads one control sequence after '~' from fmt[i...].
    void control(const Chars& fmt, std::size_t& i) {
        Spec s;
        auto field_value = [&]() -> std::optional<std::int64_t> {
            if (i < fmt.size() && fmt[i] == U'*') {
                if (next_is_integer()) {
                    ++i;
                    const Term& a = take();
                    if (!a.is_int64() || a.as_int64() > max_field || a.as_int64() < -max_field)
                        throw Error(atoms::system_limit, "io_lib:format: field width or precision too large");
                    return a.as_int64();
                }
                return std::nullopt;
            }
            if (i >= fmt.size() || fmt[i] < U'0' || fmt[i] > U'9') return std::nullopt;
            std::int64_t v = 0;
            while (i < fmt.size() && fmt[i] >= U'0' && fmt[i] <= U'9') {
                v = v * 10 + (fmt[i++] - U'0');
                if (v > max_field) throw Error(atoms::system_limit, "io_lib:format: field width too large");
            }
            return v;
        };
        bool minus = i < fmt.size() && fmt[i] == U'-';
        if (minus) ++i;
        auto w = field_value();
        if (minus && !w) bad("'-' without a field width");
        if (w) {
            std::int64_t v = minus ? -*w : *w;
            s.adjust = v < 0 ? Adjust::left : Adjust::right;
            s.width = v < 0 ? -v : v;
        }
        if (i < fmt.size() && fmt[i] == U'.') {
            ++i;
            s.precision = field_value();
            if (s.precision && *s.precision < 0) bad("negative precision");
            if (i + 1 < fmt.size() && fmt[i] == U'.' && fmt[i + 1] == U'*' && next_ < args_.size()) {
                i += 2;
                s.pad = take();
            } else if (i + 1 < fmt.size() && fmt[i] == U'.') {
                s.pad = Term(static_cast<std::int64_t>(fmt[i + 1]));
                i += 2;
            }
        }
        for (; i < fmt.size(); ++i) {
            if (fmt[i] == U't')
                s.enc = Encoding::unicode;
            else if (fmt[i] == U'l')
                s.strings = false;
            else
                break;
        }
        if (i >= fmt.size()) bad("format ends inside a control sequence");
        s.control = fmt[i++];
        run(s);
    }

    std::string finish() {
        if (next_ < args_.size()) bad("more arguments than control sequences");
        std::string utf8;
        for (char32_t c : out_) {
            if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) bad("result holds a value that is not a character");
            edist::detail::append_utf8(utf8, c);
        }
        return utf8;
    }

private:
    bool next_is_integer() const { return next_ < args_.size() && args_[next_].is_integer(); }

    const Term& take() {
        if (next_ >= args_.size()) bad("fewer arguments than control sequences");
        return args_[next_++];
    }

    void put(const Chars& s) {
        for (char32_t c : s) {
            if (c == U'\n')
                col_ = 0;
            else if (c == U'\t')
                col_ = (col_ + 8) / 8 * 8;
            else
                ++col_;
        }
        out_ += s;
    }

    void run(const Spec& s) {
        switch (s.control) {
        case U'~': return put(control_char(U'~', s));
        case U'n':
            if (!s.width) return put(U"\n");
            if (s.adjust == Adjust::left) bad("~n cannot be left-adjusted");
            return put(Chars(static_cast<std::size_t>(*s.width), U'\n'));
        case U'c': return put(control_char(char_arg(take(), s.enc), s));
        case U'i': take(); return;
        case U'e':
        case U'f':
        case U'g': {
            const Term& a = take();
            if (!a.is_float()) bad(std::string("~") + char(s.control) + " argument is not a float");
            double v = a.as_double();
            if (s.control == U'e') return put(control_e(v, s, s.precision.value_or(6)));
            if (s.control == U'f') return put(control_f(v, s, s.precision.value_or(6)));
            return put(control_g(v, s));
        }
        case U'b':
        case U'B':
        case U'+':
        case U'#': {
            const Term& a = take();
            if (!a.is_integer()) bad("integer control argument is not an integer");
            std::int64_t base = s.precision.value_or(10);
            Chars prefix;
            if (s.control == U'+' || s.control == U'#') detail::append_ascii(prefix, std::to_string(base) + "#");
            return put(integer_text(a, base, prefix, s.control == U'b' || s.control == U'+', s));
        }
        case U'x':
        case U'X': {
            const Term& a = take();
            const Term& p = take();
            if (!a.is_integer()) bad("~x argument is not an integer");
            Chars prefix;
            if (p.is_atom())
                detail::append_utf8_text(prefix, p.as_atom().name());
            else if (!deep_char_list(p, prefix))
                bad("~x prefix is not an atom or a character list");
            return put(integer_text(a, s.precision.value_or(10), prefix, s.control == U'x', s));
        }
        case U's': return put(control_s(string_arg(take(), s.enc), s));
        case U'w':
        case U'W': {
            const Term& a = take();
            long depth = -1;
            if (s.control == U'W') depth = depth_arg(take());
            Chars text;
            detail::write_term(text, a, depth, s.enc, opts_);
            return put(field(text, s, s.precision, s.enc));
        }
        case U'p':
        case U'P': {
            const Term& a = take();
            long depth = -1;
            if (s.control == U'P') depth = depth_arg(take());
            if (s.adjust == Adjust::left) bad("~p cannot be left-adjusted");
            long line_length = s.width ? static_cast<long>(*s.width) : 80;
            long column = s.precision ? static_cast<long>(*s.precision) : static_cast<long>(col_) + 1;
            edist::detail::PrettyLayout layout;
            layout.column = column;
            layout.line_length = line_length;
            layout.depth = depth;
            layout.unicode = s.enc == Encoding::unicode;
            layout.strings = s.strings;
            layout.printable_unicode = opts_.printable_unicode;
            layout.write = [this](Chars& out, const Term& t, long d, bool unicode) {
                detail::write_term(out, t, d, unicode ? Encoding::unicode : Encoding::latin1, opts_);
            };
            Chars text;
            edist::detail::print_pretty(text, a, layout);
            return put(text);
        }
        default: bad("unknown control sequence ~" + std::string(s.control < 128 ? 1 : 0, char(s.control)));
        }
    }

    static long depth_arg(const Term& d) {
        if (!d.is_integer()) bad("depth argument is not an integer");
        if (!d.is_int64()) return d.as_bigint().negative() ? -1 : 1L << 30;
        std::int64_t v = d.as_int64();
        return v < -1 ? -1 : static_cast<long>(std::min<std::int64_t>(v, 1L << 30));
    }

    std::span<const Term> args_;
    std::size_t next_ = 0;
    Chars out_;
    std::size_t col_ = 0;
    const FormatOptions& opts_;
};

// The format as characters: a string, a binary (its bytes), an atom (its name); nested lists and
// binaries inside a format list are plain text.
void run_format(const Term& fmt, Formatter& f) {
    Chars chars;
    if (fmt.is_atom()) {
        detail::append_utf8_text(chars, fmt.as_atom().name());
    } else if (fmt.is_binary()) {
        for (unsigned char c : fmt.as_binary_view()) chars += c;
    } else if (fmt.is_list()) {
        ListView l = fmt.as_list();
        if (!l.proper()) bad("format is an improper list");
        // Directives are only recognised at the top level; runs of top-level characters are
        // collected so a control sequence can span them.
        std::size_t i = 0;
        while (i < l.size()) {
            const Term& e = l.elements[i];
            if (e.is_int64()) {
                std::int64_t c = e.as_int64();
                if (c < 0 || c > 0x7FFFFFFF) bad("format holds a value that is not a character");
                chars += static_cast<char32_t>(c);
                ++i;
                continue;
            }
            // Flush what came before, then copy the nested chardata.
            std::size_t j = 0;
            while (j < chars.size()) {
                if (chars[j] == U'~') {
                    ++j;
                    f.control(chars, j);
                } else {
                    f.literal(chars[j++]);
                }
            }
            chars.clear();
            if (e.is_list() || e.is_binary())
                f.literal_chardata(string_arg(e, Encoding::unicode));
            else
                bad("format holds a term that is not a character");
            ++i;
        }
    } else {
        bad("format is not a string, binary or atom");
    }
    std::size_t j = 0;
    while (j < chars.size()) {
        if (chars[j] == U'~') {
            ++j;
            f.control(chars, j);
        } else {
            f.literal(chars[j++]);
        }
    }
}

} // namespace

Result<std::string> format(const Term& fmt, const Term& args, const FormatOptions& options) {
    try {
        Formatter f(args, options);
        run_format(fmt, f);
        return f.finish();
    } catch (const Error& e) {
        return e;
    }
}

} // namespace edist::io_lib
