// Running other programs (erl, elixir) from subcommands that talk to a real BEAM.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edist::cli {

// The full path of `program` found on PATH, or nullopt.
std::optional<std::filesystem::path> find_on_path(std::string_view program);

struct ProcessResult {
    bool started = false;   // false: could not be run at all (see `output`)
    bool timed_out = false; // killed after the timeout
    int exit_code = -1;     // when it exited normally
    std::string output;     // stdout and stderr, interleaved
};

// Runs argv[0] (searched on PATH) with stdin from /dev/null and waits at most `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
public:
    explicit TempDir(std::string_view prefix);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace edist::cli
