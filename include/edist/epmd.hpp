// EPMD: the Erlang port mapper. A client (register a node, look names up, the administrative
// requests `epmd -names/-kill/-stop` send) and a server that can stand in for OTP's epmd.
//
// Two call styles, the same for every operation:
//   - sync:  `epmd::port_please("foo", {.port = 4369, .timeout = 2s})` blocks the calling thread
//            on a private io_context for at most `timeout` and returns a Result;
//   - async: `epmd::async_port_please(io, "foo", opts, callback)` starts the operation on the
//            caller's io_context and calls `callback(Result<...>)` exactly once, from a thread
//            running that io_context. `opts.timeout` bounds the whole operation.
// Errors carry reasons an Erlang user knows: econnrefused (no epmd there), timeout, closed
// (epmd hung up early), duplicate_name (ALIVE2 refused, as erl_epmd calls it), address (the
// NAMES reply names another epmd port, as erl_epmd checks), garbage_from_epmd, eaddrinuse.
// The protocol itself (bytes in, bytes out) lives in src/epmd/protocol.hpp and registry.hpp.
#pragma once

#include <edist/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio {
class io_context;
}

namespace edist::epmd {

inline constexpr std::uint16_t default_port_number = 4369;

// The epmd port OTP would use: ERL_EPMD_PORT if it holds a port number (erl turns it into
// -epmd_port, epmd and libei read it directly), else 4369. A value that is not a number in
// 1..65535 is ignored (OTP's epmd would atoi() it into 0, which is never what anyone meant).
std::uint16_t default_epmd_port();

// What a node registers (ALIVE2_REQ) and what PORT_PLEASE2 answers with.
struct NodeInfo {
    std::string name;                 // the part before '@', UTF-8, ≤ 255 characters
    std::uint16_t port = 0;           // the node's distribution listen port
    std::uint8_t node_type = 77;      // 'M' (normal); 'H' (72) hidden; epmd never interprets it
    std::uint8_t protocol = 0;        // 0 = TCP/IP
    std::uint16_t highest_version = 6;
    std::uint16_t lowest_version = 6; // edist speaks version 6 only (OTP 25's erl sends 6/5)
    std::string extra;                // ≤ 1020 bytes, opaque

    friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

struct NameEntry {  // one line of a NAMES reply: "name <name> at port <port>\n"
    std::string name;
    std::uint16_t port = 0;
    friend bool operator==(const NameEntry&, const NameEntry&) = default;
};

struct DumpEntry {  // one entry of a DUMP reply
    bool active = true;  // false: an "old/unused" name epmd remembers for its creation counter
    std::string name;
    std::uint16_t port = 0;
    int fd = 0;          // the registering connection's descriptor at the epmd
    friend bool operator==(const DumpEntry&, const DumpEntry&) = default;
};

struct DumpResult {
    std::uint32_t epmd_port = 0;  // as the epmd reports it
    std::vector<DumpEntry> entries;
    std::string text;             // the reply after the port, entries' trailing NULs removed
};

enum class StopResult {
    stopped,     // "STOPPED": the name was registered; its connection is closed now
    noexist,     // "NOEXIST" (OTP then also sends "STOPPED"; both are consumed)
    disallowed,  // no answer: epmd runs without relaxed_command_check (or we are not local)
};

// Where a client request goes. For register_node the host should stay loopback: epmd accepts
// registrations only from local peers.
struct ClientOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = default_epmd_port();
    std::chrono::milliseconds timeout{10'000};  // erl_epmd waits 10 s for a reply
};

// A live registration. The epmd keeps the name while the TCP connection stays open and silent;
// destroying the handle (or close()) closes it, and epmd unregisters the name. An async
// registration belongs to its io_context: close or destroy it from a thread running that
// context (or when the context is not running).
class Registration {
public:
    Registration() = default;  // no registration
    Registration(Registration&&) noexcept;
    Registration& operator=(Registration&&) noexcept;
    ~Registration();

    // The creation epmd assigned: 32-bit for highest_version ≥ 6, 1..3 for version 5.
    std::uint32_t creation() const noexcept { return creation_; }
    const NodeInfo& node() const noexcept { return node_; }
    bool active() const noexcept;
    void close() noexcept;

    // Async registrations only: calls `on_lost` once if epmd closes the connection (or writes
    // to it) while the registration is active; not called after close()/destruction.
    void on_lost(std::function<void(Error)> on_lost);

    struct State;  // implementation detail
    Registration(std::shared_ptr<State> state, std::uint32_t creation, NodeInfo node);

private:
    std::shared_ptr<State> state_;
    std::uint32_t creation_ = 0;
    NodeInfo node_;
};

// --- client: sync ------------------------------------------------------------------------------
Result<Registration> register_node(const NodeInfo& node, const ClientOptions& opts = {});
// std::nullopt when the name is not registered there (epmd answered PORT2_RESP with an error).
Result<std::optional<NodeInfo>> port_please(std::string_view name, const ClientOptions& opts = {});
// Registered names, in the order epmd lists them (empty: none registered). Fails with `closed`
// if the connection ends without a reply (every epmd sends at least its port), and with
// `address` if the epmd reports a port other than opts.port (erl_epmd's check, so a proxy
// cannot pose as another epmd; `edist epmd -names`, like OTP's epmd executable, does not check).
Result<std::vector<NameEntry>> names(const ClientOptions& opts = {});
Result<DumpResult> dump(const ClientOptions& opts = {});
// true: "OK" (epmd exits); false: "NO" (names are registered and epmd is not relaxed).
Result<bool> kill(const ClientOptions& opts = {});
Result<StopResult> stop(std::string_view name, const ClientOptions& opts = {});

// --- client: async (callback called once, on the io_context) ---------------------------------
template <class T>
using Callback = std::function<void(Result<T>)>;

void async_register_node(asio::io_context& io, const NodeInfo& node, const ClientOptions& opts,
                         Callback<Registration> cb);
void async_port_please(asio::io_context& io, std::string_view name, const ClientOptions& opts,
                       Callback<std::optional<NodeInfo>> cb);
void async_names(asio::io_context& io, const ClientOptions& opts,
                 Callback<std::vector<NameEntry>> cb);
void async_dump(asio::io_context& io, const ClientOptions& opts, Callback<DumpResult> cb);
void async_kill(asio::io_context& io, const ClientOptions& opts, Callback<bool> cb);
void async_stop(asio::io_context& io, std::string_view name, const ClientOptions& opts,
                Callback<StopResult> cb);

// --- server ------------------------------------------------------------------------------------
// Options mirror OTP's epmd flags (-port, -address, -relaxed_command_check, -packet_timeout,
// -delay_accept, -delay_write, -d).
struct ServerOptions {
    std::uint16_t port = default_epmd_port();  // 0: let the OS pick (see Server::port())
    // Listen addresses. Empty: all IPv4 and IPv6 addresses. Otherwise these plus 127.0.0.1 and
    // ::1, as OTP's epmd does with -address / ERL_EPMD_ADDRESS (other loopback addresses such
    // as 127.0.0.2 are listened on as listed).
    std::vector<std::string> addresses;
    bool relaxed_command_check = false;        // allow KILL with live names, and STOP
    std::chrono::seconds packet_timeout{60};   // idle limit for non-registration connections
    std::chrono::seconds delay_accept{0};      // test aids: simulate a busy server
    std::chrono::seconds delay_write{0};
    // Log levels as OTP's epmd: 0 errors, 1 requests, 2 connections. Lines of level ≤ debug
    // go to `log` (so level 0 always does); without a `log`, to stderr when debug > 0, else
    // nowhere. `edist epmd` passes a log that prints as OTP's epmd in the foreground.
    int debug = 0;
    std::size_t max_connections = 4096;        // beyond it the oldest idle request is dropped
    std::function<void(std::string_view line)> log;

    // Defaults with ERL_EPMD_PORT, ERL_EPMD_ADDRESS and ERL_EPMD_RELAXED_COMMAND_CHECK
    // applied, as OTP's epmd reads them.
    static ServerOptions from_environment();
};

// An epmd server on the caller's io_context. No threads of its own: it runs while the caller
// runs the io_context. Not thread-safe: call start()/stop()/the destructor before the context
// runs or from a thread running it (e.g. via asio::post).
class Server {
public:
    Server(asio::io_context& io, ServerOptions opts);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting. Fails with eaddrinuse if another epmd (or anything) holds
    // the port, so a node can embed an epmd only when none runs. Returns the bound port.
    Result<std::uint16_t> start();
    // Closes the listeners and every connection (registrations end). Idempotent.
    void stop();
    bool running() const noexcept;
    std::uint16_t port() const noexcept;
    // Called once when the server stops by itself (a KILL_REQ it accepted).
    void on_killed(std::function<void()> cb);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace edist::epmd
