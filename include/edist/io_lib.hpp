// io_lib:format/2 on the C++ side.
//
// A BEAM process whose group leader lives on an edist node sends
// `{put_chars, unicode, io_lib, format, [Format, Args]}`; the group leader has to do the
// formatting itself, and the text must come out exactly as BEAM's io_lib:format would make it.
//
//   auto text = edist::io_lib::format(edist::string("~-8s|~5.2f~n"), edist::list(atom("ok"), 3.14159));
//   // text.value() == "ok      | 3.14\n"
//
// Format is a string (a flat list of code points), a binary or an atom, as io_lib:format takes
// it; a binary is read byte by byte as Latin-1, as erl does. Args is a proper list. The result
// is the list of characters io_lib:format returns, UTF-8 encoded.
//
// Every control sequence of OTP 25 is supported: ~c ~f ~e ~g ~s ~w ~p ~W ~P ~B ~X ~# ~b ~x ~+
// ~i ~n ~~ with the `t` and `l` modifiers, field width, precision, pad character, `*` taking
// any of them from Args, and left adjustment. What erl refuses (a control that does not match
// its argument, too few or too many arguments, ~-p, ~2.5c, ...) comes back as
// Error(badarg, message), never as an exception or a crash.
//
// Differences from erl, on purpose or unavoidable (see docs in the .cpp files):
//  - pids, ports and references are printed as erl prints local ones (`<0.80.0>`) when their
//    node is `FormatOptions::local_node`; those of other nodes use edist's notation
//    (`#Pid<'a@host'.80.0.3>`), since the number erl shows for a remote node is private to it.
//  - ~ts/~tw field widths count grapheme clusters as string:length does for the common cases
//    (CR LF, combining marks, variation selectors, zero-width joiners), not the full UAX #29.
#pragma once

#include <edist/error.hpp>
#include <edist/term.hpp>

#include <string>

namespace edist::io_lib {

struct FormatOptions {
    // The node whose pids, ports and references print in erl's local form.
    Atom local_node;
    // erl's printable range (`+pc unicode`): when true, ~tp treats lists and binaries of any
    // printable Unicode character as strings. Default false, as erl starts.
    bool printable_unicode = false;
};

Result<std::string> format(const Term& format, const Term& args, const FormatOptions& options = {});

// io_lib:fwrite/2 is the same function under its other name.
inline Result<std::string> fwrite(const Term& fmt, const Term& args, const FormatOptions& options = {}) {
    return format(fmt, args, options);
}

} // namespace edist::io_lib
