// edist::Transport and edist::Resolver: how a node's bytes move, and how a node name becomes
// somewhere to connect. A node takes one of each (NodeOptions::transport, ::resolver); the
// defaults are TCP and epmd, as erl's.
//
//   // epmd-less, as erl -erl_epmd_port 12345 -start_epmd false: every node listens on 12345.
//   opts.resolver = edist::static_resolver(12345);
//   // or a map of node name -> host and port:
//   opts.resolver = edist::static_resolver({.nodes = {{"a@db1", {"10.0.0.5", 4370}}}});
//
// A custom carrier (TLS, a Unix socket, a test pipe) implements Transport, Acceptor and Stream;
// a custom name service (DNS SRV, a config file, Kubernetes) implements Resolver. See
// docs/TRANSPORT.md. Unlike <edist/node.hpp>, this header needs Asio.
#pragma once

#include <edist/error.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace asio {
class io_context;
}

namespace edist {

// A move-only callable that keeps callables up to `Inline` bytes inside itself, so handing a
// completion handler through the virtual Stream interface costs no allocation (std::function
// would allocate for a lambda holding a shared_ptr). Larger callables go to the heap.
template <class Signature, std::size_t Inline = 48>
class UniqueHandler;

template <class R, class... Args, std::size_t Inline>
class UniqueHandler<R(Args...), Inline> {
public:
    UniqueHandler() noexcept = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueHandler>>>
    UniqueHandler(F&& f) { // NOLINT: implicit, like std::function
        using Fn = std::decay_t<F>;
        if constexpr (sizeof(Fn) <= Inline && alignof(Fn) <= alignof(std::max_align_t) &&
                      std::is_nothrow_move_constructible_v<Fn>) {
            ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
            ops_ = &inline_ops<Fn>;
        } else {
            *reinterpret_cast<Fn**>(storage_) = new Fn(std::forward<F>(f));
            ops_ = &heap_ops<Fn>;
        }
    }
    UniqueHandler(UniqueHandler&& o) noexcept : ops_(o.ops_) {
        if (ops_) ops_->move(o.storage_, storage_);
        o.ops_ = nullptr;
    }
    UniqueHandler& operator=(UniqueHandler&& o) noexcept {
        if (this != &o) {
            reset();
            ops_ = o.ops_;
            if (ops_) ops_->move(o.storage_, storage_);
            o.ops_ = nullptr;
        }
        return *this;
    }
    UniqueHandler(const UniqueHandler&) = delete;
    UniqueHandler& operator=(const UniqueHandler&) = delete;
    ~UniqueHandler() { reset(); }

    explicit operator bool() const noexcept { return ops_ != nullptr; }
    R operator()(Args... args) { return ops_->call(storage_, std::forward<Args>(args)...); }

private:
    struct Ops {
        R (*call)(void*, Args&&...);
        void (*move)(void* from, void* to) noexcept;
        void (*destroy)(void*) noexcept;
    };
    template <class Fn>
    static constexpr Ops inline_ops{
        [](void* s, Args&&... a) -> R { return (*static_cast<Fn*>(s))(std::forward<Args>(a)...); },
        [](void* from, void* to) noexcept {
            ::new (to) Fn(std::move(*static_cast<Fn*>(from)));
            static_cast<Fn*>(from)->~Fn();
        },
        [](void* s) noexcept { static_cast<Fn*>(s)->~Fn(); }};
    template <class Fn>
    static constexpr Ops heap_ops{
        [](void* s, Args&&... a) -> R { return (**static_cast<Fn**>(s))(std::forward<Args>(a)...); },
        [](void* from, void* to) noexcept { *static_cast<Fn**>(to) = *static_cast<Fn**>(from); },
        [](void* s) noexcept { delete *static_cast<Fn**>(s); }};
    void reset() noexcept {
        if (ops_) ops_->destroy(storage_);
        ops_ = nullptr;
    }

    alignas(std::max_align_t) unsigned char storage_[Inline];
    const Ops* ops_ = nullptr;
};

// --- Resolver: node name -> where to connect ------------------------------------------------

// Where a node listens.
struct NodeAddress {
    std::string host; // a host name or an IP literal
    std::uint16_t port = 0;
    // The highest distribution version the peer speaks, when the resolver knows it (epmd's
    // PORT2_RESP says; a static map does not). Informational: edist speaks version 6, and
    // accepts the version-5 name message OTP 23/24 send when they cannot know ours.
    std::optional<std::uint16_t> version;
};

// What registering a listening node left behind.
struct NodeRegistration {
    std::uint32_t creation = 0; // goes into every pid, port and ref of this node
    // Whatever keeps the registration in force (epmd: the open connection to it, and an
    // in-process epmd if one was started); released when the node stops.
    std::shared_ptr<void> handle;
};

// OTP's -epmd_module in C++: the callbacks erl_epmd implements (listen_port_please,
// register_node, address_please), made asynchronous where a connection waits for them. One
// resolver may serve several nodes at once.
class Resolver {
public:
    virtual ~Resolver() = default;
    // The port the node alive@host must listen on, when the resolver decides it (a static
    // port); std::nullopt: NodeOptions::listen_port decides (0: any free port). A non-zero
    // NodeOptions::listen_port always wins.
    virtual std::optional<std::uint16_t> listen_port_please(std::string_view alive, std::string_view host) {
        (void)alive;
        (void)host;
        return std::nullopt;
    }
    // Publishes that alive@host listens on `port`; called once from Node::start, which it may
    // block for at most `timeout`. The creation it returns goes into the node's identifiers.
    virtual Result<NodeRegistration> register_node(asio::io_context& io, std::string_view alive, std::string_view host,
                                                   std::uint16_t port, std::chrono::milliseconds timeout) = 0;
    // Where alive@host listens. Calls `handler` exactly once, on any thread; an error's reason
    // ends the connection attempt (nodedown).
    virtual void async_address_please(asio::io_context& io, std::string_view alive, std::string_view host,
                                      std::chrono::milliseconds timeout,
                                      UniqueHandler<void(Result<NodeAddress>)> handler) = 0;
};

struct EpmdResolverOptions {
    std::uint16_t port = 0; // epmd's port; 0: $ERL_EPMD_PORT or 4369
    // When no epmd answers on `port`, start one in-process so a lone program needs no daemon.
    bool embedded_epmd = true;
    // Register with epmd (ALIVE2); without it the node is reachable only by its port and
    // takes creation 1.
    bool register_node = true;
    // Informational lines (that an epmd was started in-process, and what that epmd refused:
    // garbage, oversized or partial requests). The node's default resolver sends them to
    // NodeOptions::log at info level.
    std::function<void(std::string_view)> log;
};
// The default: names are looked up with PORT_PLEASE2 at the epmd of the node's host, and this
// node registers with ALIVE2 at the local epmd.
std::shared_ptr<Resolver> epmd_resolver(EpmdResolverOptions options = {});

struct StaticResolverOptions {
    // Every node listens on this port, this node included, as with erl's
    // `-erl_epmd_port P -start_epmd false` (ERL_DIST_PORT in OTP 26+): the address is the
    // node name's host part. 0: only `nodes` are known.
    std::uint16_t port = 0;
    // Exact entries, by full node name ("name@host"), looked up first. An entry for this node
    // also sets the port it listens on.
    std::map<std::string, NodeAddress, std::less<>> nodes;
};
// epmd-less: no daemon is contacted, ever. The node's creation is random (4..2^32-1), as OTP
// picks it when it runs without epmd.
std::shared_ptr<Resolver> static_resolver(StaticResolverOptions options);
inline std::shared_ptr<Resolver> static_resolver(std::uint16_t port) {
    return static_resolver(StaticResolverOptions{port, {}});
}

// --- Transport: how bytes move --------------------------------------------------------------

class Stream;
using IoHandler = UniqueHandler<void(std::error_code, std::size_t)>;
using ConnectHandler = UniqueHandler<void(std::error_code)>;
using AcceptHandler = UniqueHandler<void(std::error_code, std::unique_ptr<Stream>)>;

// One connection's byte stream, in Asio's shape (an AsyncReadStream / AsyncWriteStream behind
// a virtual call). Completion handlers run on get_executor() — for a node, the connection's
// strand — never inside the initiating call. At most one read and one write are outstanding.
class Stream {
public:
    using executor_type = asio::any_io_executor;
    virtual ~Stream() = default;
    virtual executor_type get_executor() = 0;
    // Dials `to` (resolving the host) and, for a secure carrier, completes its own handshake
    // (TLS) before reporting success.
    virtual void async_connect(const NodeAddress& to, ConnectHandler handler) = 0;
    virtual void async_read_some(asio::mutable_buffer buffer, IoHandler handler) = 0;
    virtual void async_write_some(asio::const_buffer buffer, IoHandler handler) = 0;
    // Writes what the carrier takes at once, without waiting and without a handler: the bytes
    // written (maybe fewer than asked; the caller goes on with async_write_some), or 0 with
    // `ec` set (asio::error::would_block when nothing could be written now). Called on the
    // stream's executor, never while an async_write_some is outstanding. Saves a write its
    // trip through the executor's queue and the poll that trip costs; a carrier that cannot
    // (TLS, whose records are written by its own machinery) keeps this default.
    virtual std::size_t try_write_some(asio::const_buffer buffer, std::error_code& ec) {
        (void)buffer;
        ec = asio::error::would_block;
        return 0;
    }
    // Gathering forms of the two writes above (writev): the buffers are one run of bytes, in
    // order, and the count written may end anywhere in it. `buffers` stays valid until the
    // handler runs. The defaults write the first non-empty buffer alone: correct, only a
    // write per buffer where a carrier that gathers makes one. The node writes large
    // binaries from where they are this way, instead of copying them into its buffer.
    virtual void async_write_some_gather(std::span<const asio::const_buffer> buffers, IoHandler handler) {
        async_write_some(first_non_empty(buffers), std::move(handler));
    }
    virtual std::size_t try_write_some_gather(std::span<const asio::const_buffer> buffers, std::error_code& ec) {
        return try_write_some(first_non_empty(buffers), ec);
    }
    // Ends the stream; outstanding operations complete with asio::error::operation_aborted.
    virtual void close() = 0;
    // Whether handshake messages carry 4-byte lengths, as inside OTP's TLS distribution
    // ({packet,4}); plain TCP uses 2.
    virtual bool handshake_len32() const noexcept { return false; }

private:
    static asio::const_buffer first_non_empty(std::span<const asio::const_buffer> buffers) noexcept {
        for (const auto& b : buffers)
            if (b.size() != 0) return b;
        return {};
    }
};

class Acceptor {
public:
    virtual ~Acceptor() = default;
    // The port to register (0 when the carrier has none, e.g. a Unix socket).
    virtual std::uint16_t port() const = 0;
    // The next incoming stream, whose handlers will run on `stream_executor`.
    virtual void async_accept(asio::any_io_executor stream_executor, AcceptHandler handler) = 0;
    virtual void close() = 0;
};

class Transport {
public:
    virtual ~Transport() = default;
    // Starts listening (synchronously, from Node::start) on `address` and `port` (0: any).
    virtual Result<std::unique_ptr<Acceptor>> listen(asio::io_context& io, const std::string& address,
                                                     std::uint16_t port) = 0;
    // An unconnected stream for an outgoing connection; Stream::async_connect dials.
    virtual std::unique_ptr<Stream> make_stream(asio::any_io_executor executor) = 0;
};

// The default: TCP with TCP_NODELAY, as inet_tcp_dist.
std::shared_ptr<Transport> tcp_transport();

} // namespace edist
