// The processes every node runs for its peers (net_kernel, rex) and the functions they
// export (erpc), started by Node::start.
#pragma once

#include "node/node_impl.hpp"

namespace edist::services {

// gen:reply: {Tag, Reply} to the alias when Tag is [alias|Ref] (or [[alias|Ref]|_]), else to
// the caller's pid, as OTP's gen does.
void gen_reply(Self self, const Term& from, Term reply);

Result<bool> start_net_kernel(Node& node);
Result<bool> start_rex(Node& node);
Result<bool> start_io_server(Node& node);
void export_erpc(Node& node);
// erlang:node/0, nodes/0,1, whereis/1, registered/0, is_process_alive/1, apply/3 and
// net_kernel:get_net_ticktime/0 and set_net_ticktime/1,2 for other nodes to call.
void export_builtin_functions(Node& node);

} // namespace edist::services
