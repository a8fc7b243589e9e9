// What `edist serve` (and `edist demo`) offer other nodes: the module edist_demo and the
// registered process echo. See serve_demo_module.cpp and docs/CLI.md.
#pragma once

#include <edist/node.hpp>

namespace edist::cli {

// Exports edist_demo:echo/1, add/2, fail/2, sleep/1, loop/0 and print/2 on `node`.
void export_demo_module(Node& node);

// Spawns the process registered as `echo`: {Pid, Term} sends Term back to Pid, and
// gen_server:call({echo, Node}, X) answers X.
Result<Pid> spawn_echo(Node& node);

} // namespace edist::cli
