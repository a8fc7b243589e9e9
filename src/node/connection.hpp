// One distribution connection: the thin Asio runtime around the sans-I/O handshake and channel,
// over whatever Stream the node's Transport makes, to wherever its Resolver says.
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
    using Strand = asio::strand<asio::io_context::executor_type>;

    // Everything the connection does runs on `strand`, the executor of its stream too.
    // `outgoing` is fixed here, before the connection is in the node's table: any thread that
    // finds it there may read it (send, close) without a lock.
    Connection(Node::Impl& node, Atom peer, Strand strand, bool outgoing);
    ~Connection();

    void start_outgoing();
    void start_incoming(std::unique_ptr<Stream> stream);

    // Any thread. Queued until the connection is up; dropped once it is closed. When more than
    // dist_buf_busy_limit bytes wait to be written: with `may_block`, a caller that is not one
    // of the node's threads waits until they drain (or the connection ends) before queuing;
    // a coroutine process `sender` queues and is suspended at its next co_await (hold()).
    void send(dist::Signal signal, bool may_block = false, detail::Process* sender = nullptr);
    // Whether the connection is still busy; if so, `p` is resumed (Process::resume_busy) once
    // it drains to the busy limit or closes. `seq` tells that wake-up from a stale one.
    bool hold(const std::shared_ptr<detail::Process>& p, std::uint64_t seq);
    // Bytes encoded and not yet written (the batch being written counts until it is done).
    std::size_t queue_size() const;
    // The node's tick time changed: take the new tick schedule now (from any thread).
    void retick();
    bool is_up() const;
    // Up, and every nodeup subscriber has been told (what Node::connect waits for).
    bool is_announced() const;
    bool is_closed() const;
    Atom peer() const;
    bool outgoing() const noexcept { return outgoing_; }
    void close(Term reason);
    // Waits until everything queued on an up connection is written to the transport, the
    // connection ends, or `deadline` passes; at once on the node's own threads, whose work
    // the writes need. Node::stop() lets what was sent before it leave, as init:stop() does.
    void flush(std::chrono::steady_clock::time_point deadline);
    // The peer restarted, and its new incarnation's connection (handshake status `alive`)
    // replaces this one: nodedown with OTP's reason wait_pending, and links and monitors
    // through this connection end with noconnection although the node's table already names
    // the new attempt.
    void close_replaced();
    // Hands queued signals over to the connection that replaces this attempt.
    // The signals queued while not up, handed to `successor` (the attempt that won a
    // simultaneous connect), which also gets whatever is sent here afterwards.
    std::vector<dist::Signal> take_pending(const std::shared_ptr<Connection>& successor);

private:
    void resolved(Result<NodeAddress> address);
    void connected(const std::error_code& ec);
    void begin_handshake(bool initiator);
    void handshake_progress();
    void arm_handshake_timer();
    void went_up(handshake::Completed done);
    void read();
    void on_read(const std::error_code& ec, std::size_t n);
    void consume(std::span<const std::uint8_t> bytes);
    void deliver(Result<std::size_t> received);
    void queue_bytes(std::span<const std::uint8_t> bytes);
    void kick_write();
    void do_write();
    bool write_now();
    void write_some();
    void write_final_bytes();
    void on_written(const std::error_code& ec, std::size_t n);
    bool on_node_thread() const;
    void arm_tick(); // on the strand, once up: the next tick interval, on the node's current schedule
    void fail(Term reason, std::string why);
    void lose_simultaneous_connect();
    handshake::Config handshake_config() const;

    Node::Impl& node_;
    std::shared_ptr<Node> node_ref_; // keeps the node alive while this runs
    Strand strand_;
    std::unique_ptr<Stream> stream_; // set before the first operation; strand-only after
    asio::steady_timer handshake_timer_;
    asio::steady_timer tick_timer_;
    const bool outgoing_;
    bool lost_simultaneous_ = false; // strand-only: answered nok, waiting for the peer's attempt

    mutable std::mutex mutex_;
    State state_ = State::connecting;
    Atom peer_;
    std::vector<dist::Signal> pending_;
    std::weak_ptr<Connection> successor_; // set when a simultaneous connect's winner took over
    // A subscriber sees a connection's nodedown only after its nodeup: a close() that comes
    // while the nodeup is still being delivered (from another thread, or from a nodeup callback
    // that disconnects) leaves its reason here for went_up() to announce afterwards.
    bool announced_ = false;
    std::optional<Term> owed_nodedown_;
    bool replaced_ = false; // close_replaced(): a peer's new incarnation took the node's entry
    dist::Output out_;
    std::size_t in_flight_ = 0; // bytes of writing_, until the whole batch is written
    std::size_t pending_bytes_ = 0; // pending_'s estimated encoded size
    std::size_t queued_locked() const { return out_.size() + in_flight_ + pending_bytes_; }
    // What a held-back sender waits for: the queue at or below the busy limit, or the end.
    bool drained_locked() const {
        return state_ == State::closed || queued_locked() <= node_.options.dist_buf_busy_limit;
    }
    bool write_pending_ = false;
    bool in_consume_ = false;          // consume() is delivering received messages
    bool flush_after_consume_ = false; // ... and owes do_write() a call when it is done
    std::condition_variable drain_cv_; // queue_size fell to the busy limit, or closed
    unsigned blocked_senders_ = 0;
    struct Held {
        std::weak_ptr<detail::Process> process;
        std::uint64_t seq;
    };
    std::vector<Held> held_; // coroutine processes suspended until the queue drains
    // Takes the held processes once drained_locked().
    std::vector<Held> release_held_locked();
    void resume_held(std::vector<Held> held);
    std::optional<dist::Sender> sender_;
    bool wrote_since_tick_ = false;

    // Strand-only state.
    std::optional<handshake::Handshake> hs_;
    std::optional<dist::Receiver> receiver_;
    dist::Ticker ticker_;
    dist::Output writing_;
    std::size_t written_ = 0; // of writing_
    std::vector<asio::const_buffer> write_buffers_; // what unwritten() returns
    std::span<const asio::const_buffer> unwritten();
    std::vector<std::uint8_t> read_buf_ = std::vector<std::uint8_t>(2048);
    bool reading_direct_ = false; // the outstanding read goes to the receiver's direct_buffer()
    std::vector<dist::Message> messages_;
};

} // namespace edist
