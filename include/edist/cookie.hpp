// The magic cookie: the shared secret the handshake proves knowledge of.
//
// Found the way erl finds it (OTP's auth.erl): an explicit cookie wins; else
// $HOME/.erlang.cookie; else $XDG_CONFIG_HOME/erlang/.erlang.cookie (~/.config/erlang/...);
// if neither exists, a new random cookie is written to $HOME/.erlang.cookie.
#pragma once

#include <edist/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace edist {

// Reads a cookie file as erl does: it must be a regular file readable by its owner only
// (no group/other permission bits); the cookie is the leading run of printable ASCII
// (space to '~'), after which only '\n', '\r' and spaces may follow. Errors (reason
// `enoent` if the file does not exist, `eacces` for bad permissions, `badarg` for bad
// content) carry erl's wording.
Result<std::string> read_cookie_file(const std::filesystem::path& path);

// Creates `path` with a fresh cookie as erl does — 20 random uppercase letters, no newline,
// mode 0400 — and returns the cookie. Fails (reason `eexist`) rather than overwrite.
Result<std::string> create_cookie_file(const std::filesystem::path& path);

// Where erl looks, in order: $HOME/.erlang.cookie, then the XDG location. Empty optional
// entries when the variable is unset.
std::optional<std::filesystem::path> home_cookie_path();
std::optional<std::filesystem::path> xdg_cookie_path();

// The cookie to use: `explicit_cookie` if given, else the file erl would read, creating it
// (at $HOME, or at the XDG path when there is no $HOME) if it does not exist.
Result<std::string> resolve_cookie(std::optional<std::string_view> explicit_cookie = std::nullopt);

} // namespace edist
