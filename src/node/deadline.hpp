// Deadlines for the blocking calls: a timeout of `infinity` (milliseconds::max()), or any
// timeout too long to add to now(), gives a time point that never passes instead of an
// overflowed one in the past.
#pragma once

#include <chrono>
#include <condition_variable>

namespace edist::detail {

using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline never = Deadline::max();

inline Deadline deadline_after(std::chrono::milliseconds timeout) {
    const Deadline now = std::chrono::steady_clock::now();
    if (timeout <= std::chrono::milliseconds::zero()) return now;
    if (timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(never - now)) return never;
    return now + timeout;
}

// What is left until `deadline`, in milliseconds: infinity for `never`, zero once it passed.
inline std::chrono::milliseconds time_left(Deadline deadline) {
    if (deadline == never) return std::chrono::milliseconds::max();
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left < std::chrono::milliseconds::zero() ? std::chrono::milliseconds::zero() : left;
}

// cv.wait_until(lock, deadline), waiting without a timeout for `never`. True on timeout.
template <class CV, class Lock>
bool wait_until(CV& cv, Lock& lock, Deadline deadline) {
    if (deadline == never) {
        cv.wait(lock);
        return false;
    }
    return cv.wait_until(lock, deadline) == std::cv_status::timeout;
}

} // namespace edist::detail
