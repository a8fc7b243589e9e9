// io_lib:write/2 (~w and ~W): one line, with a depth limit that turns what lies below it into
// "...". The depth rules are erl's, observed on OTP 25: each element of a list or tuple is one
// level deeper than the one before it, so [1,2,3,4] at depth 3 is [1,2|...].
#include "services/io_lib_internal.hpp"

#include "etf/text_common.hpp"

#include <edist/text.hpp>

#include <vector>

namespace edist::io_lib::detail {

void append_ascii(Chars& out, std::string_view s) {
    for (char c : s) out += static_cast<char32_t>(static_cast<unsigned char>(c));
}

namespace {

using edist::detail::TextStyle;

void append_atom_chars(Chars& out, Atom a, Encoding enc) {
    std::string s;
    edist::detail::append_atom(s, a.name(), enc == Encoding::latin1 ? TextStyle::Write : TextStyle::Pretty);
    append_utf8_text(out, s);
}

void append_number(Chars& out, std::uint64_t v) { append_ascii(out, std::to_string(v)); }

// Pids, ports and refs of the local node as erlang:pid_to_list/1 and friends write them;
// anything else in edist's own readable notation (text.hpp).
void write_opaque(Chars& out, const Term& t, const FormatOptions& opts) {
    switch (t.kind()) {
    case Kind::Pid: {
        Pid p = t.as_pid();
        if (p.node != opts.local_node) break;
        out += U"<0.";
        append_number(out, p.id);
        out += U'.';
        append_number(out, p.serial);
        out += U'>';
        return;
    }
    case Kind::Port: {
        Port p = t.as_port();
        if (p.node != opts.local_node) break;
        out += U"#Port<0.";
        append_number(out, p.id);
        out += U'>';
        return;
    }
    case Kind::Reference: {
        Ref r = t.as_ref();
        if (r.node != opts.local_node) break;
        out += U"#Ref<0";
        // erlang:ref_to_list/1 writes the most significant word first.
        for (std::size_t i = r.len; i-- > 0;) {
            out += U'.';
            append_number(out, r.words[i]);
        }
        out += U'>';
        return;
    }
    case Kind::Fun: {
        const FunData& f = t.as_fun();
        out += U"#Fun<";
        append_atom_chars(out, f.module, Encoding::latin1);
        out += U'.';
        append_number(out, f.index);
        out += U'.';
        append_ascii(out, to_string(f.old_uniq));
        out += U'>';
        return;
    }
    default: break;
    }
    append_utf8_text(out, to_string(t));
}

void write_binary(Chars& out, const Term& t, long depth) {
    auto bytes = t.bitstring_bytes();
    std::size_t bits = t.bit_size();
    std::size_t whole = bits / 8;
    out += U"<<";
    long d = depth;
    for (std::size_t i = 0; i < whole; ++i, --d) {
        if (d == 1) {
            out += U"...";
            out += U">>";
            return;
        }
        append_number(out, bytes[i]);
        if (i + 1 < whole || bits % 8) out += U',';
    }
    if (bits % 8) {
        if (d == 1) {
            out += U"...";
        } else {
            unsigned rest = static_cast<unsigned>(bits % 8);
            append_number(out, static_cast<unsigned>(bytes[whole]) >> (8 - rest));
            out += U':';
            append_number(out, rest);
        }
    }
    out += U">>";
}

// One step of the writer's explicit stack.
struct Task {
    enum Kind { Write, Literal, ListTail, TupleRest } kind;
    const Term* term = nullptr;
    std::size_t index = 0;
    long depth = -1;
    const char32_t* text = nullptr;
};

} // namespace

void write_term(Chars& out, const Term& root, long depth, Encoding enc, const FormatOptions& opts) {
    std::vector<Task> stack;
    stack.push_back({Task::Write, &root, 0, depth});
    auto literal = [&](const char32_t* s) { stack.push_back({Task::Literal, nullptr, 0, 0, s}); };
    while (!stack.empty()) {
        Task task = stack.back();
        stack.pop_back();
        static const Term none; // Literal tasks carry no term: never bind a reference to null
        const Term& t = task.term ? *task.term : none;
        long d = task.depth;
        switch (task.kind) {
        case Task::Literal: out += task.text; break;
        case Task::ListTail: {
            ListView l = t.as_list();
            if (task.index == l.size()) {
                if (l.proper()) break;
                if (d == 1) {
                    out += U"|...";
                } else {
                    out += U'|';
                    stack.push_back({Task::Write, l.tail, 0, d - 1});
                }
                break;
            }
            if (d == 1) {
                out += U"|...";
                break;
            }
            out += U',';
            stack.push_back({Task::ListTail, &t, task.index + 1, d - 1});
            stack.push_back({Task::Write, &l.elements[task.index], 0, d - 1});
            break;
        }
        case Task::TupleRest: {
            auto elems = t.as_tuple();
            if (task.index == elems.size()) break;
            if (d == 1) {
                out += U",...";
                break;
            }
            out += U',';
            stack.push_back({Task::TupleRest, &t, task.index + 1, d - 1});
            stack.push_back({Task::Write, &elems[task.index], 0, d - 1});
            break;
        }
        case Task::Write:
            if (d == 0) {
                out += U"...";
                break;
            }
            switch (t.kind()) {
            case Kind::Integer:
            case Kind::Float:
            case Kind::Export: append_utf8_text(out, to_string(t)); break;
            case Kind::Atom: append_atom_chars(out, t.as_atom(), enc); break;
            case Kind::Binary: write_binary(out, t, d); break;
            case Kind::Nil: out += U"[]"; break;
            case Kind::List: {
                if (d == 1) {
                    out += U"[...]";
                    break;
                }
                out += U'[';
                literal(U"]");
                stack.push_back({Task::ListTail, &t, 1, d - 1});
                stack.push_back({Task::Write, &t.as_list().elements[0], 0, d - 1});
                break;
            }
            case Kind::Tuple: {
                auto elems = t.as_tuple();
                if (elems.empty()) {
                    out += U"{}";
                    break;
                }
                if (d == 1) {
                    out += U"{...}";
                    break;
                }
                out += U'{';
                literal(U"}");
                stack.push_back({Task::TupleRest, &t, 1, d - 1});
                stack.push_back({Task::Write, &elems[0], 0, d - 1});
                break;
            }
            case Kind::Map: {
                // OTP 25 quirks, observed: a map at depth 1 is "#{}", and the countdown over
                // the pairs after the first can print ",..." even when no pair is left
                // (#{a => 1} at depth 2 is "#{a => 1,...}").
                MapView m = t.as_map();
                if (m.empty() || d == 1) {
                    out += U"#{}";
                    break;
                }
                out += U"#{";
                literal(U"}");
                long d0 = d - 1;
                std::vector<Task> pairs;
                long countdown = d0 + 1; // the check before pair i sees d0 - (i - 1)
                for (std::size_t i = 0;; ++i, --countdown) {
                    if (i > 0 && countdown == 1) {
                        pairs.push_back({Task::Literal, nullptr, 0, 0, U",..."});
                        break;
                    }
                    if (i == m.size()) break;
                    if (i > 0) pairs.push_back({Task::Literal, nullptr, 0, 0, U","});
                    pairs.push_back({Task::Write, &m.key(i), 0, d0});
                    pairs.push_back({Task::Literal, nullptr, 0, 0, U" => "});
                    pairs.push_back({Task::Write, &m.value(i), 0, d0});
                }
                for (auto it = pairs.rbegin(); it != pairs.rend(); ++it) stack.push_back(*it);
                break;
            }
            default: write_opaque(out, t, opts); break;
            }
            break;
        }
    }
}

} // namespace edist::io_lib::detail
