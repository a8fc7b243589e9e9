// Terms as Erlang-syntax text, both directions.
//
// Everything prints as io:format("~w") does, except the four kinds Erlang cannot write back:
// they get a notation of edist's own that parse() reads, so parse(to_string(t)) == t always:
//
//   pid        #Pid<'node@host'.Id.Serial.Creation>
//   port       #Port<'node@host'.Id.Creation>
//   reference  #Ref<'node@host'.Creation.Word1.Word2...>   (1 to 5 words)
//   local fun  #Fun<Module.Index.OldUniq.HEX>   HEX = the NEW_FUN_EXT bytes, tag included
//
// (`fun M:F/A` is Erlang syntax already.) See docs/TERMS.md.
#pragma once

#include <edist/term.hpp>

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

namespace edist {

// Like io_lib:format("~w", [T]), UTF-8 encoded.
std::string to_string(const Term& t);

struct PrettyOptions {
    std::size_t line_length = 80; // as ~p
    std::size_t indent = 0;       // column the term starts at
};
// As io_lib:format("~tp", [T]) in an erl started with +pc unicode: printable lists as
// strings, printable binaries as <<"text">> (UTF-8 text as <<"text"/utf8>>), and erl's line
// breaks and indentation when the term does not fit on one line. Maps of more than 32 keys
// come in key order (erl's follow its hash order).
std::string to_pretty_string(const Term& t, const PrettyOptions& opts = {});

struct ParseOptions {
    std::size_t max_depth = 10'000;
};
// Reads one Erlang term literal (an optional trailing '.' and surrounding whitespace are
// allowed). Errors carry reason badarg, a message and the byte offset.
Result<Term> parse(std::string_view text, const ParseOptions& opts = {});

std::ostream& operator<<(std::ostream& os, const Term& t);

} // namespace edist
