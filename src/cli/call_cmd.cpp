// `edist call NODE MODULE FUNCTION ['ARGS']`: erpc:call from a short-lived hidden node, the
// result printed as ~p prints it (erl_call -a). Any failure — unreachable node, timeout, an
// exception in the function — is one `edist:` line on stderr and exit status 1.
#include "command.hpp"
#include "io.hpp"
#include "node_options.hpp"

#include <edist/rpc.hpp>
#include <edist/text.hpp>

#include <fmt/core.h>

#include <memory>

namespace edist::cli {

namespace {

struct CallCmdOptions {
    std::string node;
    std::string module;
    std::string function;
    std::string args = "[]";
    NodeCommandOptions node_options;
};

int run_call(const CallCmdOptions& o) {
    const std::string peer = full_node_name(o.node);
    if (peer.empty()) return fail(fmt::format("call: not a node name: {}", o.node));
    std::string error;
    const auto text = argument_or_stdin(o.args, error);
    if (!text) return fail(fmt::format("call: {}", error));
    auto args = parse(*text);
    if (!args) return fail("call: ARGS", args.error());
    if (!args->is_proper_list()) return fail(fmt::format("call: ARGS must be a list, as in '[1, 2]', not {}", *text));
    const std::string what = fmt::format("{}:{}/{}", to_string(Term(atom(o.module))), to_string(Term(atom(o.function))),
                                         args->as_list().size());

    NodeGuard guard{start_command_node(o.node_options, peer)};
    if (!guard.node) return exit_failure;
    const Deadline deadline(*parse_timeout(o.node_options.timeout));
    if (!connect_or_report(*guard.node, "call", peer, deadline.left())) return exit_failure;
    CallOptions copts;
    copts.timeout = deadline.left();
    auto out = erpc::call(*guard.node, atom(peer), atom(o.module), atom(o.function), *args, copts);
    if (!out.ok) return report_call_failure("call", what, peer, out, o.node_options.timeout);
    fmt::print("{}\n", to_pretty_string(out.value));
    return exit_ok;
}

} // namespace

Command add_call_command(CLI::App& root) {
    auto o = std::make_shared<CallCmdOptions>();
    auto* call = root.add_subcommand("call", "Call MODULE:FUNCTION(ARGS...) on a node and print the result");
    call->add_option("NODE", o->node, "name@host, or name for this host")->required();
    call->add_option("MODULE", o->module, "The module, e.g. lists")->required();
    call->add_option("FUNCTION", o->function, "The function, e.g. reverse")->required();
    call->add_option("ARGS", o->args, "The arguments as an Erlang list, e.g. '[[1,2,3]]'; - reads them from stdin")
        ->default_val("[]");
    add_node_options(*call, o->node_options);
    return {call, [o] { return run_call(*o); }};
}

} // namespace edist::cli
