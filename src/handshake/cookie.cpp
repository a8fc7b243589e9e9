// Cookie files, read and created the way erl does (OTP auth.erl, verified on OTP 25.2.3).
#include <edist/cookie.hpp>

#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace edist {

namespace {

Atom reason(const char* name) {
    Atom a;
    return Atom::try_intern(name, a) ? a : atoms::error;
}

Atom errno_reason(int err) {
    switch (err) {
    case ENOENT: return reason("enoent");
    case EACCES: return reason("eacces");
    case EEXIST: return reason("eexist");
    case ENOTDIR: return reason("enotdir");
    case EISDIR: return reason("eisdir");
    default: return atoms::error;
    }
}

Error file_error(const std::filesystem::path& path, const char* doing, int err) {
    return Error(errno_reason(err),
                 std::string("Error when ") + doing + " " + path.string() + ": " + std::strerror(err));
}

// The cookie is the leading run of ' '..'~'; what follows may only be line ends and spaces.
Result<std::string> parse_cookie(std::string_view text, const std::filesystem::path& path) {
    std::size_t end = 0;
    while (end < text.size() && text[end] >= ' ' && text[end] <= '~') ++end;
    for (std::size_t i = end; i < text.size(); ++i)
        if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ')
            return Error(atoms::badarg, "Bad characters in cookie file " + path.string());
    if (end == 0) return Error(atoms::badarg, "Too short cookie string in " + path.string());
    return std::string(text.substr(0, end));
}

} // namespace

Result<std::string> read_cookie_file(const std::filesystem::path& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return file_error(path, "reading", errno);
    if (!S_ISREG(st.st_mode))
        return Error(atoms::badarg, "Cookie file " + path.string() + " is not a regular file");
    if (st.st_mode & 077)
        return Error(reason("eacces"),
                     "Cookie file " + path.string() + " must be accessible by owner only");
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return file_error(path, "reading", errno);
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            return file_error(path, "reading", err);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > 1 << 20) break; // a cookie is an atom; no need to read a huge file
    }
    ::close(fd);
    return parse_cookie(text, path);
}

Result<std::string> create_cookie_file(const std::filesystem::path& path) {
    // 20 letters A-Z, uniformly from the CSPRNG (erl uses a seeded LCG for the same shape).
    std::string cookie;
    while (cookie.size() < 20) {
        unsigned char b[32];
        if (RAND_bytes(b, sizeof b) != 1)
            return Error(atoms::system_limit, "the CSPRNG (RAND_bytes) failed");
        for (unsigned char c : b)
            if (c < 234 && cookie.size() < 20) cookie += static_cast<char>('A' + c % 26);
    }
    // Created read-only for the owner from the start, never overwriting: two programs racing
    // to create it both end up reading the winner's cookie.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
    if (fd < 0) {
        const int err = errno;
        return Error(errno_reason(err), "Failed to create cookie file '" + path.string() +
                                            "': " + std::strerror(err));
    }
    std::size_t done = 0;
    while (done < cookie.size()) {
        const ssize_t n = ::write(fd, cookie.data() + done, cookie.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(path.c_str());
            return Error(errno_reason(err), "Failed to write to cookie file '" + path.string() +
                                                "': " + std::strerror(err));
        }
        done += static_cast<std::size_t>(n);
    }
    ::fchmod(fd, 0400); // in case a umask or filesystem widened it
    ::close(fd);
    return cookie;
}

std::optional<std::filesystem::path> home_cookie_path() {
    const char* home = std::getenv("HOME");
    if (!home || !*home) return std::nullopt;
    return std::filesystem::path(home) / ".erlang.cookie";
}

std::optional<std::filesystem::path> xdg_cookie_path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg) return std::filesystem::path(xdg) / "erlang" / ".erlang.cookie";
    const char* home = std::getenv("HOME");
    if (!home || !*home) return std::nullopt;
    return std::filesystem::path(home) / ".config" / "erlang" / ".erlang.cookie";
}

Result<std::string> resolve_cookie(std::optional<std::string_view> explicit_cookie) {
    if (explicit_cookie) {
        if (explicit_cookie->empty()) return Error(atoms::badarg, "the cookie given is empty");
        return std::string(*explicit_cookie);
    }
    const auto enoent = [](const Result<std::string>& r) {
        return !r.ok() && r.error().reason() == reason("enoent");
    };
    const auto home = home_cookie_path();
    const auto xdg = xdg_cookie_path();
    if (home) {
        auto r = read_cookie_file(*home);
        if (!enoent(r)) return r;
    }
    if (xdg) {
        auto r = read_cookie_file(*xdg);
        if (!enoent(r)) return r;
    }
    const auto target = home ? home : xdg;
    if (!target) return Error(atoms::badarg, "No home for cookie file");
    auto created = create_cookie_file(*target);
    if (!created.ok() && created.error().reason() == reason("eexist"))
        return read_cookie_file(*target); // someone else created it just now
    return created;
}

} // namespace edist
