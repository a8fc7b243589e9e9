// Group-leader I/O, both ways.
//
// Every node runs an I/O server, registered as `user`: processes whose group leader it is —
// C++ processes by default, and BEAM processes this node spawned — have io:format,
// io:put_chars, io:fwrite and io:get_line served by it, with Erlang's format directives
// formatted here exactly as BEAM would (edist/io_lib.hpp). Output goes to stdout, or to
// NodeOptions::io_output; input comes from stdin, or NodeOptions::io_input.
//
// The other way, a C++ process writes through its own group leader, which may live on a BEAM
// node (a process spawned from erl has the spawner's), so its output appears on that console.
#pragma once

#include <edist/process.hpp>
#include <edist/task.hpp>
#include <edist/term.hpp>

#include <chrono>
#include <string_view>

namespace edist::io {

// io:put_chars(unicode, Text) through the caller's group leader: ok, or an Error whose reason
// is what io:put_chars would raise: badarg when the I/O server answers {error, _} (terminated
// and no_translation passed on as such), noproc / noconnection when the group leader is gone.
Task<Result<bool>> put_chars(Self self, std::string_view utf8);
// io:format(Format, Args): the group leader formats. A bad format or arguments (e.g. "~p" with
// []) is an Error of reason badarg, as io:format raises error:badarg; otherwise as put_chars.
Task<Result<bool>> format(Self self, std::string_view format, Term args);
// io:get_line(Prompt): the line (with its newline) as UTF-8, or eof as an error.
Task<Result<std::string>> get_line(Self self, std::string_view prompt);

} // namespace edist::io
