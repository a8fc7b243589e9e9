// Tick bookkeeping for one connection, sans I/O: the runtime calls on_interval() from a timer
// every net_ticktime / intensity and acts on the answer. Never driven from inside a receive.
#pragma once

#include <chrono>

namespace edist::dist {

class Ticker {
public:
    enum class Action { none, send_tick, peer_down, send_tick_and_peer_down };

    explicit Ticker(std::chrono::milliseconds net_ticktime = std::chrono::seconds(60), int intensity = 4)
        : interval_(net_ticktime / intensity), intensity_(intensity) {}

    std::chrono::milliseconds interval() const noexcept { return interval_; }

    // `received`: anything arrived during the interval just ended; `sent`: anything was written.
    // As in OTP: write a tick after an interval without writing; declare the peer down after
    // `intensity` intervals in a row without reading anything (45-75 s with the defaults).
    Action on_interval(bool received, bool sent) noexcept {
        silent_ = received ? 0 : silent_ + 1;
        bool down = silent_ >= intensity_;
        bool tick = !sent;
        if (down && tick) return Action::send_tick_and_peer_down;
        if (down) return Action::peer_down;
        return tick ? Action::send_tick : Action::none;
    }

private:
    std::chrono::milliseconds interval_;
    int intensity_;
    int silent_ = 0;
};

} // namespace edist::dist
