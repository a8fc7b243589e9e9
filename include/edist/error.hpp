// Errors as values: an Erlang-recognisable reason plus a human message.
#pragma once

#include <edist/atom.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace edist {

// Thrown by the throwing APIs; returned inside Result by the non-throwing ones.
// `reason()` is what an Erlang user would see (badarg, system_limit, noproc, ...);
// `what()` is a one-line human message; `offset()` is the byte offset in the input a
// decoder or parser was reading when it failed (npos when not about input).
class Error : public std::runtime_error {
public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    Error(Atom reason, std::string message, std::size_t offset = npos)
        : std::runtime_error(std::move(message)), reason_(reason), offset_(offset) {}

    Atom reason() const noexcept { return reason_; }
    std::size_t offset() const noexcept { return offset_; }
    std::string message() const { return what(); }

private:
    Atom reason_;
    std::size_t offset_;
};

// A value or an Error, for paths where bad input is routine (the network) and exceptions
// would be the wrong tool. `value()` throws the Error if there is none.
template <class T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & {
        if (!ok()) throw std::get<1>(v_);
        return std::get<0>(v_);
    }
    const T& value() const& {
        if (!ok()) throw std::get<1>(v_);
        return std::get<0>(v_);
    }
    T&& value() && {
        if (!ok()) throw std::get<1>(v_);
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

} // namespace edist
