#include "io.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <stdio_ext.h> // __fpurge
#include <unistd.h>

namespace edist::cli {

namespace {

std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

} // namespace

std::optional<std::vector<std::uint8_t>> read_all(const std::string& path, std::string& error) {
    std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (!f) {
        error = fmt::format("cannot open {}: {}", path, std::strerror(errno));
        return std::nullopt;
    }
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f == stdin ? nullptr : f, std::fclose);
    std::vector<std::uint8_t> out;
    std::uint8_t buf[65536];
    for (;;) {
        std::size_t n = std::fread(buf, 1, sizeof buf, f);
        out.insert(out.end(), buf, buf + n);
        if (n < sizeof buf) break;
    }
    if (std::ferror(f)) {
        error = fmt::format("cannot read {}: {}", display_name(path), std::strerror(errno));
        return std::nullopt;
    }
    return out;
}

bool write_all(const std::string& path, std::span<const std::uint8_t> bytes, std::string& error) {
    bool to_stdout = path == "-";
    std::FILE* f = to_stdout ? stdout : std::fopen(path.c_str(), "wb");
    if (!f) {
        error = fmt::format("cannot create {}: {}", path, std::strerror(errno));
        return false;
    }
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = (to_stdout ? std::fflush(f) : std::fclose(f)) == 0 && ok;
    if (!ok) {
        error = fmt::format("cannot write {}: {}", to_stdout ? "<stdout>" : path, std::strerror(errno));
        if (to_stdout) {
            // Reported here: drop what is left in the buffer and the error flag, or the exit-time
            // check (main.cpp) would try the write again and say it a second time.
            __fpurge(stdout);
            std::clearerr(stdout);
        }
    }
    return ok;
}

std::optional<std::string> argument_or_stdin(const std::string& argument, std::string& error) {
    if (argument != "-") return argument;
    auto bytes = read_all("-", error);
    if (!bytes) return std::nullopt;
    return std::string(bytes->begin(), bytes->end());
}

bool stdout_is_terminal() noexcept { return ::isatty(STDOUT_FILENO) == 1; }

std::string hex_dump(std::span<const std::uint8_t> bytes, std::size_t per_line, std::string_view indent) {
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0) {
            if (i % per_line == 0) {
                out += '\n';
                out += indent;
            } else {
                out += ' ';
            }
        }
        out += fmt::format("{:02x}", bytes[i]);
    }
    return out;
}

std::string hex_string(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

std::optional<std::vector<std::uint8_t>> parse_hex(std::string_view text, std::string& error) {
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::vector<std::uint8_t> out;
    int high = -1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
        int d = digit(c);
        if (d < 0) {
            error = fmt::format("not a hex digit: '{}' at offset {}", c, i);
            return std::nullopt;
        }
        if (high < 0) {
            high = d;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | d));
            high = -1;
        }
    }
    if (high >= 0) {
        error = "odd number of hex digits";
        return std::nullopt;
    }
    return out;
}

} // namespace edist::cli
