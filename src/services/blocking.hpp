// Blocking forms of the services' coroutine calls, for plain threads.
#pragma once

#include <edist/node.hpp>
#include <edist/process.hpp>

#include <exception>
#include <functional>
#include <future>
#include <memory>

namespace edist::services {

// Runs `body` in a temporary process and waits for its result on this (non-node) thread; an
// exception out of `body` is rethrown here.
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

} // namespace edist::services
