// net_kernel, as far as peers rely on it: is_auth for net_adm:ping.
#include "services/system.hpp"

#include <edist/text.hpp>

namespace edist::services {

namespace {
Task<> net_kernel(Self self) {
    for (;;) {
        Term msg = *co_await self.receive();
        // {'$gen_call', From, Request}
        if (msg.is_tuple(3) && msg[0].is_atom(atom("$gen_call"))) {
            const Term& request = msg[2];
            if (request.is_tuple(2) && request[0].is_atom(atom("is_auth"))) {
                gen_reply(self, msg[1], atom("yes"));
                continue;
            }
        }
        self.node().impl().log(LogLevel::info, "net_kernel: ignoring " + to_string(msg));
    }
}
} // namespace

Result<bool> start_net_kernel(Node& node) {
    auto pid = node.spawn(net_kernel, {.register_name = "net_kernel"});
    if (!pid) return pid.error();
    return true;
}

} // namespace edist::services
