// Files, stdin/stdout and hex text, shared by the subcommands.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edist::cli {

// The whole of `path`, or of stdin when `path` is "-". On failure returns nullopt and sets
// `error` to a human message naming the file.
std::optional<std::vector<std::uint8_t>> read_all(const std::string& path, std::string& error);
// Writes `bytes` to `path`, or to stdout when `path` is "-".
bool write_all(const std::string& path, std::span<const std::uint8_t> bytes, std::string& error);

// A command-line argument that may be "-": then all of stdin, as text. nullopt (and `error`)
// when stdin cannot be read.
std::optional<std::string> argument_or_stdin(const std::string& argument, std::string& error);

bool stdout_is_terminal() noexcept;

// "83 68 02 ..." with `per_line` bytes a line, each line after the first starting with `indent`.
std::string hex_dump(std::span<const std::uint8_t> bytes, std::size_t per_line = 24,
                     std::string_view indent = "");
// "836802..." on one line.
std::string hex_string(std::span<const std::uint8_t> bytes);
// Reads hex digits, ignoring whitespace. nullopt (and `error`) on anything else or an odd count.
std::optional<std::vector<std::uint8_t>> parse_hex(std::string_view text, std::string& error);

} // namespace edist::cli
