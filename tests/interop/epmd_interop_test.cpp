// EPMD against the real thing: our client against OTP 25's `epmd`, our Server against `erl`
// nodes and OTP's `epmd -names`, and our Server under hostile input. Every test uses a random
// free port (never 4369), starts `erl` with -start_epmd false so no daemon is left behind, and
// kills the process groups it started. Waiting is on events (a child's exit, a reply); where
// epmd offers no event (a name appearing), a bounded poll with a deadline is used.
#include <edist/epmd.hpp>

#include <asio.hpp>

#include <algorithm>
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace edist;
using namespace std::chrono_literals;
namespace ep = edist::epmd;
using Clock = std::chrono::steady_clock;

namespace {

std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    return a.local_endpoint().port();
}

// A child process in its own process group, stdout+stderr captured; killed with its whole
// group on destruction.
class Child {
public:
    Child(std::vector<std::string> argv) {
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        int rc = posix_spawnp(&pid_, args[0], &fa, &attr, args.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(fds[1]);
        out_ = fds[0];
        if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
    }
    Child(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) close(out_);
    }
    pid_t pid() const { return pid_; }

    // Everything the child writes until it closes its output or `limit` passes.
    std::string output(std::chrono::milliseconds limit = 30s) {
        auto deadline = Clock::now() + limit;
        char buf[4096];
        while (Clock::now() < deadline) {
            pollfd p{out_, POLLIN, 0};
            int ms = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
            if (poll(&p, 1, std::max(ms, 1)) <= 0) continue;
            ssize_t n = read(out_, buf, sizeof buf);
            if (n <= 0) break;
            out_text_.append(buf, static_cast<std::size_t>(n));
        }
        return out_text_;
    }
    // Exit status, or -1 if it had not exited within `limit`.
    int wait(std::chrono::milliseconds limit = 30s) {
        auto deadline = Clock::now() + limit;
        while (true) {
            int status = 0;
            pid_t r = waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                ::kill(-pid_, SIGKILL);  // leftovers in its group (erl_child_setup)
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (Clock::now() >= deadline) return -1;
            // No exit event to block on with a deadline; read its output meanwhile.
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, 20) > 0) {
                char buf[4096];
                ssize_t n = read(out_, buf, sizeof buf);
                if (n > 0) out_text_.append(buf, static_cast<std::size_t>(n));
                else std::this_thread::yield();
            }
        }
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string out_text_;
};

ep::ClientOptions at(std::uint16_t port) {
    ep::ClientOptions o;
    o.port = port;
    o.timeout = 5s;
    return o;
}

// Polls NAMES until `pred` holds or 20 s pass (epmd has no event for "a name appeared").
template <class Pred>
bool names_until(std::uint16_t port, Pred pred) {
    auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
        auto n = ep::names(at(port));
        if (n && pred(*n)) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

bool has(const std::vector<ep::NameEntry>& v, std::string_view name) {
    for (auto& e : v)
        if (e.name == name) return true;
    return false;
}

// OTP's epmd on a fresh port, up once NAMES answers.
struct OtpEpmd {
    explicit OtpEpmd(bool relaxed = false)
        : port(free_port()),
          child(relaxed ? std::vector<std::string>{"epmd", "-port", std::to_string(port),
                                                   "-relaxed_command_check"}
                        : std::vector<std::string>{"epmd", "-port", std::to_string(port)}) {
        EXPECT_TRUE(names_until(port, [](auto&) { return true; })) << "epmd did not come up";
    }
    std::uint16_t port;
    Child child;
};

// Our Server on a fresh port, its io_context on a background thread.
struct OurEpmd {
    explicit OurEpmd(ep::ServerOptions o = {}) {
        o.port = 0;
        server = std::make_unique<ep::Server>(io, std::move(o));
        auto p = server->start();
        if (!p) throw p.error();
        port = *p;
        thread = std::thread([this] { io.run(); });
    }
    ~OurEpmd() {
        asio::post(io, [this] { server->stop(); });
        guard.reset();
        thread.join();
    }
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::unique_ptr<ep::Server> server;
    std::uint16_t port = 0;
    std::thread thread;
};

std::vector<std::string> erl(std::string_view sname, std::uint16_t port, std::string eval = "") {
    std::vector<std::string> a{"erl", "-sname", std::string(sname), "-start_epmd", "false",
                               "-epmd_port", std::to_string(port), "-setcookie", "edist_epmd",
                               "-noshell"};
    if (!eval.empty()) {
        a.push_back("-eval");
        a.push_back(std::move(eval));
    }
    return a;
}

ep::NodeInfo node(std::string name, std::uint16_t port) {
    ep::NodeInfo n;
    n.name = std::move(name);
    n.port = port;
    return n;
}

}  // namespace

// --- (a) our client, OTP's epmd --------------------------------------------------------------------

TEST(EpmdInteropOtpServer, RegisterPortPleaseNamesAndUnregisterOnClose) {
    OtpEpmd otp;
    auto before = static_cast<std::uint32_t>(std::time(nullptr));
    auto reg = ep::register_node(node("edist_a", 40001), at(otp.port));
    ASSERT_TRUE(reg.ok()) << reg.error().what();
    EXPECT_GE(reg->creation(), before + 1);  // OTP: time() + 1 for a new name
    EXPECT_LE(reg->creation(), static_cast<std::uint32_t>(std::time(nullptr)) + 1);

    auto info = ep::port_please("edist_a", at(otp.port));
    ASSERT_TRUE(info.ok()) << info.error().what();
    ASSERT_TRUE(info->has_value());
    EXPECT_EQ((*info)->port, 40001);
    EXPECT_EQ((*info)->highest_version, 6);
    EXPECT_EQ((*info)->lowest_version, 6);
    EXPECT_EQ((*info)->node_type, 'M');
    EXPECT_EQ(ep::port_please("nobody", at(otp.port)).value(), std::nullopt);

    auto names = ep::names(at(otp.port));
    ASSERT_TRUE(names.ok()) << names.error().what();
    EXPECT_EQ(*names, (std::vector<ep::NameEntry>{{"edist_a", 40001}}));

    auto dump = ep::dump(at(otp.port));
    ASSERT_TRUE(dump.ok());
    ASSERT_EQ(dump->entries.size(), 1u);
    EXPECT_TRUE(dump->entries[0].active);

    // A second registration of the name is refused as erl_epmd reports it.
    auto dup = ep::register_node(node("edist_a", 40002), at(otp.port));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().reason(), Atom("duplicate_name"));

    std::uint32_t first = reg->creation();
    reg->close();
    EXPECT_TRUE(names_until(otp.port, [](auto& n) { return !has(n, "edist_a"); }));
    auto again = ep::register_node(node("edist_a", 40001), at(otp.port));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->creation(), first + 1);  // re-registration bumps the counter
}

TEST(EpmdInteropOtpServer, Version5RegistrationGetsSmallCreation) {
    OtpEpmd otp;
    auto n = node("edist_v5", 40003);
    n.lowest_version = 5;
    n.highest_version = 5;
    auto reg = ep::register_node(n, at(otp.port));
    ASSERT_TRUE(reg.ok()) << reg.error().what();
    EXPECT_GE(reg->creation(), 1u);
    EXPECT_LE(reg->creation(), 3u);
}

TEST(EpmdInteropOtpServer, KillAndStopFollowRelaxedCommandCheck) {
    OtpEpmd strict;
    auto reg = ep::register_node(node("edist_k", 40004), at(strict.port));
    ASSERT_TRUE(reg.ok());
    EXPECT_EQ(ep::stop("edist_k", at(strict.port)).value(), ep::StopResult::disallowed);
    EXPECT_EQ(ep::kill(at(strict.port)).value(), false);
    reg->close();
    ASSERT_TRUE(names_until(strict.port, [](auto& n) { return n.empty(); }));
    EXPECT_EQ(ep::kill(at(strict.port)).value(), true);
    EXPECT_EQ(strict.child.wait(), 0);

    OtpEpmd relaxed(true);
    asio::io_context io;
    std::optional<Result<ep::Registration>> got;
    ep::async_register_node(io, node("edist_s", 40005), at(relaxed.port),
                            [&](Result<ep::Registration> r) { got.emplace(std::move(r)); });
    io.run();
    ASSERT_TRUE(got && got->ok());
    ep::Registration r = std::move(*got).value();
    std::optional<Error> lost;
    r.on_lost([&](Error e) { lost = e; });
    EXPECT_EQ(ep::stop("edist_s", at(relaxed.port)).value(), ep::StopResult::stopped);
    io.restart();
    io.run();  // completes when epmd closes the registration connection
    ASSERT_TRUE(lost.has_value());
    EXPECT_FALSE(r.active());
    EXPECT_EQ(ep::stop("edist_s", at(relaxed.port)).value(), ep::StopResult::noexist);
}

TEST(EpmdInteropOtpServer, ConnectionRefusedAndTimeoutAreErrors) {
    auto r = ep::names(at(free_port()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), Atom("econnrefused"));
}

// --- (b) our Server, OTP's clients -----------------------------------------------------------------

TEST(EpmdInteropOurServer, ErlRegistersAndOtpToolsSeeIt) {
    OurEpmd ours;
    auto before = static_cast<std::uint32_t>(std::time(nullptr));
    Child a(erl("edist_erl_a", ours.port, "io:format(\"creation ~p~n\", [erlang:system_info(creation)])."));
    ASSERT_TRUE(names_until(ours.port, [](auto& n) { return has(n, "edist_erl_a"); }));

    // OTP's own client lists it.
    Child lister({"epmd", "-port", std::to_string(ours.port), "-names"});
    std::string listing = lister.output();
    EXPECT_NE(listing.find("name edist_erl_a at port"), std::string::npos) << listing;
    EXPECT_NE(listing.find("epmd: up and running on port " + std::to_string(ours.port)),
              std::string::npos) << listing;

    // Our registration and erl's net_adm:names() see each other.
    auto reg = ep::register_node(node("edist_cpp", 40010), at(ours.port));
    ASSERT_TRUE(reg.ok()) << reg.error().what();
    Child asker(erl("edist_erl_q", ours.port,
                    "io:format(\"~p~n\", [net_adm:names()]), halt()."));
    std::string seen = asker.output();
    EXPECT_NE(seen.find("{\"edist_cpp\",40010}"), std::string::npos) << seen;
    EXPECT_NE(seen.find("{\"edist_erl_a\","), std::string::npos) << seen;
    EXPECT_EQ(asker.wait(), 0);

    // erl's creation follows OTP's numbering: time() + 1 at registration.
    std::string out = a.output(0ms);
    auto deadline = Clock::now() + 20s;
    while (out.find("creation ") == std::string::npos && Clock::now() < deadline)
        out = a.output(100ms);
    unsigned long creation = std::stoul(out.substr(out.find("creation ") + 9));
    EXPECT_GE(creation, before + 1);
    EXPECT_LE(creation, static_cast<std::uint32_t>(std::time(nullptr)) + 1);

    // PORT_PLEASE2 agrees with what erl listens on.
    auto info = ep::port_please("edist_erl_a", at(ours.port)).value();
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->highest_version, 6);
    EXPECT_EQ(info->lowest_version, 5);  // OTP 25's erl registers 6/5

    // A second erl with the same name is refused.
    Child dup(erl("edist_erl_a", ours.port, "halt()."));
    EXPECT_NE(dup.wait(), 0);
    EXPECT_NE(dup.output().find("seems to be in use"), std::string::npos) << dup.output();

    // When erl goes away its name does too.
    ::kill(-a.pid(), SIGKILL);
    EXPECT_GE(a.wait(), 0);
    EXPECT_TRUE(names_until(ours.port, [](auto& n) { return !has(n, "edist_erl_a"); }));
}

TEST(EpmdInteropOurServer, CreationNumberingMatchesOtpEpmd) {
    OurEpmd ours;
    OtpEpmd otp;
    for (std::uint16_t port : {ours.port, otp.port}) {
        auto r1 = ep::register_node(node("edist_cr", 40020), at(port)).value();
        std::uint32_t c1 = r1.creation();
        r1.close();
        ASSERT_TRUE(names_until(port, [](auto& n) { return !has(n, "edist_cr"); }));
        auto r2 = ep::register_node(node("edist_cr", 40020), at(port)).value();
        EXPECT_EQ(r2.creation(), c1 + 1) << "port " << port;
        r2.close();
        ASSERT_TRUE(names_until(port, [](auto& n) { return !has(n, "edist_cr"); }));
        auto v5 = node("edist_cr", 40020);
        v5.highest_version = 5;
        v5.lowest_version = 5;
        auto r3 = ep::register_node(v5, at(port)).value();
        EXPECT_EQ(r3.creation(), (c1 + 2) % 3 + 1) << "port " << port;
    }
}

TEST(EpmdInteropOurServer, StartFailsWhenThePortIsTaken) {
    OtpEpmd otp;
    asio::io_context io;
    ep::ServerOptions o;
    o.port = otp.port;
    ep::Server s(io, o);
    auto r = s.start();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), Atom("eaddrinuse"));
}

TEST(EpmdInteropOurServer, OtpKillStopsOurServer) {
    asio::io_context io;
    ep::ServerOptions o;
    o.port = 0;
    ep::Server s(io, o);
    std::uint16_t port = s.start().value();
    bool killed = false;
    s.on_killed([&] { killed = true; });
    std::thread t([&] { io.run(); });  // returns once the server has stopped
    Child k({"epmd", "-port", std::to_string(port), "-kill"});
    std::string said = k.output();
    t.join();
    EXPECT_TRUE(killed);
    EXPECT_FALSE(s.running());
    EXPECT_NE(said.find("Killed"), std::string::npos) << said;
}

// --- (c) hostile input to our Server ---------------------------------------------------------------

namespace {

// Sends raw bytes on a new connection; returns what came back before the server closed it.
std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::address_v4::loopback(), port});
    std::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
    std::string out;
    char buf[4096];
    while (true) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        out.append(buf, n);
        if (ec) break;
    }
    return out;
}

}  // namespace

TEST(EpmdInteropOurServer, SurvivesGarbageOversizedAndHalfOpenConnections) {
    ep::ServerOptions o;
    o.packet_timeout = 60s;
    OurEpmd ours(o);
    auto reg = ep::register_node(node("edist_h", 40030), at(ours.port));
    ASSERT_TRUE(reg.ok());

    using namespace std::string_literals;
    EXPECT_EQ(raw_exchange(ours.port, "GET / HTTP/1.0\r\n\r\n"), "");
    EXPECT_EQ(raw_exchange(ours.port, "\xff\xff"s + std::string(5000, 'A')), "");
    EXPECT_EQ(raw_exchange(ours.port, "\0\0"s), "");
    // The largest packet epmd accepts (Len 3057) is still answered.
    std::string biggest = raw_exchange(ours.port, "\x0b\xf1n"s + std::string(3056, 'z'));
    EXPECT_NE(biggest.find("name edist_h at port 40030\n"), std::string::npos);
    EXPECT_EQ(raw_exchange(ours.port, "\0\1nX"s), "");

    // 1,000 connections that send half a request and then nothing.
    asio::io_context io;
    std::vector<asio::ip::tcp::socket> half;
    for (int i = 0; i < 1000; ++i) {
        half.emplace_back(io);
        half.back().connect({asio::ip::address_v4::loopback(), ours.port});
        asio::write(half.back(), asio::buffer("\0", 1));
    }
    auto t0 = Clock::now();
    auto names = ep::names(at(ours.port));
    ASSERT_TRUE(names.ok()) << names.error().what();
    EXPECT_EQ(*names, (std::vector<ep::NameEntry>{{"edist_h", 40030}}));
    EXPECT_LT(Clock::now() - t0, 5s);
    half.clear();

    // A registration that sends a byte loses its name; the server keeps answering.
    asio::ip::tcp::socket noisy(io);
    noisy.connect({asio::ip::address_v4::loopback(), ours.port});
    std::string alive = "\0\x11x\x9c\x4aM\0\0\6\0\6\0\4loud\0\0"s;
    asio::write(noisy, asio::buffer(alive));
    char reply[6];
    asio::read(noisy, asio::buffer(reply));
    EXPECT_EQ(reply[0], 'v');
    EXPECT_EQ(reply[1], 0);
    ASSERT_TRUE(names_until(ours.port, [](auto& n) { return has(n, "loud"); }));
    asio::write(noisy, asio::buffer("!", 1));
    std::error_code ec;
    noisy.read_some(asio::buffer(reply), ec);  // the server hangs up on it
    EXPECT_TRUE(ec);
    EXPECT_TRUE(names_until(ours.port, [](auto& n) { return !has(n, "loud"); }));
    EXPECT_TRUE(ep::names(at(ours.port)).ok());
    EXPECT_TRUE(has(ep::names(at(ours.port)).value(), "edist_h"));
}

TEST(EpmdInteropOurServer, IdleRequestConnectionsAreClosedAfterPacketTimeout) {
    ep::ServerOptions o;
    o.packet_timeout = 1s;
    OurEpmd ours(o);
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::address_v4::loopback(), ours.port});
    asio::write(s, asio::buffer("\0", 1));
    auto t0 = Clock::now();
    char b;
    std::error_code ec;
    s.read_some(asio::buffer(&b, 1), ec);  // blocks until the server closes it
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_GE(Clock::now() - t0, 900ms);
    EXPECT_LT(Clock::now() - t0, 10s);
}

// --- (d) `edist epmd` against OTP's `epmd` executable ----------------------------------------------
//
// The same command line run as OTP's epmd and as `edist epmd`, against the same server (a real
// epmd or a scripted listener), must print the same bytes on the same streams and exit alike.

namespace {

std::string edist_binary() { return std::string(EDIST_BINARY_DIR) + "/src/cli/edist"; }

struct Ran {
    int status = -1;  // exit status, 128 + signal, or -1 when it did not end within the limit
    std::string out, err;
    friend bool operator==(const Ran&, const Ran&) = default;
    friend std::ostream& operator<<(std::ostream& os, const Ran& r) {
        return os << "status " << r.status << ", stdout [" << r.out << "], stderr [" << r.err << "]";
    }
};

// Runs argv to its end with stdout and stderr captured apart. `extra_fd`, when ≥ 0, is passed
// on as descriptor 5 (something a daemon must not keep).
Ran run_argv(std::vector<std::string> argv, int extra_fd = -1, std::chrono::milliseconds limit = 30s) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (extra_fd >= 0) posix_spawn_file_actions_adddup2(&fa, extra_fd, 5);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    Ran r;
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        throw std::runtime_error("cannot start " + argv[0]);
    }
    // Until both streams end (a daemon that kept them would hold this up to `limit`).
    auto deadline = Clock::now() + limit;
    pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* into[2] = {&r.out, &r.err};
    int open_streams = 2;
    while (open_streams > 0 && Clock::now() < deadline) {
        int ms = static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
        if (poll(p, 2, std::max(ms, 1)) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (p[i].fd < 0 || p[i].revents == 0) continue;
            char buf[4096];
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n > 0) {
                into[i]->append(buf, static_cast<std::size_t>(n));
            } else {
                close(p[i].fd);
                p[i].fd = -1;
                --open_streams;
            }
        }
    }
    for (auto& q : p)
        if (q.fd >= 0) close(q.fd);
    if (open_streams > 0) {
        ::kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return r;  // status -1
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// `epmd ARGS...` and `edist epmd ARGS...`.
Ran otp_epmd(std::vector<std::string> args) {
    args.insert(args.begin(), "epmd");
    return run_argv(std::move(args));
}
Ran edist_epmd(std::vector<std::string> args) {
    args.insert(args.begin(), {edist_binary(), "epmd"});
    return run_argv(std::move(args));
}

// A listener on 127.0.0.1 that answers every connection with `reply` (after the request has
// arrived) and closes it: a scripted stand-in for an epmd.
class ScriptedEpmd {
public:
    explicit ScriptedEpmd(std::string reply)
        : reply_(std::move(reply)),
          acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
        port = acceptor_.local_endpoint().port();
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~ScriptedEpmd() {
        asio::post(io_, [this] { acceptor_.close(); });
        thread_.join();
    }
    std::uint16_t port = 0;

private:
    void accept() {
        acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
            if (ec) return;
            auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(s));
            auto buf = std::make_shared<std::array<char, 4096>>();
            sock->async_read_some(asio::buffer(*buf), [this, sock, buf](std::error_code, std::size_t) {
                asio::async_write(*sock, asio::buffer(reply_), [sock](std::error_code, std::size_t) {
                    std::error_code ignored;
                    sock->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                    sock->close(ignored);
                });
            });
            accept();
        });
    }
    std::string reply_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

class EpmdCli : public ::testing::Test {
protected:
    void SetUp() override {
        if (access(edist_binary().c_str(), X_OK) != 0)
            GTEST_SKIP() << "build edist_cli first: " << edist_binary();
    }
};

}  // namespace

TEST_F(EpmdCli, NamesPrintsThePortTheReplyNamesAsOtp) {
    // Through a port forward the epmd names its own port, not the one asked.
    using namespace std::string_literals;
    ScriptedEpmd fwd("\0\0\x04\xd2"s + "name foo at port 5\n");
    const std::string port = std::to_string(fwd.port);
    Ran otp = otp_epmd({"-port", port, "-names"});
    EXPECT_EQ(otp, (Ran{0, "epmd: up and running on port 1234 with data:\nname foo at port 5\n", ""}));
    EXPECT_EQ(edist_epmd({"-port", port, "-names"}), otp);
    EXPECT_EQ(edist_epmd({"-port", port, "-dump"}), otp_epmd({"-port", port, "-dump"}));
}

TEST_F(EpmdCli, AListenerThatDoesNotAnswerIsReportedAsOtp) {
    ScriptedEpmd silent("");
    ScriptedEpmd one_byte("N");
    for (auto* s : {&silent, &one_byte}) {
        const std::string port = std::to_string(s->port);
        for (std::vector<std::string> req : {std::vector<std::string>{"-names"}, {"-dump"}, {"-kill"},
                                             {"-stop", "foo"}, {"-started"}}) {
            req.insert(req.begin(), {"-port", port});
            Ran otp = otp_epmd(req);
            EXPECT_EQ(otp.status, 1) << req.back();
            EXPECT_EQ(edist_epmd(req), otp) << req.back();
        }
    }
    EXPECT_EQ(otp_epmd({"-port", std::to_string(silent.port), "-names"}).out,
              "epmd: no response from local epmd\n");
    // The library tells "no reply" from "no names".
    auto r = ep::names(at(silent.port));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), Atom("closed"));
}

TEST_F(EpmdCli, StartedIsSilentAndTellsWhetherAnEpmdAnswers) {
    OtpEpmd otp;
    const std::string port = std::to_string(otp.port);
    EXPECT_EQ(otp_epmd({"-port", port, "-started"}), (Ran{0, "", ""}));
    EXPECT_EQ(edist_epmd({"-port", port, "-started"}), (Ran{0, "", ""}));
    const std::string none = std::to_string(free_port());
    EXPECT_EQ(otp_epmd({"-port", none, "-started"}), (Ran{1, "", ""}));
    EXPECT_EQ(edist_epmd({"-port", none, "-started"}), (Ran{1, "", ""}));
}

TEST_F(EpmdCli, StopSendsAnyNameAndPrintsWhatOtpPrints) {
    OtpEpmd strict;
    OtpEpmd relaxed(true);
    const std::vector<std::string> names = {"foo", std::string(300, 'a'), std::string(1000, 'b'),
                                            std::string(1001, 'c'), "\xff\xfe", ""};
    for (auto* e : {&strict, &relaxed}) {
        const std::string port = std::to_string(e->port);
        for (const auto& name : names) {
            Ran otp = otp_epmd({"-port", port, "-stop", name});
            EXPECT_EQ(edist_epmd({"-port", port, "-stop", name}), otp)
                << "name of " << name.size() << " bytes, port " << port;
        }
    }
    EXPECT_EQ(edist_epmd({"-port", std::to_string(strict.port), "-stop", "foo"}),
              (Ran{1, "epmd: local epmd responded with <>\n", ""}));
    EXPECT_EQ(edist_epmd({"-port", std::to_string(relaxed.port), "-stop", std::string(300, 'a')}),
              (Ran{0, "NOEXIST\n", ""}));
    EXPECT_EQ(edist_epmd({"-port", std::to_string(relaxed.port), "-stop", std::string(1001, 'a')}),
              (Ran{1, "epmd: Name too long!", ""}));
}

TEST_F(EpmdCli, DumpIsByteForByteOtps) {
    OtpEpmd otp;
    auto live = ep::register_node(node("edist_dump_live", 40040), at(otp.port));
    ASSERT_TRUE(live.ok());
    {
        auto gone = ep::register_node(node("edist_dump_old", 40041), at(otp.port));
        ASSERT_TRUE(gone.ok());
    }
    ASSERT_TRUE(names_until(otp.port, [](auto& n) { return !has(n, "edist_dump_old"); }));
    const std::string port = std::to_string(otp.port);
    Ran want = otp_epmd({"-port", port, "-dump"});
    EXPECT_NE(want.out.find(std::string("fd = ") ), std::string::npos) << want;
    EXPECT_NE(want.out.find('\0'), std::string::npos) << "OTP writes the entries' NULs";
    EXPECT_EQ(edist_epmd({"-port", port, "-dump"}), want);
}

TEST_F(EpmdCli, BadNumbersAndOptionsAfterARequestAreUsageErrors) {
    const std::string port = std::to_string(free_port());
    for (std::vector<std::string> bad :
         {std::vector<std::string>{"-port", port, "-packet_timeout", "0"},
          {"-port", port, "-delay_accept", "0"},
          {"-port", port, "-delay_write", "0"},
          {"-port", port, "-names", "-d"},
          {"-names", "-port", port},
          {"-port", port, "-kill", "-d"},
          {"-port", port, "-dump", "-d"},
          {"-port", port, "-started", "-d"},
          {"-port", port, "-stop", "foo", "bar"}}) {
        std::string line;
        for (auto& a : bad) line += a + " ";
        EXPECT_EQ(otp_epmd(bad).status, 1) << line;     // OTP: usage, 1
        EXPECT_EQ(edist_epmd(bad).status, 2) << line;   // edist: usage, 2 (documented)
    }
}

namespace {

// A foreground daemon: `argv` started, up once `-started` says so.
struct Foreground {
    Foreground(std::vector<std::string> argv, std::uint16_t port) : port(port), child(std::move(argv)) {
        auto deadline = Clock::now() + 20s;
        while (Clock::now() < deadline &&
               run_argv({"epmd", "-port", std::to_string(port), "-started"}).status != 0)
            std::this_thread::sleep_for(20ms);  // no event for "listening"; bounded poll
    }
    std::uint16_t port;
    Child child;
};

std::vector<std::string> otp_daemon(std::uint16_t port) {
    return {"epmd", "-port", std::to_string(port)};
}
std::vector<std::string> edist_daemon(std::uint16_t port) {
    return {edist_binary(), "epmd", "-port", std::to_string(port)};
}

}  // namespace

TEST_F(EpmdCli, ForegroundDaemonLogsLevelZeroAndDiesBySigtermAsOtp) {
    std::uint16_t p1 = free_port(), p2 = free_port();
    Foreground otp(otp_daemon(p1), p1);
    Foreground ours(edist_daemon(p2), p2);
    using namespace std::string_literals;
    // Packets each daemon drops with a level-0 line, in OTP's words.
    const std::vector<std::string> packets = {
        "\0\1Z"s,                                   // got garbage
        "\0\0"s,                                    // invalid packet size (0)
        "\0\1z"s,                                   // PORT2_REQ without a name
        "\0\x0bx\0\1M\0\0\6\0\5\0\0"s + "\0\0\0"s,  // more than announced
        "\0\x0bx\0\1M\0\0\6\0\5\0\0"s,              // ALIVE2_REQ too small
    };
    // Registrations refused (answered, the connection then closed by us).
    auto alive2 = [](const std::string& name, const std::string& extra) {
        std::string body = "x\x9c\x40M\0\0\6\0\5"s;
        body += static_cast<char>(name.size() >> 8);
        body += static_cast<char>(name.size() & 0xff);
        body += name;
        body += static_cast<char>(extra.size() >> 8);
        body += static_cast<char>(extra.size() & 0xff);
        body += extra;
        return std::string{static_cast<char>(body.size() >> 8), static_cast<char>(body.size() & 0xff)} + body;
    };
    const std::vector<std::string> refused = {
        alive2("\xff\xfe", ""),                          // invalid node name encoding
        alive2(std::string(256, 'n'), ""),               // node name is too long (256) nnn...
        alive2("edist_extra", std::string(1021, 'E')),  // extra data is too long (1021) EEE...
    };
    const std::size_t expected = packets.size() + refused.size();
    std::vector<std::string> logged[2];
    int i = 0;
    for (auto* d : {&otp, &ours}) {
        for (const auto& p : packets) EXPECT_EQ(raw_exchange(d->port, p), "");
        for (const auto& p : refused) {
            asio::io_context io;
            asio::ip::tcp::socket sock(io);
            sock.connect({asio::ip::address_v4::loopback(), d->port});
            asio::write(sock, asio::buffer(p));
            std::array<char, 6> reply{};
            asio::read(sock, asio::buffer(reply));  // 'v', 1 (refused), creation 99
            EXPECT_EQ(reply[0], 'v');
            EXPECT_EQ(reply[1], 1);
        }
        // The lines come when the daemon has seen the packets: read until all are there.
        std::string said;
        auto lines = [&] { return static_cast<std::size_t>(std::count(said.begin(), said.end(), '\n')); };
        auto deadline = Clock::now() + 10s;
        while (lines() < expected && Clock::now() < deadline) said = d->child.output(100ms);
        // "epmd: Sun Nov 22 04:50:53 2026: invalid packet size (0)\r\n": the text after the
        // ctime() stamp is compared.
        std::size_t at = 0;
        while (at < said.size()) {
            std::size_t nl = said.find("\r\n", at);
            ASSERT_NE(nl, std::string::npos) << said;
            std::string line = said.substr(at, nl - at);
            at = nl + 2;
            ASSERT_TRUE(line.starts_with("epmd: ")) << line;
            ASSERT_GT(line.size(), 6u + 24 + 2) << line;
            EXPECT_EQ(line.substr(6 + 24, 2), ": ") << "a ctime() stamp: " << line;
            logged[i].push_back(line.substr(6 + 24 + 2));
        }
        ::kill(d->child.pid(), SIGTERM);
        EXPECT_EQ(d->child.wait(), 128 + SIGTERM) << said;
        ++i;
    }
    EXPECT_EQ(logged[0].size(), expected);
    EXPECT_EQ(logged[1], logged[0]);
}

TEST_F(EpmdCli, ListensOnOtherLoopbackAddressesGiven) {
    // OTP's epmd listens on 127.0.0.2 when asked, besides 127.0.0.1 and ::1.
    ep::ServerOptions o;
    o.addresses = {"127.0.0.2"};
    OurEpmd ours(o);
    auto o2 = at(ours.port);
    o2.host = "127.0.0.2";
    auto r = ep::names(o2);
    EXPECT_TRUE(r.ok()) << r.error().what();
    EXPECT_TRUE(ep::names(at(ours.port)).ok());

    std::uint16_t p = free_port();
    Foreground cli({edist_binary(), "epmd", "-port", std::to_string(p), "-address", "127.0.0.2"}, p);
    auto o3 = at(p);
    o3.host = "127.0.0.2";
    auto r3 = ep::names(o3);
    EXPECT_TRUE(r3.ok()) << r3.error().what();
}

namespace {

// The `edist epmd -port P -daemon` process, found by its command line; -1 if none.
pid_t daemon_pid(std::uint16_t port) {
    const std::string want = std::string("epmd") + '\0' + "-port" + '\0' + std::to_string(port) +
                             '\0' + "-daemon" + '\0';
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream f(e.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (cmdline.starts_with(edist_binary() + '\0') && cmdline.ends_with(want))
            return static_cast<pid_t>(std::stol(name));
    }
    return -1;
}

}  // namespace

TEST_F(EpmdCli, DaemonDetachesFromEveryInheritedDescriptor) {
    const std::uint16_t port = free_port();
    struct KillAtEnd {  // whatever fails below, no daemon is left behind
        std::uint16_t port;
        ~KillAtEnd() { edist_epmd({"-port", std::to_string(port), "-kill"}); }
    } kill_at_end{port};
    int held[2];
    ASSERT_EQ(pipe2(held, O_CLOEXEC), 0);
    Ran started = run_argv({edist_binary(), "epmd", "-port", std::to_string(port), "-daemon"}, held[1]);
    close(held[1]);
    EXPECT_EQ(started, (Ran{0, "", ""}));  // stdout and stderr ended: the daemon kept neither
    // Nor descriptor 5: its reader sees the end of file at once.
    pollfd pf{held[0], POLLIN, 0};
    ASSERT_EQ(poll(&pf, 1, 10000), 1);
    char b;
    EXPECT_EQ(read(held[0], &b, 1), 0);
    close(held[0]);
    EXPECT_EQ(edist_epmd({"-port", std::to_string(port), "-started"}).status, 0);
    // The daemon itself: not a session leader (it forked twice), in `/`, and holding nothing
    // but /dev/null on 0-2 and its own sockets, pipes and event descriptors.
    pid_t daemon = daemon_pid(port);
    ASSERT_GT(daemon, 0);
    std::ifstream stat("/proc/" + std::to_string(daemon) + "/stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string state;
    long ppid = 0, pgrp = 0, session = 0;
    fields >> state >> ppid >> pgrp >> session;
    EXPECT_NE(session, daemon);
    EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(daemon) + "/cwd"), "/");
    for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(daemon) + "/fd")) {
        const int n = std::stoi(fd.path().filename().string());
        const std::string to = std::filesystem::read_symlink(fd.path()).string();
        if (n <= 2)
            EXPECT_EQ(to, "/dev/null") << n;
        else
            EXPECT_TRUE(to.starts_with("socket:") || to.starts_with("anon_inode:") ||
                        to.starts_with("pipe:"))
                << n << " -> " << to;
    }
    EXPECT_EQ(edist_epmd({"-port", std::to_string(port), "-kill"}), (Ran{0, "Killed\n", ""}));
}
