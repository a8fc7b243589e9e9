// EPMD against the real thing: our client against OTP 25's `epmd`, our Server against `erl`
// nodes and OTP's `epmd -names`, and our Server under hostile input. Every test uses a random
// free port (never 4369), starts `erl` with -start_epmd false so no daemon is left behind, and
// kills the process groups it started. Waiting is on events (a child's exit, a reply); where
// epmd offers no event (a name appearing), a bounded poll with a deadline is used.
#include <edist/epmd.hpp>

#include <asio.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
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
