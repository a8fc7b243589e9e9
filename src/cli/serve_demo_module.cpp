// edist_demo, a module written in C++ for erl and iex users (and tests) to call:
//
//   edist_demo:echo(X)            -> X
//   edist_demo:add(A, B)          -> A + B, integers of any size (else error:badarith)
//   edist_demo:fail(Class, R)     -> raises error:R, exit:R or throw:R
//   edist_demo:sleep(Ms)          -> ok, after Ms milliseconds
//   edist_demo:loop()             a process (spawn it): {Pid, Msg} sends Msg to Pid; stop ends it
//   edist_demo:print(Format, Args) io:format through the caller's group leader -> ok
#include "serve_demo_module.hpp"

#include <edist/exports.hpp>
#include <edist/gen_server.hpp>
#include <edist/io.hpp>

namespace edist::cli {

namespace {

std::string format_text(const Term& t) {
    if (t.is_atom()) return t.as_atom().str();
    if (t.is_binary()) return std::string(t.as_binary_view());
    return t.as_string(); // a flat list of code points; anything else is badarg
}

Task<Term> demo_echo(Self, Args args) { co_return args[0]; }

Task<Term> demo_add(Self, Args args) {
    if (!args[0].is_integer() || !args[1].is_integer()) raise_error(atom("badarith"));
    co_return Term(args[0].as_bigint() + args[1].as_bigint());
}

Task<Term> demo_fail(Self, Args args) {
    const Term& cls = args[0];
    if (cls.is_atom(atoms::error)) raise_error(args[1]);
    if (cls.is_atom(atom("exit"))) raise_exit(args[1]);
    if (cls.is_atom(atom("throw"))) raise_throw(args[1]);
    raise_error(atoms::badarg);
}

Task<Term> demo_sleep(Self self, Args args) {
    // As `receive after Ms`: a negative or non-integer time is error:timeout_value.
    if (!args[0].is_int64() || args[0].as_int64() < 0) raise_error(atom("timeout_value"));
    const auto ms = std::chrono::milliseconds(args[0].as_int64());
    co_await self.sleep(ms);
    co_return Term(atoms::ok);
}

Task<Term> demo_loop(Self self, Args) {
    for (;;) {
        auto msg = co_await self.receive();
        if (!msg || msg->is_atom(atom("stop"))) co_return Term(atoms::ok);
        if (msg->is_tuple(2) && (*msg)[0].is_pid()) self.send((*msg)[0].as_pid(), (*msg)[1]);
    }
}

Task<Term> demo_print(Self self, Args args) {
    // Copied before the first suspension: `args` belongs to the caller.
    const std::string format = format_text(args[0]);
    const Term fmt_args = args[1];
    if (!fmt_args.is_list()) raise_error(atoms::badarg);
    auto r = co_await io::format(self, format, fmt_args);
    if (!r) raise_error(Term(r.error().reason()));
    co_return Term(atoms::ok);
}

Task<> echo_body(Self self) {
    const Atom gen_call = atom("$gen_call");
    for (;;) {
        auto msg = co_await self.receive();
        if (!msg) co_return;
        if (msg->is_tuple(2) && (*msg)[0].is_pid()) {
            self.send((*msg)[0].as_pid(), (*msg)[1]);
        } else if (msg->is_tuple(3) && (*msg)[0].is_atom(gen_call) && (*msg)[1].is_tuple(2) &&
                   (*msg)[1][0].is_pid()) {
            gen_server::reply(self, gen_server::From{(*msg)[1][0].as_pid(), (*msg)[1][1]}, (*msg)[2]);
        }
        // Anything else is dropped, as a receive with a catch-all clause would.
    }
}

} // namespace

void export_demo_module(Node& node) {
    node.export_function("edist_demo", "echo", 1, demo_echo);
    node.export_function("edist_demo", "add", 2, demo_add);
    node.export_function("edist_demo", "fail", 2, demo_fail);
    node.export_function("edist_demo", "sleep", 1, demo_sleep);
    node.export_function("edist_demo", "loop", 0, demo_loop);
    node.export_function("edist_demo", "print", 2, demo_print);
}

Result<Pid> spawn_echo(Node& node) {
    SpawnOptions o;
    o.register_name = "echo";
    return node.spawn(echo_body, o);
}

} // namespace edist::cli
