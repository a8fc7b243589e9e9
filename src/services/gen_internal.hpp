// Helpers shared by gen_server's server half, its client half and the supervisor.
#pragma once

#include <edist/node.hpp>
#include <edist/process.hpp>
#include <edist/term.hpp>

#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string_view>

namespace edist::gen_server::detail {

// The exit reason of a callback that threw (call only while handling the exception).
Term exception_reason(std::exception_ptr e);

bool is_tagged(const Term& t, std::string_view tag, std::size_t arity);
bool is_down_for(const Term& t, const Term& ref);

// Runs `body` in a temporary process and waits for its result on this (non-node) thread.
template <class T>
T run_blocking(Node& node, std::function<Task<T>(Self)> body) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    auto pid = node.spawn([promise, body = std::move(body)](Self self) -> Task<> {
        std::exception_ptr failed;
        try {
            promise->set_value(co_await body(self));
        } catch (const std::exception&) {
            failed = std::current_exception();
        }
        if (failed) promise->set_exception(failed);
    });
    if (!pid) throw pid.error();
    return future.get();
}

} // namespace edist::gen_server::detail
