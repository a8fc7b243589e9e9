// The epmd server as a sans-I/O state machine: connections, the node registry, and the rules
// for what each request may do. The runtime (server.cpp) owns sockets and clocks; it tells the
// core what happened and carries out the actions the core hands back, in order.
#pragma once

#include "epmd/protocol.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edist::epmd {

class ServerCore {
public:
    using ConnId = int;  // chosen by the runtime, unique among open connections; DUMP shows it
                         // as "fd", so the runtime passes the socket descriptor
    using Clock = std::chrono::steady_clock;

    // OTP remembers this many unregistered names (5 under -d) to keep bumping their creation.
    static constexpr std::size_t max_unreg_count = 1000;
    static constexpr std::size_t debug_max_unreg_count = 5;

    struct Options {
        std::uint32_t epmd_port = default_port_number;  // reported in NAMES and DUMP
        bool relaxed_command_check = false;
        std::chrono::seconds packet_timeout{60};
        int debug = 0;
        std::size_t max_connections = 4096;
        std::function<void(int level, std::string_view line)> log;  // level ≤ debug only
    };

    struct Action {
        enum class Kind {
            write,  // send `bytes` on `conn`
            close,  // close `conn` once what was written before has been sent
            exit,   // KILL accepted: stop the whole server (after the writes before it)
        };
        Kind kind;
        ConnId conn = -1;
        protocol::Bytes bytes;
    };
    using Actions = std::vector<Action>;

    // Wall-clock seconds seed new creation counters (as OTP's time(NULL)); the monotonic time
    // drives timeouts.
    struct Now {
        Clock::time_point mono;
        std::int64_t unix_seconds = 0;
    };

    explicit ServerCore(Options opts);

    // A connection was accepted. `local_peer`: the peer is loopback or our own address; only
    // such peers may register, dump, kill or stop.
    Actions open(ConnId conn, bool local_peer, Clock::time_point now);
    // Bytes arrived on `conn`.
    Actions receive(ConnId conn, std::span<const std::uint8_t> bytes, Now now);
    // The peer closed (EOF) or the socket failed; the runtime has closed it already.
    Actions closed(ConnId conn);
    // Closes request connections idle longer than packet_timeout.
    Actions tick(Clock::time_point now);
    std::optional<Clock::time_point> next_deadline() const;

    // Registered names, newest first (the order NAMES lists them).
    std::vector<NodeInfo> registered() const;
    std::size_t connection_count() const noexcept { return conns_.size(); }
    std::size_t unregistered_count() const noexcept { return unreg_.size(); }
    const Options& options() const noexcept { return opts_; }

private:
    struct Connection {
        protocol::RequestParser parser;
        bool local_peer = false;
        bool keep = false;  // an ALIVE2 connection: lives as long as the registration
        Clock::time_point last_activity;
    };
    struct Node {
        NodeInfo info;
        ConnId conn = -1;
        std::uint32_t cr_counter = 0;
        std::uint32_t creation() const;
    };

    void log(int level, std::string_view line) const;
    void handle(ConnId id, Connection& c, const protocol::Request& req, Now now, Actions& out);
    void alive2(ConnId id, Connection& c, const NodeInfo& info, Now now, Actions& out);
    std::optional<Node> register_node(ConnId id, const NodeInfo& info, Now now);
    // Moves the node(s) matching to the unregistered list; returns the connection it held.
    std::optional<ConnId> unregister_name(std::string_view name);
    void unregister_conn(ConnId id);
    void forget(ConnId id, Actions& out);

    Options opts_;
    std::unordered_map<ConnId, Connection> conns_;
    std::vector<Node> reg_;    // newest first
    std::deque<Node> unreg_;   // oldest first
};

}  // namespace edist::epmd
