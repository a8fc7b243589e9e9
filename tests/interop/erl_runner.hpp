// Runs the real `erl` / `escript` from interop tests and exchanges terms with it through files.
//
// Header-only: tests/CMakeLists.txt builds each *_test.cpp on its own, so a helper .cpp would
// not be linked. Everything here waits for the child process to exit; nothing polls or sleeps.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace edist::test {

// True when an executable named `name` is on PATH.
inline bool on_path(std::string_view name) {
    const char* path = std::getenv("PATH");
    if (!path) return false;
    std::string_view rest(path);
    while (!rest.empty()) {
        auto colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        if (dir.empty()) dir = ".";
        auto candidate = std::filesystem::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return true;
    }
    return false;
}

inline bool erl_available() { return on_path("erl") && on_path("escript"); }

// Single-quotes `s` for /bin/sh.
inline std::string shell_quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    out += '\'';
    return out;
}

struct RunResult {
    int exit_code = -1; // -1 when the process did not exit normally
    std::string output; // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh, returns once it has exited.
inline RunResult run(const std::string& command) {
    RunResult r;
    std::string full = command + " 2>&1";
    FILE* p = ::popen(full.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed for: " + command);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    int status = ::pclose(p);
    if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    return r;
}

// `escript SCRIPT ARGS...`, each argument quoted.
inline RunResult run_escript(const std::filesystem::path& script, const std::vector<std::string>& args) {
    std::string cmd = "escript " + shell_quote(script.string());
    for (const auto& a : args) cmd += " " + shell_quote(a);
    return run(cmd);
}

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        auto base = std::filesystem::temp_directory_path();
        for (int attempt = 0; attempt < 100; ++attempt) {
            auto candidate = base / ("edist-interop-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
            if (std::filesystem::create_directory(candidate)) {
                path_ = candidate;
                return;
            }
        }
        throw std::runtime_error("could not create a temp directory");
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

inline std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& p, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

// Blob files: each blob is a 4-byte big-endian length followed by that many bytes, the format
// tests/data/etf_property.escript reads and writes.
using Blob = std::vector<std::uint8_t>;

inline std::vector<Blob> read_blobs(const std::filesystem::path& p) {
    auto bytes = read_file(p);
    std::vector<Blob> blobs;
    std::size_t i = 0;
    while (i < bytes.size()) {
        if (bytes.size() - i < 4) throw std::runtime_error("truncated blob length in " + p.string());
        std::size_t len = std::size_t(bytes[i]) << 24 | std::size_t(bytes[i + 1]) << 16 |
                          std::size_t(bytes[i + 2]) << 8 | std::size_t(bytes[i + 3]);
        i += 4;
        if (bytes.size() - i < len) throw std::runtime_error("truncated blob in " + p.string());
        blobs.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                           bytes.begin() + static_cast<std::ptrdiff_t>(i + len));
        i += len;
    }
    return blobs;
}

inline void write_blobs(const std::filesystem::path& p, const std::vector<Blob>& blobs) {
    std::vector<std::uint8_t> out;
    for (const auto& b : blobs) {
        auto len = static_cast<std::uint32_t>(b.size());
        out.insert(out.end(), {std::uint8_t(len >> 24), std::uint8_t(len >> 16), std::uint8_t(len >> 8), std::uint8_t(len)});
        out.insert(out.end(), b.begin(), b.end());
    }
    write_file(p, out);
}

inline std::filesystem::path test_data(std::string_view name) {
    return std::filesystem::path(EDIST_TEST_DATA_DIR) / name;
}

// The seed of a property test: EDIST_PROPERTY_SEED when set (to replay a failure), else fixed.
inline std::uint64_t property_seed(std::uint64_t fixed) {
    if (const char* s = std::getenv("EDIST_PROPERTY_SEED")) return std::strtoull(s, nullptr, 10);
    return fixed;
}

} // namespace edist::test
