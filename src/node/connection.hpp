// One distribution connection: the thin Asio runtime around the sans-I/O handshake and channel.
#pragma once

#include "dist/channel.hpp"
#include "dist/ticker.hpp"
#include "handshake/handshake.hpp"
#include "node/node_impl.hpp"

#include <asio.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

namespace edist {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    enum class State { connecting, handshaking, up, closed };

    Connection(Node::Impl& node, Atom peer);
    ~Connection();

    void start_outgoing();
    void start_incoming(asio::ip::tcp::socket socket);

    // Any thread. Queued until the connection is up; dropped once it is closed.
    void send(dist::Signal signal);
    bool wait_up(std::chrono::milliseconds timeout);
    bool is_up() const;
    bool is_closed() const;
    Atom peer() const;
    bool outgoing() const noexcept { return outgoing_; }
    void close(Term reason);
    // Hands queued signals over to the connection that replaces this attempt.
    std::vector<dist::Signal> take_pending();

private:
    void resolved(Result<std::optional<epmd::NodeInfo>> info);
    void connected(const std::error_code& ec);
    void begin_handshake(bool initiator);
    void handshake_progress();
    void arm_handshake_timer();
    void went_up(handshake::Completed done);
    void read();
    void on_read(const std::error_code& ec, std::size_t n);
    void consume(std::span<const std::uint8_t> bytes);
    void queue_bytes(std::span<const std::uint8_t> bytes);
    void kick_write();
    void do_write();
    void arm_tick();
    void fail(Term reason, std::string why);
    handshake::Config handshake_config() const;

    Node::Impl& node_;
    std::shared_ptr<Node> node_ref_; // keeps the node alive while this runs
    asio::strand<asio::io_context::executor_type> strand_;
    asio::ip::tcp::socket socket_;
    asio::ip::tcp::resolver resolver_;
    asio::steady_timer handshake_timer_;
    asio::steady_timer tick_timer_;
    bool outgoing_ = false;

    mutable std::mutex mutex_;
    std::condition_variable state_cv_;
    State state_ = State::connecting;
    Atom peer_;
    std::vector<dist::Signal> pending_;
    std::vector<std::uint8_t> out_;
    bool write_pending_ = false;
    std::optional<dist::Sender> sender_;
    bool wrote_since_tick_ = false;

    // Strand-only state.
    std::optional<handshake::Handshake> hs_;
    std::optional<dist::Receiver> receiver_;
    dist::Ticker ticker_;
    std::vector<std::uint8_t> writing_;
    std::vector<std::uint8_t> read_buf_ = std::vector<std::uint8_t>(2048);
    std::vector<dist::Message> messages_;
};

} // namespace edist
