// The default carrier: TCP, as OTP's inet_tcp_dist (TCP_NODELAY on every distribution socket).
#include <edist/term.hpp>
#include <edist/transport.hpp>

#include <asio.hpp>

#include <unistd.h>

namespace edist {

namespace {

class TcpStream final : public Stream {
public:
    explicit TcpStream(asio::any_io_executor ex) : socket_(ex), resolver_(ex) {}
    explicit TcpStream(asio::ip::tcp::socket s) : socket_(std::move(s)), resolver_(socket_.get_executor()) {
        set_connected_options();
    }

    executor_type get_executor() override { return socket_.get_executor(); }

    // `this` stays valid in the handlers: the stream's owner keeps it alive until its own
    // handler has run (a node's connection holds itself in every handler it passes).
    void async_connect(const NodeAddress& to, ConnectHandler handler) override {
        resolver_.async_resolve(
            to.host, std::to_string(to.port),
            [this, handler = std::move(handler)](const std::error_code& ec,
                                                 const asio::ip::tcp::resolver::results_type& r) mutable {
                if (ec) {
                    handler(ec);
                    return;
                }
                asio::async_connect(socket_, r,
                                    [this, handler = std::move(handler)](const std::error_code& ec2,
                                                                         const asio::ip::tcp::endpoint& ep) mutable {
                                        if (!ec2) {
                                            forget_writability(ep.protocol());
                                            set_connected_options();
                                        }
                                        handler(ec2);
                                    });
            });
    }
    void async_read_some(asio::mutable_buffer buffer, IoHandler handler) override {
        socket_.async_read_some(buffer, std::move(handler));
    }
    void async_write_some(asio::const_buffer buffer, IoHandler handler) override {
        socket_.async_write_some(buffer, std::move(handler));
    }
    // The socket is non-blocking (set_connected_options), so this is one send() that never
    // waits.
    std::size_t try_write_some(asio::const_buffer buffer, std::error_code& ec) override {
        return socket_.write_some(buffer, ec);
    }
    void async_write_some_gather(std::span<const asio::const_buffer> buffers, IoHandler handler) override {
        socket_.async_write_some(buffers, std::move(handler));
    }
    std::size_t try_write_some_gather(std::span<const asio::const_buffer> buffers, std::error_code& ec) override {
        return socket_.write_some(buffers, ec);
    }
    void close() override {
        std::error_code ignore;
        resolver_.cancel();
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignore);
        socket_.close(ignore);
    }

private:
    // Once connected: TCP_NODELAY, and non-blocking so that try_write_some cannot wait
    // (Asio's asynchronous operations work the same either way).
    void set_connected_options() {
        std::error_code ignore;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignore);
        socket_.non_blocking(true, ignore);
    }

    // Waiting for the connect asked the reactor for writability, which Asio never withdraws:
    // every ACK from the peer would then wake the node's thread for nothing (one epoll_wait
    // per call in a C++->BEAM erpc loop). Handing the descriptor to the socket afresh
    // registers it for reading only. Writes are tried at once (try_write_some); only one that
    // finds the socket full asks for writability again (and Asio then keeps it, as before).
    void forget_writability(const asio::ip::tcp& protocol) {
        std::error_code ec;
        auto fd = socket_.release(ec);
        if (ec) return;
        socket_.assign(protocol, fd, ec);
        if (ec) ::close(fd); // the socket stays closed: the handshake's first write fails
    }

    asio::ip::tcp::socket socket_;
    asio::ip::tcp::resolver resolver_;
};

class TcpAcceptor final : public Acceptor {
public:
    explicit TcpAcceptor(asio::io_context& io) : acceptor_(io) {}
    Result<bool> listen(const std::string& address, std::uint16_t port) {
        try {
            asio::ip::tcp::endpoint ep(asio::ip::make_address(address), port);
            acceptor_.open(ep.protocol());
            acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
            acceptor_.bind(ep);
            acceptor_.listen();
            port_ = acceptor_.local_endpoint().port();
        } catch (const std::system_error& e) {
            return Error(atom("eaddrinuse"), "cannot listen for distribution on " + address + ":" + std::to_string(port) +
                                                 ": " + e.what());
        }
        return true;
    }
    std::uint16_t port() const override { return port_; }
    void async_accept(asio::any_io_executor stream_executor, AcceptHandler handler) override {
        acceptor_.async_accept(stream_executor, [handler = std::move(handler)](const std::error_code& ec,
                                                                               asio::ip::tcp::socket s) mutable {
            if (ec) {
                handler(ec, nullptr);
                return;
            }
            handler(ec, std::make_unique<TcpStream>(std::move(s)));
        });
    }
    void close() override {
        std::error_code ignore;
        acceptor_.close(ignore);
    }

private:
    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
};

class TcpTransport final : public Transport {
public:
    Result<std::unique_ptr<Acceptor>> listen(asio::io_context& io, const std::string& address,
                                             std::uint16_t port) override {
        auto a = std::make_unique<TcpAcceptor>(io);
        auto r = a->listen(address, port);
        if (!r) return r.error();
        return std::unique_ptr<Acceptor>(std::move(a));
    }
    std::unique_ptr<Stream> make_stream(asio::any_io_executor executor) override {
        return std::make_unique<TcpStream>(std::move(executor));
    }
};

} // namespace

std::shared_ptr<Transport> tcp_transport() {
    static const auto shared = std::make_shared<TcpTransport>();
    return shared;
}

} // namespace edist
