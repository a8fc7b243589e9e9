// The pretty printer: io_lib_pretty:print as OTP 25 lays terms out, observed with erl and as
// its source describes them (facts only; nothing copied). to_pretty_string is ~tp under
// +pc unicode; io_lib's ~p/~P (services/io_lib_format.cpp) passes its own options.
//
//  1. Measure: turn the term into a tree of pieces, each with the length it would take on one
//     line, in characters (a UTF-8 sequence is one column). The depth limit is applied here
//     ("..." pieces), as are string detection for lists and binaries.
//  2. If the whole fits in the rest of the line, write it flat.
//  3. Otherwise choose how far the elements of a {tag, ...} tuple are indented: trying first
//     "after the tag" (-1), then 4 columns, else 1 (the `cind` pass, which fails when a choice
//     would push text past half the line).
//  4. Lay out: atomic pieces (text) share a line while they fit; anything else starts a new
//     line at the indentation of its container. A binary shown as bytes is not atomic: it
//     wraps at the line length, and the items around it get lines of their own.
//
// `m` below is the total flat length of the term: with no chars_limit, erl uses it as the
// maximum a line may hold, which is why several tests compare against it.
#include "etf/text_pretty.hpp"

#include "etf/text_common.hpp"

#include <edist/error.hpp>
#include <edist/text.hpp>

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

namespace edist {
namespace detail {

namespace {

// Layout recursion follows the term's nesting; past this, refuse rather than risk the stack
// (200 levels leave room under AddressSanitizer, whose frames are several times larger).
constexpr int max_nesting = 200;

// The default io_lib:write: edist's notation (text.hpp); what it is given never has a depth.
void write_flat(Chars& out, const Term& t, long /*depth*/, bool unicode) {
    std::string s;
    append_flat(s, t, unicode ? TextStyle::Pretty : TextStyle::Write);
    append_utf8_text(out, s);
}

struct Piece {
    enum Type { Text, List, Tuple, Map, Pair, Bin } type = Text;
    enum Tail { End, Dots, Improper } tail = End; // how a List/Tuple/Map's items end
    bool tagged = false;
    long len = 0;
    Chars text;                 // Text, and Bin's flat form (pp_binary breaks it at its commas)
    std::vector<Piece> items;   // List/Tuple/Map items (Improper: the last is the tail); Pair: {K, V}

    bool atomic() const { return type == Text; }
};

class Printer {
public:
    Printer(Chars& out, const PrettyLayout& layout)
        : out_(out), unicode_(layout.unicode), strings_(layout.strings),
          printable_unicode_(layout.printable_unicode), write_(layout.write) {}

    Piece measure(const Term& t, long d, int level) {
        if (level > max_nesting) throw Error(atoms::system_limit, "term nested too deeply to pretty-print");
        Piece p;
        switch (t.kind()) {
        case Kind::Nil: return text(U"[]");
        case Kind::Atom: {
            Chars s;
            write_(s, t, -1, unicode_);
            return text(std::move(s));
        }
        case Kind::List: {
            if (strings_ && d != 1 && printable_list(t)) {
                std::vector<char32_t> cs;
                for (const Term& e : t.as_list()) cs.push_back(static_cast<char32_t>(e.as_int64()));
                Chars s;
                write_string(s, cs);
                return text(std::move(s));
            }
            p.type = Piece::List;
            ListView l = t.as_list();
            long dd = d;
            for (const Term& e : l) {
                if (dd == 1) {
                    p.tail = Piece::Dots;
                    break;
                }
                p.items.push_back(measure(e, dd - 1, level + 1));
                --dd;
            }
            if (p.tail != Piece::Dots && !l.proper()) {
                if (dd == 1) {
                    p.tail = Piece::Dots;
                } else {
                    p.items.push_back(measure(*l.tail, dd - 1, level + 1));
                    p.tail = Piece::Improper;
                }
            }
            p.len = sequence_length(p, 2);
            return p;
        }
        case Kind::Tuple: {
            auto elems = t.as_tuple();
            if (elems.empty()) return text(U"{}");
            if (d == 1) return text(U"{...}");
            p.type = Piece::Tuple;
            p.tagged = elems[0].is_atom() && elems.size() > 1;
            long dd = d;
            for (const Term& e : elems) {
                if (dd == 1) {
                    p.tail = Piece::Dots;
                    break;
                }
                p.items.push_back(measure(e, dd - 1, level + 1));
                --dd;
            }
            p.len = sequence_length(p, 2);
            return p;
        }
        case Kind::Map: {
            MapView m = t.as_map();
            if (m.empty()) return text(U"#{}");
            if (d == 1) return text(U"#{...}");
            p.type = Piece::Map;
            long dd = d;
            for (std::size_t i = 0; i < m.size(); ++i, --dd) {
                if (dd == 1) {
                    p.tail = Piece::Dots;
                    break;
                }
                Piece pair;
                pair.type = Piece::Pair;
                pair.items.push_back(measure(m.key(i), d - 1, level + 1));
                pair.items.push_back(measure(m.value(i), d - 1, level + 1));
                pair.len = pair.items[0].len + 4 + pair.items[1].len;
                p.items.push_back(std::move(pair));
            }
            p.len = sequence_length(p, 3);
            return p;
        }
        case Kind::Binary: return binary(t, d);
        default: {
            Chars s;
            write_(s, t, -1, false);
            return text(std::move(s));
        }
        }
    }

    // cind: can tagged tuples be indented by `ind`? Throws NoGood when not.
    struct NoGood {};

    void cind(const Piece& p, long col, long ll, long m, long ind, long ld, long w) {
        if (fits(p, col, ll, m, ld, w)) return;
        switch (p.type) {
        case Piece::List: cind_list(p, 0, col + 1, ll, m, ind, ld, w + 1); return;
        case Piece::Tuple:
            if (p.tagged)
                cind_tag_tuple(p, col, ll, m, ind, ld, w + 1);
            else
                cind_list(p, 0, col + 1, ll, m, ind, ld, w + 1);
            return;
        case Piece::Map: cind_map(p, col + 2, ll, m, ind, ld, w + 2); return;
        default: return;
        }
    }

    void pp(const Piece& p, long col, long ll, long m, long tind, long ind, long ld, long w) {
        if (fits(p, col, ll, m, ld, w)) return write(p);
        switch (p.type) {
        case Piece::List:
            out_ += U'[';
            pp_list(p, 0, col + 1, ll, m, tind, ind + 1, ld, U'|', w + 1);
            out_ += U']';
            return;
        case Piece::Tuple:
            out_ += U'{';
            if (p.tagged)
                pp_tag_tuple(p, col, ll, m, tind, ind, ld, w + 1);
            else
                pp_list(p, 0, col + 1, ll, m, tind, ind + 1, ld, U',', w + 1);
            out_ += U'}';
            return;
        case Piece::Map:
            out_ += U"#{";
            pp_map(p, col + 2, ll, m, tind, ind + 2, ld, w + 1);
            out_ += U'}';
            return;
        case Piece::Bin: pp_binary(p, col + 2, ll, m, ind + 2, ld, w); return;
        default: write(p); return;
        }
    }

    void write(const Piece& p) {
        switch (p.type) {
        case Piece::Text:
        case Piece::Bin: out_ += p.text; return;
        case Piece::Pair:
            write(p.items[0]);
            out_ += U" => ";
            write(p.items[1]);
            return;
        case Piece::List:
            out_ += U'[';
            write_items(p, U'|');
            out_ += U']';
            return;
        case Piece::Tuple:
            out_ += U'{';
            write_items(p, U',');
            out_ += U'}';
            return;
        case Piece::Map:
            out_ += U"#{";
            write_items(p, U',');
            out_ += U'}';
            return;
        }
    }

private:
    static Piece text(Chars s) {
        Piece p;
        p.len = static_cast<long>(chars_length(s));
        p.text = std::move(s);
        return p;
    }

    static long sequence_length(const Piece& p, long brackets) {
        long len = brackets;
        for (std::size_t i = 0; i < p.items.size(); ++i) len += p.items[i].len + (i > 0 ? 1 : 0);
        if (p.tail == Piece::Dots) len += p.items.empty() ? 3 : 4;
        return len;
    }

    bool printable_list(const Term& t) const {
        ListView l = t.as_list();
        if (!l.proper()) return false;
        bool unicode = unicode_ && printable_unicode_;
        for (const Term& e : l)
            if (!e.is_int64() || !is_printable_char(e.as_int64(), unicode)) return false;
        return true;
    }

    Piece binary(const Term& t, long d) {
        if (t.bit_size() == 0) return text(U"<<>>");
        if (d == 1) return text(U"<<...>>");
        if (strings_ && t.bit_size() % 8 == 0) {
            if (auto p = printable_binary(t.as_binary(), d - 1)) return std::move(*p);
        }
        Piece p;
        p.type = Piece::Bin;
        write_(p.text, t, d, false);
        p.len = static_cast<long>(p.text.size());
        return p;
    }

    // A binary shown as text: all of it, or (under a depth limit) a printable prefix.
    std::optional<Piece> printable_binary(std::span<const std::uint8_t> bin, long d1) {
        std::size_t len = bin.size();
        if (d1 >= 0) len = std::min<std::size_t>(4 * static_cast<std::size_t>(d1), bin.size());
        if (len == 0) return std::nullopt;
        auto as_text = [&](const std::vector<char32_t>& cs, bool utf8, bool cut) {
            Chars s = U"<<";
            write_string(s, cs);
            if (utf8) s += U"/utf8";
            if (cut) s += U"...";
            s += U">>";
            return text(std::move(s));
        };
        auto latin1 = [&]() -> std::optional<Piece> {
            std::size_t n = 0;
            while (n < len && n < bin.size() && is_printable_char(bin[n], false)) ++n;
            std::vector<char32_t> cs(bin.begin(), bin.begin() + static_cast<std::ptrdiff_t>(n));
            if (n == bin.size()) return as_text(cs, false, false);
            if (d1 > 0 && static_cast<long>(n) >= d1) return as_text(cs, false, true);
            return std::nullopt;
        };
        if (!unicode_) return latin1();
        // ~tp: if the first `len` characters are not all valid UTF-8, the binary is judged as
        // Latin-1 (observed: <<221,172,201,249>> prints as <<"Ý¬Éù">>, though it starts with a
        // valid sequence). Otherwise count characters against the printable range.
        {
            std::string_view all(reinterpret_cast<const char*>(bin.data()), bin.size());
            std::size_t at = 0;
            for (std::size_t n = 0; n < len && at < all.size(); ++n)
                if (decode_utf8(all, at) < 0) return latin1();
        }
        std::size_t i = 0, chars = 0;
        std::vector<char32_t> cs;
        bool stopped = false;
        while (i < bin.size()) {
            std::size_t at = i;
            long c = decode_utf8(
                std::string_view(reinterpret_cast<const char*>(bin.data()), bin.size()), i);
            if (c < 0) return latin1();
            if (chars == len || !is_printable_char(c, printable_unicode_)) {
                i = at;
                stopped = true;
                break;
            }
            cs.push_back(static_cast<char32_t>(c));
            ++chars;
        }
        if (!stopped) return as_text(cs, chars != bin.size(), false);
        if (d1 > 0 && static_cast<long>(chars) >= d1) return as_text(cs, i != chars, true);
        return std::nullopt;
    }

    static bool fits(const Piece& p, long col, long ll, long m, long ld, long w) {
        return p.len < ll - col - ld && p.len + w + ld <= m;
    }

    // last_depth: the last item of a sequence carries the closing brackets that follow it.
    static long last_depth(const Piece& seq, std::size_t next, long ld) {
        bool more = next < seq.items.size() && !(seq.tail == Piece::Improper && next + 1 == seq.items.size());
        return more ? 0 : ld + 1;
    }

    static bool fits_on_line(const Piece& e, long col, long ll, long m, long ld1, long w) {
        long elen = 1 + e.len;
        if (ld1 == 0) return elen + 1 < ll - col && w + elen + 1 <= m;
        return elen < ll - col - ld1 && w + elen + ld1 <= m;
    }

    static bool atomic_pair(const Piece& p) { return p.items[0].atomic() && p.items[1].atomic(); }

    void write_items(const Piece& p, char32_t sep) {
        for (std::size_t i = 0; i < p.items.size(); ++i) {
            if (i > 0) out_ += (p.tail == Piece::Improper && i + 1 == p.items.size()) ? sep : U',';
            write(p.items[i]);
        }
        if (p.tail == Piece::Dots) {
            if (!p.items.empty()) out_ += sep;
            out_ += U"...";
        }
    }

    void newline(long ind) {
        out_ += U'\n';
        out_.append(static_cast<std::size_t>(std::max(0L, ind)), U' ');
    }

    // Items from index `from`; the first one opens the sequence at col0.
    void pp_list(const Piece& p, std::size_t from, long col0, long ll, long m, long tind, long ind, long ld,
                 char32_t sep, long w) {
        if (from == p.items.size()) {
            if (p.tail == Piece::Dots) out_ += U"...";
            return;
        }
        long we = pp_element(p.items[from], col0, ll, m, tind, ind, last_depth(p, from + 1, ld), w);
        pp_tail(p, from + 1, col0, col0 + we, ll, m, tind, ind, ld, sep, w + we);
    }

    void pp_tail(const Piece& p, std::size_t i, long col0, long col, long ll, long m, long tind, long ind, long ld,
                 char32_t sep, long w) {
        for (; i < p.items.size(); ++i) {
            const Piece& e = p.items[i];
            if (p.tail == Piece::Improper && i + 1 == p.items.size()) {
                if (e.len + 1 < ll - col - (ld + 1) && e.len + 1 + w + (ld + 1) <= m && e.atomic()) {
                    out_ += sep;
                    write(e);
                } else {
                    out_ += sep;
                    newline(ind);
                    pp(e, col0, ll, m, tind, ind, ld + 1, 0);
                }
                return;
            }
            long ld1 = last_depth(p, i + 1, ld);
            if (fits_on_line(e, col, ll, m, ld1, w) && e.atomic()) {
                out_ += U',';
                write(e);
                col += 1 + e.len;
                w += 1 + e.len;
            } else {
                out_ += U',';
                newline(ind);
                long we = pp_element(e, col0, ll, m, tind, ind, ld1, 0);
                col = col0 + we;
                w = we;
            }
        }
        if (p.tail == Piece::Dots) {
            out_ += sep;
            out_ += U"...";
        }
    }

    long pp_element(const Piece& e, long col, long ll, long m, long tind, long ind, long ld, long w) {
        if (fits(e, col, ll, m, ld, w) && e.atomic()) {
            write(e);
            return e.len;
        }
        pp(e, col, ll, m, tind, ind, ld, w);
        return ll; // forces the next item onto a new line
    }

    void pp_tag_tuple(const Piece& p, long col, long ll, long m, long tind, long ind, long ld, long w) {
        const Piece& tag = p.items[0];
        long tag_ind = tag.len + 2;
        long tcol = col + tag_ind;
        write(tag);
        if (tind > 0 && tag_ind > tind) {
            pp_tail(p, 1, col + tind, tcol, ll, m, tind, ind + tind, ld, U',', w + tag.len);
        } else {
            out_ += U',';
            pp_list(p, 1, tcol, ll, m, tind, ind + tag_ind, ld, U',', w + tag.len + 1);
        }
    }

    void pp_map(const Piece& p, long col, long ll, long m, long tind, long ind, long ld, long w) {
        long pw = pp_pair(p.items[0], col, ll, m, tind, ind, last_depth(p, 1, ld), w);
        long c = col + pw;
        w = pw;
        for (std::size_t i = 1; i < p.items.size(); ++i) {
            const Piece& e = p.items[i];
            long ld1 = last_depth(p, i + 1, ld);
            if (fits_on_line(e, c, ll, m, ld1, w) && atomic_pair(e)) {
                out_ += U',';
                write(e);
                c += 1 + e.len;
                w += 1 + e.len;
            } else {
                out_ += U',';
                newline(ind);
                pw = pp_pair(e, col, ll, m, tind, ind, ld1, 0);
                c = col + pw;
                w = pw;
            }
        }
        if (p.tail == Piece::Dots) out_ += U",...";
    }

    long pp_pair(const Piece& pair, long col, long ll, long m, long tind, long ind, long ld, long w) {
        if (fits(pair, col, ll, m, ld, w)) {
            write(pair);
            return atomic_pair(pair) ? pair.len : ll;
        }
        long i = tind > 0 ? tind : 4;
        pp(pair.items[0], col, ll, m, tind, ind, ld, w);
        out_ += U" =>";
        newline(ind + i);
        pp(pair.items[1], col + i, ll, m, tind, ind + i, ld, 0);
        return ll;
    }

    void pp_binary(const Piece& p, long col, long ll, long m, long ind, long ld, long w) {
        long n0 = std::max(8L, std::min(ll - col, m - 4 - w) - ld);
        long n = n0;
        // The flat text is <<B1,B2,...,Last>>: each byte item with its comma must fit in what is
        // left of the line; the last item (maybe Value:Size) needs only its own length.
        std::u32string_view body(p.text);
        body = body.substr(2, body.size() - 4);
        out_ += U"<<";
        for (auto comma = body.find(U','); comma != body.npos; comma = body.find(U',')) {
            long len = static_cast<long>(comma) + 1;
            if (n - len < 0) {
                newline(ind);
                n = n0 - len;
            } else {
                n -= len;
            }
            out_ += body.substr(0, comma + 1);
            body.remove_prefix(comma + 1);
        }
        if (static_cast<long>(body.size()) > n) newline(ind);
        out_ += body;
        out_ += U">>";
    }

    void cind_list(const Piece& p, std::size_t from, long col0, long ll, long m, long ind, long ld, long w) {
        if (from == p.items.size()) return; // only dots
        long we = cind_element(p.items[from], col0, ll, m, ind, last_depth(p, from + 1, ld), w);
        cind_tail(p, from + 1, col0, col0 + we, ll, m, ind, ld, w + we);
    }

    void cind_tail(const Piece& p, std::size_t i, long col0, long col, long ll, long m, long ind, long ld, long w) {
        for (; i < p.items.size(); ++i) {
            const Piece& e = p.items[i];
            if (p.tail == Piece::Improper && i + 1 == p.items.size()) {
                if (e.len + 1 < ll - col - (ld + 1) && e.len + 1 + w + (ld + 1) <= m && e.atomic()) return;
                cind(e, col, ll, m, ind, ld + 1, 0);
                return;
            }
            long ld1 = last_depth(p, i + 1, ld);
            if (fits_on_line(e, col, ll, m, ld1, w) && e.atomic()) {
                col += 1 + e.len;
                w += 1 + e.len;
            } else {
                long we = cind_element(e, col0, ll, m, ind, ld1, 0);
                col = col0 + we;
                w = we;
            }
        }
    }

    long cind_element(const Piece& e, long col, long ll, long m, long ind, long ld, long w) {
        if (fits(e, col, ll, m, ld, w) && e.atomic()) return e.len;
        cind(e, col, ll, m, ind, ld, w);
        return ll;
    }

    void cind_tag_tuple(const Piece& p, long col, long ll, long m, long ind, long ld, long w) {
        long tlen = p.items[0].len;
        long tag_ind = tlen + 2;
        long tcol = col + tag_ind;
        if (ind > 0 && tag_ind > ind) {
            long col1 = col + ind;
            if (!(m + col1 <= ll || col1 <= ll / 2)) throw NoGood{};
            cind_tail(p, 1, col1, tcol, ll, m, ind, ld, w + tlen);
        } else {
            if (!(m + tcol < ll || tcol < ll / 2)) throw NoGood{};
            cind_list(p, 1, tcol, ll, m, ind, ld, w + tlen + 1);
        }
    }

    void cind_map(const Piece& p, long col, long ll, long m, long ind, long ld, long w) {
        long pw = cind_pair(p.items[0], col, ll, m, ind, last_depth(p, 1, ld), w);
        long c = col + pw;
        w = w + pw;
        for (std::size_t i = 1; i < p.items.size(); ++i) {
            const Piece& e = p.items[i];
            long ld1 = last_depth(p, i + 1, ld);
            if (fits_on_line(e, c, ll, m, ld1, w) && atomic_pair(e)) {
                c += 1 + e.len;
                w += 1 + e.len;
            } else {
                pw = cind_pair(e, col, ll, m, ind, ld1, 0);
                c = col + pw;
                w = pw;
            }
        }
    }

    long cind_pair(const Piece& pair, long col, long ll, long m, long ind, long ld, long w) {
        if (fits(pair, col, ll, m, ld, w)) return atomic_pair(pair) ? pair.len : ll;
        cind(pair.items[0], col, ll, m, ind, ld, w);
        cind(pair.items[1], col + (ind > 0 ? ind : 4), ll, m, ind, ld, 0);
        return ll;
    }

    Chars& out_;
    bool unicode_;
    bool strings_;
    bool printable_unicode_;
    const std::function<void(Chars&, const Term&, long, bool)>& write_;
};

} // namespace

void print_pretty(Chars& out, const Term& t, const PrettyLayout& layout) {
    PrettyLayout l = layout;
    if (!l.write) l.write = write_flat;
    long col = l.column, ll = l.line_length;
    if (l.depth == 0) {
        out += U"...";
        return;
    }
    if (col <= 0) col = 1;
    switch (t.kind()) {
    case Kind::Atom: l.write(out, t, -1, l.unicode); return;
    case Kind::Tuple:
    case Kind::List:
    case Kind::Nil:
    case Kind::Map:
    case Kind::Binary: break;
    default: l.write(out, t, -1, false); return;
    }
    Printer printer(out, l);
    Piece p = printer.measure(t, l.depth, 0);
    long m = p.len;
    if (ll == 0 || (p.len < ll - col && p.len <= m)) return printer.write(p);
    long tind = 1;
    for (long candidate : {-1L, 4L}) {
        try {
            printer.cind(p, col, ll, m, candidate, 0, 0);
            tind = candidate;
            break;
        } catch (const Printer::NoGood&) {
        }
    }
    printer.pp(p, col, ll, m, tind, col - 1, 0, 0);
}

} // namespace detail

std::string to_pretty_string(const Term& t, const PrettyOptions& opts) {
    detail::PrettyLayout layout; // ~tp under +pc unicode
    layout.column = static_cast<long>(opts.indent) + 1;
    layout.line_length = static_cast<long>(opts.line_length);
    detail::Chars text;
    try {
        detail::print_pretty(text, t, layout);
    } catch (const Error&) {
        // Nested deeper than the layout follows (erl would go on, its stack grows): one line.
        std::string flat;
        detail::append_flat(flat, t, detail::TextStyle::Pretty);
        return flat;
    }
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) detail::append_utf8(out, c);
    return out;
}

} // namespace edist
