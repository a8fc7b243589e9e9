// epmd-less resolution, as OTP's erl_epmd does with -erl_epmd_port: a fixed port for every
// node (the address is the host part of its name), plus exact node -> host:port entries.
#include <edist/term.hpp>
#include <edist/transport.hpp>

#include <openssl/rand.h>

namespace edist {

namespace {

class StaticResolver final : public Resolver {
public:
    explicit StaticResolver(StaticResolverOptions o) : options_(std::move(o)) {}

    std::optional<std::uint16_t> listen_port_please(std::string_view alive, std::string_view host) override {
        if (auto e = entry(alive, host)) return e->port;
        if (options_.port != 0) return options_.port;
        return std::nullopt;
    }

    // Nothing to tell anyone. Without epmd OTP's net_kernel picks a random creation, avoiding
    // 0..3 (the old 2-bit creations); so do we.
    Result<NodeRegistration> register_node(asio::io_context&, std::string_view, std::string_view, std::uint16_t,
                                           std::chrono::milliseconds) override {
        std::uint32_t c = 0;
        while (c < 4) {
            if (RAND_bytes(reinterpret_cast<unsigned char*>(&c), sizeof c) != 1)
                return Error(atom("system_limit"), "no random bytes for the node's creation");
        }
        return NodeRegistration{c, nullptr};
    }

    void async_address_please(asio::io_context&, std::string_view alive, std::string_view host,
                              std::chrono::milliseconds, UniqueHandler<void(Result<NodeAddress>)> handler) override {
        if (auto e = entry(alive, host)) {
            NodeAddress a = *e;
            if (a.host.empty()) a.host = std::string(host);
            handler(std::move(a));
        } else if (options_.port != 0) {
            handler(NodeAddress{std::string(host), options_.port, std::nullopt});
        } else {
            handler(Error(atom("nodedown"), "no address known for " + std::string(alive) + "@" + std::string(host) +
                                                " (static resolver without that node or a common port)"));
        }
    }

private:
    const NodeAddress* entry(std::string_view alive, std::string_view host) const {
        std::string node = std::string(alive) + "@" + std::string(host);
        auto it = options_.nodes.find(node);
        return it == options_.nodes.end() ? nullptr : &it->second;
    }

    StaticResolverOptions options_;
};

} // namespace

std::shared_ptr<Resolver> static_resolver(StaticResolverOptions options) {
    return std::make_shared<StaticResolver>(std::move(options));
}

} // namespace edist
