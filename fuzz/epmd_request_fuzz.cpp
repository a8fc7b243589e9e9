// libFuzzer: hostile bytes into the epmd request parser, the server core and the client's
// reply parsers. Seeds: tests/data/epmd/seeds/ (captured requests and replies).
//
// The input is used three ways:
//  1. whole, as one connection's bytes, fed to RequestParser in chunks whose sizes come from
//     the input itself, checking the parser's memory bound;
//  2. as a script for ServerCore: each step is an opcode byte choosing open / data / close /
//     tick on one of 8 connections, checking the core's invariants after each step;
//  3. whole, as an epmd reply to each of the client's reply parsers.
#include "epmd/protocol.hpp"
#include "epmd/registry.hpp"

#include <cstdint>
#include <cstdlib>
#include <set>
#include <span>

using namespace edist::epmd;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void fuzz_parser(std::span<const std::uint8_t> in) {
    protocol::RequestParser p;
    std::size_t i = 0;
    while (i < in.size() && !p.finished()) {
        std::size_t n = 1 + in[i] % 64;
        auto chunk = in.subspan(i, std::min(n, in.size() - i));
        i += chunk.size();
        auto ev = p.feed(chunk);
        check(p.buffered() <= protocol::INBUF_SIZE);
        if (auto* r = std::get_if<protocol::Request>(&ev)) {
            // Whatever parses re-encodes to something that parses to the same request, unless
            // the encoder (stricter than epmd) refuses it.
            auto again = protocol::encode_request(*r);
            if (again) {
                protocol::RequestParser q;
                auto ev2 = q.feed(*again);
                auto* r2 = std::get_if<protocol::Request>(&ev2);
                check(r2 && *r2 == *r);
            }
        }
    }
}

void fuzz_core(std::span<const std::uint8_t> in) {
    ServerCore::Options o;
    o.max_connections = 6;
    o.relaxed_command_check = in.size() > 0 && (in[0] & 1);
    o.debug = in.size() > 0 && (in[0] & 2);
    ServerCore core(o);
    auto t = ServerCore::Clock::time_point{};
    std::set<int> open;
    std::size_t i = 1;
    while (i < in.size()) {
        std::uint8_t op = in[i++];
        int conn = op & 7;
        ServerCore::Actions actions;
        switch (op >> 6) {
        case 0:
            if (open.count(conn)) break;
            actions = core.open(conn, (op & 8) == 0, t);
            open.insert(conn);
            break;
        case 1: {
            std::size_t n = std::min<std::size_t>(in.size() - i, 1 + ((op >> 3) & 7) * 9);
            actions = core.receive(conn, in.subspan(i, n), {t, 1795278234 + (op & 0x38)});
            i += n;
            break;
        }
        case 2:
            actions = core.closed(conn);
            open.erase(conn);
            break;
        case 3:
            t += std::chrono::seconds(op & 0x3f);
            actions = core.tick(t);
            break;
        }
        for (auto& a : actions) {
            if (a.kind == ServerCore::Action::Kind::close) open.erase(a.conn);
            if (a.kind == ServerCore::Action::Kind::exit) return;
        }
        check(core.connection_count() <= o.max_connections);
        check(core.unregistered_count() <= ServerCore::max_unreg_count + 1);
        std::set<std::string> names;
        for (auto& n : core.registered()) check(names.insert(n.name).second);
    }
}

void fuzz_replies(std::span<const std::uint8_t> in) {
    for (bool eof : {false, true}) {
        (void)protocol::parse_alive2_resp(in, eof);
        (void)protocol::parse_port2_resp(in, eof);
        (void)protocol::parse_kill_resp(in, eof);
        (void)protocol::parse_stop_resp(in, eof);
    }
    std::uint32_t port = 0;
    (void)protocol::parse_names(in, port);
    (void)protocol::parse_dump(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);
    fuzz_parser(in);
    fuzz_core(in);
    fuzz_replies(in);
    return 0;
}
