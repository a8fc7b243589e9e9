#include "subprocess.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace edist::cli {

namespace fs = std::filesystem;

namespace {

fs::path temp_root() {
    const char* tmp = std::getenv("TMPDIR");
    return fs::path(tmp && *tmp ? tmp : "/tmp");
}

} // namespace

std::optional<fs::path> find_on_path(std::string_view program) {
    const char* path = std::getenv("PATH");
    if (!path) return std::nullopt;
    std::string_view rest(path);
    while (true) {
        auto colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
        if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
        if (colon == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(colon + 1);
    }
}

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    ProcessResult result;
    if (argv.empty()) return result;

    // Output goes through a temporary file rather than a pipe, so a chatty child can never
    // block on a full pipe while we wait for it to exit.
    std::string log_path = (temp_root() / "edist-output-XXXXXX").string();
    int log_fd = ::mkstemp(log_path.data());
    if (log_fd < 0) {
        result.output = std::string("cannot create a temporary file: ") + std::strerror(errno);
        return result;
    }
    ::unlink(log_path.c_str());

    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) {
        result.output = std::string("fork failed: ") + std::strerror(errno);
        ::close(log_fd);
        return result;
    }
    if (pid == 0) {
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::execvp(args[0], args.data());
        const char msg[] = "exec failed\n";
        (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(127);
    }

    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            result.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    result.started = true;
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);

    ::lseek(log_fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(log_fd, buf, sizeof buf)) > 0) result.output.append(buf, static_cast<std::size_t>(n));
    ::close(log_fd);
    if (result.exit_code == 127 && result.output == "exec failed\n") result.started = false;
    return result;
}

TempDir::TempDir(std::string_view prefix) {
    std::string pattern = (temp_root() / (std::string(prefix) + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data()))
        throw std::system_error(errno, std::generic_category(), "cannot create a temporary directory");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

} // namespace edist::cli
