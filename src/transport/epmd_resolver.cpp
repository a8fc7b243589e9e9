// The default resolver: epmd. PORT_PLEASE2 at the epmd of the peer's host; ALIVE2 at ours,
// starting an epmd in-process when none answers (so a lone C++ program needs no daemon).
#include "epmd/protocol.hpp"

#include <edist/epmd.hpp>
#include <edist/term.hpp>
#include <edist/transport.hpp>

#include <asio.hpp>

#include <thread>

namespace edist {

namespace {

// Keeps a registration in force; destroying it unregisters (closes the epmd connection), then
// stops the in-process epmd if this node started one.
struct EpmdHandle {
    // An epmd of our own when none ran: on a private io_context and thread, so it serves even
    // while the node's io_context is not running yet.
    std::unique_ptr<asio::io_context> io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
    std::unique_ptr<epmd::Server> server;
    epmd::Registration registration; // last: closed first

    ~EpmdHandle() {
        registration.close();
        if (server) {
            asio::post(*io, [s = server.get()] { s->stop(); });
            work.reset();
            if (thread.joinable()) thread.join();
        }
    }
};

class EpmdResolver final : public Resolver {
public:
    explicit EpmdResolver(EpmdResolverOptions o) : options_(o) {
        if (options_.port == 0) options_.port = epmd::default_epmd_port();
    }

    Result<NodeRegistration> register_node(asio::io_context&, std::string_view alive, std::string_view,
                                           std::uint16_t port, std::chrono::milliseconds timeout) override {
        if (!options_.register_node) return NodeRegistration{1, nullptr};
        epmd::NodeInfo info;
        info.name = std::string(alive);
        info.port = port;
        epmd::ClientOptions opts;
        opts.port = options_.port;
        opts.timeout = timeout;
        auto handle = std::make_shared<EpmdHandle>();
        auto reg = epmd::register_node(info, opts);
        if (!reg && options_.embedded_epmd && reg.error().reason() == atom("econnrefused")) {
            handle->io = std::make_unique<asio::io_context>();
            epmd::ServerOptions so;
            so.port = options_.port;
            // Its level-0 lines (garbage, bad sizes, partial requests) say what a client got wrong.
            if (options_.log) so.log = [log = options_.log](std::string_view line) { log("epmd: " + std::string(line)); };
            handle->server = std::make_unique<epmd::Server>(*handle->io, so);
            if (handle->server->start()) {
                if (options_.log)
                    options_.log("no epmd on port " + std::to_string(options_.port) + ": started one in-process");
                handle->work.emplace(asio::make_work_guard(*handle->io));
                handle->thread = std::thread([io = handle->io.get()] { io->run(); });
            } else {
                handle->server.reset(); // someone else's epmd won the race: register there
            }
            reg = epmd::register_node(info, opts);
        }
        if (!reg) return Error(reg.error().reason(), std::string("cannot register with epmd: ") + reg.error().what());
        NodeRegistration out{reg->creation(), nullptr};
        handle->registration = std::move(*reg);
        out.handle = std::move(handle);
        return out;
    }

    void async_address_please(asio::io_context& io, std::string_view alive, std::string_view host,
                              std::chrono::milliseconds timeout,
                              UniqueHandler<void(Result<NodeAddress>)> handler) override {
        epmd::ClientOptions opts;
        opts.host = std::string(host);
        opts.port = options_.port;
        opts.timeout = timeout;
        // epmd's callback is a std::function (copyable); the handler is not.
        auto h = std::make_shared<UniqueHandler<void(Result<NodeAddress>)>>(std::move(handler));
        epmd::async_port_please(io, alive, opts,
                                [h, node = std::string(alive) + "@" + std::string(host),
                                 host = std::string(host)](Result<std::optional<epmd::NodeInfo>> r) {
                                    if (!r) {
                                        (*h)(Error(atom("nodedown"),
                                                   "cannot look " + node + " up in epmd: " + r.error().what()));
                                    } else if (!*r) {
                                        (*h)(Error(atom("nodedown"), "epmd does not know " + node));
                                    } else {
                                        (*h)(NodeAddress{host, (*r)->port, (*r)->highest_version});
                                    }
                                });
    }

private:
    EpmdResolverOptions options_;
};

} // namespace

std::shared_ptr<Resolver> epmd_resolver(EpmdResolverOptions options) {
    return std::make_shared<EpmdResolver>(options);
}

} // namespace edist
