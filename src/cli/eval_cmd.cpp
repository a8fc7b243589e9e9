// `edist eval NODE 'Expressions.'`: the remote BEAM node scans, parses and evaluates the text
// (erl_scan:string, erl_parse:parse_exprs, erl_eval:exprs, each through erpc) and the value is
// printed as ~p prints it, like erl_call -e (which reads the text from stdin: `-` does that).
// Output of io:format in the expressions comes here, as with erl_call -fetch_stdout: the
// evaluating process's group leader is this node's I/O server.
#include "command.hpp"
#include "io.hpp"
#include "node_options.hpp"

#include <edist/rpc.hpp>
#include <edist/text.hpp>

#include <fmt/core.h>

#include <memory>
#include <utility>
#include <vector>

namespace edist::cli {

namespace {

struct EvalOptions {
    std::string node;
    std::string expression;
    NodeCommandOptions node_options;
};

// A deep list of characters and binaries (what format_error returns) as UTF-8.
void flatten_chars(const Term& t, std::string& out) {
    if (t.is_binary()) {
        out += t.as_binary_view();
    } else if (t.is_int64() && t.as_int64() >= 0 && t.as_int64() <= 0x10FFFF) {
        out += list(t).as_string(); // one code point as UTF-8
    } else if (t.is_list()) {
        auto l = t.as_list();
        for (const Term& e : l) flatten_chars(e, out);
    } else {
        out += to_string(t);
    }
}

struct Step {
    Node& node;
    Atom peer;
    Deadline deadline; // shared by every call: --timeout bounds the whole command
    CallOutcome call(Atom module, Atom function, Term args) const {
        CallOptions opts;
        opts.timeout = deadline.left();
        return erpc::call(node, peer, module, function, std::move(args), opts);
    }
    CallOutcome call(const char* module, const char* function, Term args) const {
        return call(atom(module), atom(function), std::move(args));
    }
};

// ErrorInfo = {Location, Module, Descriptor}: Module:format_error(Descriptor) on the peer.
std::string describe_error(const Step& step, const Term& info) {
    if (!info.is_tuple(3) || !info[1].is_atom()) return to_string(info);
    auto text = step.call(info[1].as_atom(), atom("format_error"), list(info[2]));
    std::string where;
    const Term& loc = info[0];
    if (loc.is_integer()) where = fmt::format("line {}: ", to_string(loc));
    else if (loc.is_tuple(2)) where = fmt::format("line {}, column {}: ", to_string(loc[0]), to_string(loc[1]));
    if (!text.ok) return where + to_string(info[2]);
    std::string s;
    flatten_chars(text.value, s);
    return where + s;
}

// erl_scan:string's tokens cut into forms, each ending with its `.` token; a final `.` is added
// when the text has none (after a trailing comment, too).
std::vector<Term> split_forms(const Term& tokens, const Term& end_location) {
    const Atom dot = atom("dot");
    std::vector<Term> forms;
    std::vector<Term> form;
    for (const Term& t : tokens.as_list()) {
        form.push_back(t);
        if (t.is_tuple(2) && t[0].is_atom(dot)) forms.push_back(list_from(std::exchange(form, {})));
    }
    if (!form.empty()) {
        form.push_back(tuple(dot, end_location));
        forms.push_back(list_from(std::move(form)));
    }
    return forms;
}

int run_eval(const EvalOptions& o) {
    const std::string peer = full_node_name(o.node);
    if (peer.empty()) return fail(fmt::format("eval: not a node name: {}", o.node));
    std::string error;
    const auto text = argument_or_stdin(o.expression, error); // "-": stdin, as erl_call -e reads it
    if (!text) return fail(fmt::format("eval: {}", error));
    const std::string& source = *text;
    if (source.find_first_not_of(" \t\r\n") == std::string::npos) return fail("eval: no expression given");
    Term chars; // erl_scan reads characters: the UTF-8 text as code points
    try {
        chars = string(source);
    } catch (const Error& e) {
        return fail(fmt::format("eval: EXPRESSIONS: {}", e.what()));
    }

    NodeGuard guard{start_command_node(o.node_options, peer)};
    if (!guard.node) return exit_failure;
    const Step step{*guard.node, atom(peer), Deadline(*parse_timeout(o.node_options.timeout))};
    if (!connect_or_report(*guard.node, "eval", peer, step.deadline.left())) return exit_failure;

    auto scanned = step.call("erl_scan", "string", list(chars));
    if (!scanned.ok && scanned.cls == ErlangClass::error && scanned.value.is_atom(atom("undef")))
        return fail(fmt::format("eval: undef: '{}' has no erl_scan:string/1; only a BEAM node can evaluate Erlang "
                                "(edist call runs a function anywhere)",
                                peer));
    if (!scanned.ok) return report_call_failure("eval", "erl_scan:string/1", peer, scanned, o.node_options.timeout);
    // {ok, Tokens, EndLocation} | {error, ErrorInfo, ErrorLocation}
    const Term& s = scanned.value;
    if (s.is_tuple(3) && s[0].is_atom(atoms::error))
        return fail(fmt::format("eval: syntax error: {}", describe_error(step, s[1])));
    if (!s.is_tuple(3) || !s[0].is_atom(atoms::ok) || !s[1].is_proper_list())
        return fail(fmt::format("eval: erl_scan:string/1 answered {}", to_string(s)));
    if (s[1].as_list().size() == 0) return fail("eval: no expression given");

    // Each form parsed on its own (so a syntax error names what the user wrote), then all of
    // them evaluated as one sequence: "X = 1. X + 1." as "X = 1, X + 1.", each form seeing the
    // bindings of those before it, as in the shell.
    std::vector<Term> exprs;
    for (const Term& form : split_forms(s[1], s[2])) {
        auto parsed = step.call("erl_parse", "parse_exprs", list(form));
        if (!parsed.ok)
            return report_call_failure("eval", "erl_parse:parse_exprs/1", peer, parsed, o.node_options.timeout);
        const Term& p = parsed.value; // {ok, Exprs} | {error, ErrorInfo}
        if (p.is_tuple(2) && p[0].is_atom(atoms::error))
            return fail(fmt::format("eval: syntax error: {}", describe_error(step, p[1])));
        if (!p.is_tuple(2) || !p[0].is_atom(atoms::ok) || !p[1].is_proper_list())
            return fail(fmt::format("eval: erl_parse:parse_exprs/1 answered {}", to_string(p)));
        exprs.insert(exprs.end(), p[1].as_list().begin(), p[1].as_list().end());
    }

    auto value = step.call("erl_eval", "exprs", list(list_from(std::move(exprs)), Term()));
    if (!value.ok) return report_call_failure("eval", "the expression", peer, value, o.node_options.timeout);
    const Term& v = value.value; // {value, Value, NewBindings}
    if (!v.is_tuple(3) || !v[0].is_atom(atom("value")))
        return fail(fmt::format("eval: erl_eval:exprs/2 answered {}", to_string(v)));
    fmt::print("{}\n", to_pretty_string(v[1]));
    return exit_ok;
}

} // namespace

Command add_eval_command(CLI::App& root) {
    auto o = std::make_shared<EvalOptions>();
    auto* eval = root.add_subcommand("eval", "Have a BEAM node evaluate Erlang expressions and print the value");
    eval->add_option("NODE", o->node, "name@host, or name for this host")->required();
    eval->add_option("EXPRESSIONS", o->expression,
                     "Erlang expressions, e.g. 'X = 6, X * 7.' (the final . is optional; several forms "
                     "'X = 6. X * 7.' share their bindings); - reads them from stdin")
        ->required();
    add_node_options(*eval, o->node_options);
    return {eval, [o] { return run_eval(*o); }};
}

} // namespace edist::cli
