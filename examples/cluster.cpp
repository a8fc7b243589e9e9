// The README's "Joining a cluster" example, built with the project so it stays true.
#include <edist/node.hpp>
#include <edist/rpc.hpp>
#include <edist/text.hpp>

#include <iostream>

using namespace edist;

int main() {
    // Registers cpp@<host> in epmd (starting one in-process if none runs); hidden node.
    std::shared_ptr<Node> node = Node::start({.name = "cpp", .cookie = "secret"}).value();

    // A function erl can call: erpc:call('cpp@host', math, add, [1, 2]) -> 3. The arity and
    // the conversions come from the signature; a non-integer argument is error:badarg.
    node->export_function("math", "add", [](BigInt a, BigInt b) { return a + b; });

    // A lightweight process: echoes {From, Msg} back to From.
    node->spawn([](Self self) -> Task<> {
        for (;;) {
            std::optional<Term> msg = co_await self.receive();
            if (msg->is_tuple(2) && (*msg)[0].is_pid()) self.send((*msg)[0].as_pid(), (*msg)[1]);
        }
    }, {.register_name = "echo"});

    // A mailbox for this thread, and a call into BEAM.
    Mailbox box = node->make_mailbox("main").value();
    if (node->ping(atom("erl@localhost"))) {
        Term nodes = rpc::call(*node, atom("erl@localhost"), atom("erlang"), atom("nodes"), list(atom("hidden")));
        std::cout << to_string(nodes) << "\n";
    }
    std::optional<Term> got = box.receive(std::chrono::seconds(10)); // selective forms too
    node->stop();
}
