// The epmd server core. Behaviour follows OTP 25's epmd as observed on the wire (captures in
// tests/epmd/registry_test.cpp); deliberate differences are listed in docs/EPMD.md.
#include "epmd/registry.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace edist::epmd {

using protocol::Bytes;

namespace {

ServerCore::Action write_to(ServerCore::ConnId id, Bytes bytes) {
    return {ServerCore::Action::Kind::write, id, std::move(bytes)};
}
ServerCore::Action write_to(ServerCore::ConnId id, std::string_view text) {
    return {ServerCore::Action::Kind::write, id, Bytes(text.begin(), text.end())};
}
ServerCore::Action close_conn(ServerCore::ConnId id) {
    return {ServerCore::Action::Kind::close, id, {}};
}

std::string_view request_name(const protocol::Request& r) {
    static constexpr std::string_view names[] = {"ALIVE2_REQ", "PORT2_REQ", "NAMES_REQ",
                                                 "DUMP_REQ",   "KILL_REQ",  "STOP_REQ"};
    return names[r.index()];
}

}  // namespace

// OTP: a version-6 peer gets the 32-bit counter; a version-5 peer a creation in 1..3.
std::uint32_t ServerCore::Node::creation() const {
    return info.highest_version >= 6 ? cr_counter : cr_counter % 3 + 1;
}

ServerCore::ServerCore(Options opts) : opts_(std::move(opts)) {}

void ServerCore::log(int level, std::string_view line) const {
    if (opts_.log && level <= opts_.debug) opts_.log(level, line);
}

ServerCore::Actions ServerCore::open(ConnId id, bool local_peer, Clock::time_point now) {
    Actions out;
    if (conns_.size() >= opts_.max_connections) {
        // Full: drop the request connection idle the longest (registrations are never
        // dropped); with none to drop, refuse the newcomer.
        auto victim = conns_.end();
        for (auto it = conns_.begin(); it != conns_.end(); ++it)
            if (!it->second.keep &&
                (victim == conns_.end() || it->second.last_activity < victim->second.last_activity))
                victim = it;
        if (victim == conns_.end()) {
            log(0, fmt::format("too many connections ({}), refusing fd {}", conns_.size(), id));
            out.push_back(close_conn(id));
            return out;
        }
        log(1, fmt::format("too many connections, dropping idle fd {}", victim->first));
        out.push_back(close_conn(victim->first));
        conns_.erase(victim);
    }
    Connection& c = conns_[id];
    c = Connection{};
    c.local_peer = local_peer;
    c.last_activity = now;
    log(2, fmt::format("{} peer connected on fd {}", local_peer ? "local" : "non-local", id));
    return out;
}

ServerCore::Actions ServerCore::receive(ConnId id, std::span<const std::uint8_t> bytes, Now now) {
    Actions out;
    auto it = conns_.find(id);
    if (it == conns_.end() || bytes.empty()) return out;
    Connection& c = it->second;
    if (c.keep) {
        // A registration connection must stay silent: any byte ends the registration.
        log(1, fmt::format("got more than expected on ALIVE socket {} ({} bytes)", id,
                           bytes.size()));
        forget(id, out);
        return out;
    }
    c.last_activity = now.mono;
    auto ev = c.parser.feed(bytes);
    if (std::holds_alternative<protocol::RequestParser::NeedMore>(ev)) return out;
    if (auto* e = std::get_if<Error>(&ev)) {
        log(0, e->what());  // as OTP's epmd words it, without the descriptor
        forget(id, out);
        return out;
    }
    const auto& req = std::get<protocol::Request>(ev);
    log(1, fmt::format("** got {}", request_name(req)));
    handle(id, c, req, now, out);
    // Everything but a registration (or a KILL that ended the server) closes after its reply.
    auto again = conns_.find(id);
    if (again != conns_.end() && !again->second.keep) forget(id, out);
    return out;
}

void ServerCore::handle(ConnId id, Connection& c, const protocol::Request& req, Now now,
                        Actions& out) {
    // ALIVE2, DUMP, KILL and STOP are for local peers only; others get no answer at all.
    if (!c.local_peer && !std::holds_alternative<protocol::PortPlease2Req>(req) &&
        !std::holds_alternative<protocol::NamesReq>(req)) {
        log(0, fmt::format("{} from non local address", request_name(req)));
        return;
    }
    std::visit(
        [&](const auto& r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, protocol::Alive2Req>) {
                alive2(id, c, r.node, now, out);
            } else if constexpr (std::is_same_v<T, protocol::PortPlease2Req>) {
                std::optional<NodeInfo> found;
                for (const Node& n : reg_)
                    if (n.info.name == r.name) {
                        found = n.info;
                        break;
                    }
                log(1, fmt::format("** sent PORT2_RESP ({}) for \"{}\"", found ? "ok" : "error",
                                   r.name));
                out.push_back(write_to(id, protocol::encode_port2_resp(found)));
            } else if constexpr (std::is_same_v<T, protocol::NamesReq>) {
                Bytes reply = protocol::encode_port_header(opts_.epmd_port);
                for (const Node& n : reg_) {
                    std::string line = protocol::names_line(n.info.name, n.info.port);
                    reply.insert(reply.end(), line.begin(), line.end());
                }
                out.push_back(write_to(id, std::move(reply)));
            } else if constexpr (std::is_same_v<T, protocol::DumpReq>) {
                Bytes reply = protocol::encode_port_header(opts_.epmd_port);
                auto add = [&](const Node& n, bool active) {
                    std::string line = protocol::dump_line({active, n.info.name, n.info.port, n.conn});
                    reply.insert(reply.end(), line.begin(), line.end());
                };
                for (const Node& n : reg_) add(n, true);
                for (const Node& n : unreg_) add(n, false);
                out.push_back(write_to(id, std::move(reply)));
            } else if constexpr (std::is_same_v<T, protocol::KillReq>) {
                if (!opts_.relaxed_command_check && !reg_.empty()) {
                    log(0, "Disallowed KILL_REQ, live nodes");
                    out.push_back(write_to(id, std::string_view("NO")));
                    return;
                }
                log(0, "got KILL_REQ - terminates normal");
                out.push_back(write_to(id, std::string_view("OK")));
                out.push_back({Action::Kind::exit, id, {}});
            } else if constexpr (std::is_same_v<T, protocol::StopReq>) {
                if (!opts_.relaxed_command_check) {
                    log(0, "Disallowed STOP_REQ, no relaxed_command_check");
                    return;
                }
                auto held = unregister_name(r.name);
                if (!held) {
                    // OTP's epmd answers NOEXIST and then falls through to STOPPED as well.
                    out.push_back(write_to(id, std::string_view("NOEXIST")));
                } else if (*held != id) {
                    conns_.erase(*held);
                    out.push_back(close_conn(*held));
                }
                out.push_back(write_to(id, std::string_view("STOPPED")));
            }
        },
        req);
}

void ServerCore::alive2(ConnId id, Connection& c, const NodeInfo& info, Now now, Actions& out) {
    auto node = register_node(id, info, now);
    std::uint32_t creation = node ? node->creation() : protocol::ERROR_CREATION;
    out.push_back(write_to(id, protocol::encode_alive2_resp(node.has_value(), creation,
                                                           info.highest_version >= 6)));
    // OTP keeps the connection even when it refused the name; it then ends at the next byte.
    c.keep = true;
}

std::optional<ServerCore::Node> ServerCore::register_node(ConnId id, const NodeInfo& info,
                                                          Now now) {
    if (protocol::check_alive2(info)) {
        // Logged in OTP's words (names and extra printed as C strings).
        const int chars = protocol::utf8_length(info.name);
        auto c_str = [](const std::string& s) { return std::string_view(s).substr(0, s.find('\0')); };
        if (info.name.size() > protocol::MAXSYMLEN || chars > static_cast<int>(protocol::MAX_NAME_CHARS))
            log(0, fmt::format("node name is too long ({}) {}", info.name.size(), info.name));
        else if (chars < 0)
            log(0, "invalid node name encoding");
        else
            log(0, fmt::format("extra data is too long ({}) {}", info.extra.size(), c_str(info.extra)));
        return std::nullopt;
    }
    for (const Node& n : reg_)
        if (n.info.name == info.name) {
            log(0, fmt::format("node name already occupied {}", info.name));
            return std::nullopt;
        }
    Node node;
    auto old = std::find_if(unreg_.begin(), unreg_.end(),
                            [&](const Node& n) { return n.info.name == info.name; });
    auto bump = [](Node& n) {
        if (++n.cr_counter < 4) n.cr_counter = 4;  // creations 0..3 are reserved
    };
    if (old != unreg_.end()) {
        node = std::move(*old);
        unreg_.erase(old);
        bump(node);
    } else if (unreg_.size() > (opts_.debug ? debug_max_unreg_count : max_unreg_count)) {
        // OTP reuses the oldest remembered slot as is, counter included.
        node = std::move(unreg_.front());
        unreg_.pop_front();
    } else {
        node.cr_counter = static_cast<std::uint32_t>(now.unix_seconds);
        bump(node);
    }
    node.info = info;
    node.conn = id;
    reg_.insert(reg_.begin(), node);
    log(1, fmt::format("registering '{}:{}', port {}", info.name, node.creation(), info.port));
    log(1, fmt::format("type {} proto {} highvsn {} lowvsn {}", info.node_type, info.protocol,
                       info.highest_version, info.lowest_version));
    return node;
}

std::optional<ServerCore::ConnId> ServerCore::unregister_name(std::string_view name) {
    auto it = std::find_if(reg_.begin(), reg_.end(),
                           [&](const Node& n) { return n.info.name == name; });
    if (it == reg_.end()) return std::nullopt;
    ConnId held = it->conn;
    log(1, fmt::format("unregistering '{}:{}', port {}", it->info.name, it->creation(),
                       it->info.port));
    unreg_.push_back(std::move(*it));
    reg_.erase(it);
    return held;
}

void ServerCore::unregister_conn(ConnId id) {
    auto it = std::find_if(reg_.begin(), reg_.end(), [&](const Node& n) { return n.conn == id; });
    if (it == reg_.end()) return;
    log(1, fmt::format("unregistering '{}:{}', port {}", it->info.name, it->creation(),
                       it->info.port));
    unreg_.push_back(std::move(*it));
    reg_.erase(it);
}

void ServerCore::forget(ConnId id, Actions& out) {
    unregister_conn(id);
    conns_.erase(id);
    out.push_back(close_conn(id));
    log(2, fmt::format("closing connection on fd {}", id));
}

ServerCore::Actions ServerCore::closed(ConnId id) {
    Actions out;
    auto it = conns_.find(id);
    if (it == conns_.end()) return out;
    const auto& parser = it->second.parser;
    if (!it->second.keep && !parser.finished() && parser.buffered() > 0)
        log(0, fmt::format("got partial packet only on file descriptor {} ({})", id,
                           parser.buffered()));
    unregister_conn(id);
    conns_.erase(id);
    log(2, fmt::format("peer closed fd {}", id));
    return out;
}

ServerCore::Actions ServerCore::tick(Clock::time_point now) {
    Actions out;
    std::vector<ConnId> stale;
    for (const auto& [id, c] : conns_)
        if (!c.keep && now - c.last_activity >= opts_.packet_timeout) stale.push_back(id);
    for (ConnId id : stale) {
        log(1, fmt::format("closing fd {}: timed out on receive", id));
        forget(id, out);
    }
    return out;
}

std::optional<ServerCore::Clock::time_point> ServerCore::next_deadline() const {
    std::optional<Clock::time_point> next;
    for (const auto& [id, c] : conns_)
        if (!c.keep) {
            auto t = c.last_activity + opts_.packet_timeout;
            if (!next || t < *next) next = t;
        }
    return next;
}

std::vector<NodeInfo> ServerCore::registered() const {
    std::vector<NodeInfo> out;
    for (const Node& n : reg_) out.push_back(n.info);
    return out;
}

}  // namespace edist::epmd
