// Node names as the handshake sees them: the shape OTP accepts, short vs long host names,
// and net_kernel:allow/1 matching.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edist::handshake {

// -sname / -name. `any` checks nothing (what an OTP acceptor does with incoming names).
enum class NameMode { any, shortnames, longnames };

// "name@host", exactly one '@', both parts non-empty, valid atom text (OTP is_name_ok).
bool is_node_name(std::string_view name) noexcept;
// The part after '@' ("" if none).
std::string_view node_host(std::string_view name) noexcept;
// shortnames: no '.' in the host; longnames: a '.' in the host, or an IP address (OTP splitnode).
bool host_fits(std::string_view host, NameMode mode);
// Why a node in `mode` cannot dial a peer on `host` ("this node uses long names (-name), and
// host 'vm' does not fit them"), or nullopt when the host fits. Callers prefix the peer.
std::optional<std::string> host_misfit(std::string_view host, NameMode mode);
// net_kernel:allow/1 matching: entries "node@host" (exact), "host" (by host), "node@" (by
// name). `node` is a full node name.
bool is_allowed(std::string_view node, const std::vector<std::string>& allowed);

} // namespace edist::handshake
