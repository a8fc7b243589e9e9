// Node::start: the node layer's start-up, then the system processes peers expect.
#include "services/system.hpp"

namespace edist {

namespace {
Result<std::shared_ptr<Node>> start_with_services(Result<std::shared_ptr<Node>> started) {
    if (!started) return started;
    auto node = *started;
    services::export_erpc(*node);
    services::export_builtin_functions(*node);
    for (auto start : {services::start_io_server, services::start_net_kernel, services::start_rex}) {
        auto r = start(*node);
        if (!r) {
            node->stop();
            return r.error();
        }
    }
    node->impl().start_accepting();
    return node;
}
} // namespace

Result<std::shared_ptr<Node>> Node::start(NodeOptions options) {
    return start_with_services(start_node(std::make_unique<asio::io_context>(), nullptr, std::move(options)));
}

Result<std::shared_ptr<Node>> Node::start(asio::io_context& io, NodeOptions options) {
    return start_with_services(start_node(nullptr, &io, std::move(options)));
}

namespace services {

void gen_reply(Self self, const Term& from, Term reply) {
    if (!from.is_tuple(2) || !from[0].is_pid()) return;
    const Term& tag = from[1];
    Term message = tuple(tag, std::move(reply));
    // [alias|Ref] or [[alias|Ref]|_]: OTP 24+ callers wait on an alias.
    const Term* t = &tag;
    if (t->is_list() && !t->is_nil() && t->as_list().elements[0].is_list() && !t->as_list().elements[0].is_nil())
        t = &t->as_list().elements[0];
    if (t->is_list() && !t->is_nil() && !t->is_proper_list()) {
        auto l = t->as_list();
        if (l.elements.size() == 1 && l.elements[0].is_atom(atom("alias")) && l.tail->is_ref()) {
            self.send(l.tail->as_ref(), std::move(message));
            return;
        }
    }
    self.send(from[0].as_pid(), std::move(message));
}

} // namespace services
} // namespace edist
