// to_pretty_string: io_lib:format("~tp") with a Unicode printable range (+pc unicode).
//
// The layout follows what OTP 25's io_lib_pretty does on common terms, as observed with erl:
//  - a term that fits in the rest of the line (ending at most at column line_length - 2,
//    counting the closing brackets that follow it) is written flat;
//  - otherwise its elements are laid out one after another: an element goes on the same line
//    as the one before only if both are "atomic" (not a non-empty list, tuple or map) and it
//    fits; every other element starts a new line, indented to the column after the bracket;
//  - {tag, ...} with an atom tag keeps the tag on the first line and aligns the rest after it
//    (when the tag is short enough);
//  - a map pair that does not fit writes `Key =>` and puts the value on the next line, four
//    columns in.
// Nesting is only followed while it keeps breaking lines, and never deeper than
// max_layout_depth: below that, terms are written flat, so deep terms cost no C++ stack.
#include <edist/text.hpp>

#include "etf/term_impl.hpp"
#include "etf/text_common.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace edist {

namespace {

using detail::Tag;
using detail::TermAccess;
using detail::TextStyle;

constexpr int max_layout_depth = 100;

std::size_t display_width(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

bool is_atomic(const Term& t) {
    switch (TermAccess::tag(t)) {
    case Tag::List: return detail::is_printable_list(t);
    case Tag::Tuple: return t.tuple_size() == 0;
    case Tag::Map: return t.as_map().empty();
    default: return true;
    }
}

class Pretty {
public:
    Pretty(std::string& out, std::size_t line_length) : out_(out), right_(line_length >= 2 ? line_length - 2 : 0) {}

    // Writes t with the line at column `col`; `after` closing characters will follow it on the
    // same line. Returns the column where the written text ends.
    std::size_t term(const Term& t, std::size_t col, std::size_t after, int depth) {
        std::string flat;
        std::size_t room = col + after < right_ ? right_ - col - after : 0;
        if (detail::append_flat(flat, t, TextStyle::Pretty, room * 4 + 4)) {
            std::size_t w = display_width(flat);
            if (w <= room || is_atomic(t) || depth >= max_layout_depth) return put(flat, col);
        } else if (is_atomic(t) || depth >= max_layout_depth) {
            flat.clear();
            detail::append_flat(flat, t, TextStyle::Pretty);
            return put(flat, col);
        }
        switch (TermAccess::tag(t)) {
        case Tag::List: return list(t, col, after, depth);
        case Tag::Tuple: return tuple(t, col, after, depth);
        default: return map(t, col, after, depth);
        }
    }

private:
    std::size_t put(const std::string& s, std::size_t col) {
        out_ += s;
        return col + display_width(s);
    }
    void newline(std::size_t col) {
        out_ += '\n';
        out_.append(col, ' ');
    }

    // One element of a sequence: a term, or a map pair (value != nullptr).
    struct Item {
        const Term* key;
        const Term* value;
        char sep; // written before it: ',' or '|'
    };

    bool item_atomic(const Item& it) const { return is_atomic(*it.key) && (!it.value || is_atomic(*it.value)); }

    std::string item_flat(const Item& it, std::size_t limit) const {
        std::string s;
        if (!detail::append_flat(s, *it.key, TextStyle::Pretty, limit)) return s;
        if (it.value) {
            s += " => ";
            detail::append_flat(s, *it.value, TextStyle::Pretty, limit);
        }
        return s;
    }

    std::size_t item(const Item& it, std::size_t col, std::size_t after, int depth) {
        if (!it.value) return term(*it.key, col, after, depth);
        std::size_t room = col + after < right_ ? right_ - col - after : 0;
        std::string flat = item_flat(it, room * 4 + 4);
        if (display_width(flat) <= room) return put(flat, col);
        std::size_t c = term(*it.key, col, 3, depth + 1);
        out_ += " =>";
        newline(col + 4);
        (void)c;
        return term(*it.value, col + 4, after, depth + 1);
    }

    // Lays out items from column `col0` (the first one already positioned there). `close` is
    // the number of closing characters after the last item.
    std::size_t sequence(const std::vector<Item>& items, std::size_t col0, std::size_t after, int depth,
                         bool first_on_line = true) {
        std::size_t col = col0;
        bool prev_atomic = false;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const Item& it = items[i];
            bool last = i + 1 == items.size();
            // What follows this item on its line: a separator, or the closing brackets.
            std::size_t trail = last ? after : 1;
            bool atomic = item_atomic(it);
            if (i == 0) {
                if (!first_on_line) newline(col0);
                col = item(it, col0, trail, depth + 1);
            } else {
                out_ += it.sep;
                ++col;
                std::string flat;
                bool same_line = false;
                if (atomic && prev_atomic) {
                    std::size_t room = col + trail < right_ ? right_ - col - trail : 0;
                    flat = item_flat(it, room * 4 + 4);
                    same_line = display_width(flat) <= room;
                }
                if (same_line) {
                    col = put(flat, col);
                } else {
                    newline(col0);
                    col = item(it, col0, trail, depth + 1);
                }
            }
            prev_atomic = atomic;
        }
        return col;
    }

    std::size_t list(const Term& t, std::size_t col, std::size_t after, int depth) {
        ListView l = t.as_list();
        std::vector<Item> items;
        items.reserve(l.size() + 1);
        for (const Term& e : l) items.push_back({&e, nullptr, ','});
        if (!l.proper()) items.push_back({l.tail, nullptr, '|'});
        out_ += '[';
        std::size_t end = sequence(items, col + 1, after + 1, depth);
        out_ += ']';
        return end + 1;
    }

    std::size_t tuple(const Term& t, std::size_t col, std::size_t after, int depth) {
        auto elems = t.as_tuple();
        std::vector<Item> items;
        for (const Term& e : elems) items.push_back({&e, nullptr, ','});
        out_ += '{';
        std::size_t end;
        if (elems.size() >= 2 && elems[0].is_atom()) {
            std::string tag;
            detail::append_atom(tag, elems[0].as_atom().name(), TextStyle::Pretty);
            std::size_t tag_end = col + 1 + display_width(tag) + 1;
            out_ += tag;
            out_ += ',';
            items.erase(items.begin());
            // A long tag would push everything to the right edge; erl then starts the
            // elements on the next line, a few columns in.
            if (tag_end <= right_ / 2 + 1)
                end = sequence(items, tag_end, after + 1, depth);
            else
                end = sequence(items, col + 4, after + 1, depth, false);
        } else {
            end = sequence(items, col + 1, after + 1, depth);
        }
        out_ += '}';
        return end + 1;
    }

    std::size_t map(const Term& t, std::size_t col, std::size_t after, int depth) {
        MapView m = t.as_map();
        std::vector<Item> items;
        items.reserve(m.size());
        for (std::size_t i = 0; i < m.size(); ++i) items.push_back({&m.key(i), &m.value(i), ','});
        out_ += "#{";
        std::size_t end = sequence(items, col + 2, after + 1, depth);
        out_ += '}';
        return end + 1;
    }

    std::string& out_;
    std::size_t right_; // the last column text may reach
};

} // namespace

std::string to_pretty_string(const Term& t, const PrettyOptions& opts) {
    std::string out;
    Pretty(out, opts.line_length).term(t, opts.indent, 0, 0);
    return out;
}

} // namespace edist
