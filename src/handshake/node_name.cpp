// Node-name rules (OTP dist_util is_name_ok, inet_tcp_dist splitnode, net_kernel allow).
#include "handshake/node_name.hpp"

#include <edist/atom.hpp>

namespace edist::handshake {

bool is_node_name(std::string_view name) noexcept {
    const auto at = name.find('@');
    // Control characters are valid in atoms, but a name holding them is only good for forging
    // log lines: no node OTP can start has one.
    for (char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
    return at != std::string_view::npos && at > 0 && at + 1 < name.size() &&
           name.find('@', at + 1) == std::string_view::npos && is_valid_atom_text(name);
}

std::string_view node_host(std::string_view name) noexcept {
    const auto at = name.find('@');
    return at == std::string_view::npos ? std::string_view{} : name.substr(at + 1);
}

bool host_fits(std::string_view host, NameMode mode) {
    const bool dotted = host.find('.') != std::string_view::npos;
    switch (mode) {
    case NameMode::any: return true;
    case NameMode::shortnames: return !dotted;
    case NameMode::longnames: return dotted || host.find(':') != std::string_view::npos;
    }
    return true;
}

std::optional<std::string> host_misfit(std::string_view host, NameMode mode) {
    if (host_fits(host, mode)) return std::nullopt;
    const std::string_view names = mode == NameMode::longnames ? "long names (-name)" : "short names (-sname)";
    return "this node uses " + std::string(names) + ", and host '" + std::string(host) + "' does not fit them";
}

bool is_allowed(std::string_view node, const std::vector<std::string>& allowed) {
    const auto at = node.find('@');
    const std::string_view name = node.substr(0, at), host = node.substr(at + 1);
    for (const std::string& entry : allowed) {
        const auto eat = entry.find('@');
        if (eat == std::string::npos) {
            if (!entry.empty() && entry == host) return true;
        } else if (eat == 0) {
            continue;
        } else if (eat + 1 == entry.size()) {
            if (std::string_view(entry).substr(0, eat) == name) return true;
        } else if (entry == node) {
            return true;
        }
    }
    return false;
}

} // namespace edist::handshake
