// Ticks, sans I/O: Ticker is one connection's bookkeeping (the runtime calls on_interval() from
// a timer and acts on the answer; never from inside a receive), NetTicktime the node's tick
// time and its changes (net_kernel:set_net_ticktime/2). Time is passed in.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

namespace edist::dist {

// How a connection ticks: a tick written after `send_every` without writing, the peer declared
// down after `down_after` without reading anything.
struct TickSchedule {
    std::chrono::milliseconds send_every;
    std::chrono::milliseconds down_after;
    // OTP's schedule for a tick time: a quarter of it (net_tickintensity 4), and all of it.
    static TickSchedule steady(std::chrono::milliseconds ticktime, int intensity = 4) {
        return {ticktime / intensity, ticktime};
    }
};

class Ticker {
public:
    enum class Action { none, send_tick, peer_down, send_tick_and_peer_down };

    explicit Ticker(std::chrono::milliseconds net_ticktime = std::chrono::seconds(60), int intensity = 4)
        : schedule_(TickSchedule::steady(net_ticktime, intensity)) {}
    explicit Ticker(TickSchedule s) : schedule_(s) {}

    std::chrono::milliseconds interval() const noexcept { return schedule_.send_every; }
    // Takes effect from the next interval; the silence heard so far still counts.
    void retime(TickSchedule s) noexcept { schedule_ = s; }

    // `received`: anything arrived during the interval just ended; `sent`: anything was written.
    // As in OTP: write a tick after an interval without writing; declare the peer down once
    // nothing has been read for down_after (four intervals in a row with a steady schedule:
    // 45-75 s after the peer went silent with the defaults).
    Action on_interval(bool received, bool sent) noexcept {
        silent_ = received ? std::chrono::milliseconds(0) : silent_ + schedule_.send_every;
        bool down = silent_ >= schedule_.down_after;
        bool tick = !sent;
        if (down && tick) return Action::send_tick_and_peer_down;
        if (down) return Action::peer_down;
        return tick ? Action::send_tick : Action::none;
    }

private:
    TickSchedule schedule_;
    std::chrono::milliseconds silent_{0};
};

// A node's net_ticktime, changed as net_kernel:set_net_ticktime(T, TransitionPeriod) changes
// it. A change takes the transition period, during which connections tick for both the old
// and the new tick time: they write ticks often enough for the shorter one and wait the longer
// one before declaring a peer down, so that peers making the same change a little earlier or
// later (rpc:multicall(net_kernel, set_net_ticktime, [T]) reaches them one by one) neither drop
// this node nor are dropped by it. A change asked for while one is under way is refused.
class NetTicktime {
public:
    using Clock = std::chrono::steady_clock;
    enum class Outcome { unchanged, change_initiated, ongoing_change_to };

    explicit NetTicktime(std::chrono::milliseconds ticktime) : ticktime_(ticktime) {}

    // The tick time, or the one being changed to (`changing`), as get_net_ticktime answers.
    struct Reading {
        std::chrono::milliseconds ticktime;
        bool changing;
    };
    Reading get(Clock::time_point now) {
        settle(now);
        return change_ ? Reading{change_->to, true} : Reading{ticktime_, false};
    }

    // unchanged (already `ticktime`), change_initiated, or ongoing_change_to with the tick time
    // an earlier change is still moving to; the tick time in each case is what get() then says.
    std::pair<Outcome, std::chrono::milliseconds> set(std::chrono::milliseconds ticktime,
                                                     std::chrono::milliseconds transition, Clock::time_point now) {
        settle(now);
        if (change_) return {Outcome::ongoing_change_to, change_->to};
        if (ticktime == ticktime_) return {Outcome::unchanged, ticktime_};
        change_ = Change{ticktime, now + transition};
        settle(now); // a transition of 0 ends at once
        return {Outcome::change_initiated, ticktime};
    }

    TickSchedule schedule(Clock::time_point now) {
        settle(now);
        if (!change_) return TickSchedule::steady(ticktime_);
        return {std::min(ticktime_, change_->to) / 4, std::max(ticktime_, change_->to)};
    }

    // When the change under way ends, if one is.
    std::optional<Clock::time_point> change_ends() const {
        return change_ ? std::optional(change_->ends) : std::nullopt;
    }

private:
    struct Change {
        std::chrono::milliseconds to;
        Clock::time_point ends;
    };
    void settle(Clock::time_point now) {
        if (change_ && now >= change_->ends) {
            ticktime_ = change_->to;
            change_.reset();
        }
    }

    std::chrono::milliseconds ticktime_;
    std::optional<Change> change_;
};

} // namespace edist::dist
