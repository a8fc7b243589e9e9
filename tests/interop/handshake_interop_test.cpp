// The handshake against a real erl (the one installed, OTP 25 here), over plain blocking
// sockets. Each test suite runs its own epmd on a random port (ERL_EPMD_PORT), and every
// process started here is ended by its pid when the suite ends.
//
// erl runs a tiny command loop on stdin: the test writes an Erlang expression line, erl
// prints "RESULT <value>"; that line (not a sleep) is what the test waits for.
#include "handshake/handshake.hpp"

#include <edist/cookie.hpp>
#include <edist/etf.hpp>
#include <edist/term.hpp>

#include <gtest/gtest.h>

#include <asio.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

extern char** environ;

using namespace edist;
using namespace edist::handshake;
using namespace std::chrono_literals;
using asio::ip::tcp;
using Bytes = std::vector<std::uint8_t>;

namespace {

// --- processes --------------------------------------------------------------------------

std::uint16_t free_port() {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

// A child process with stdin, stdout and stderr on pipes; killed by pid when destroyed.
class Child {
public:
    Child(std::vector<std::string> argv, std::vector<std::string> extra_env) {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, out[1], 2);
        posix_spawn_file_actions_addclose(&fa, in[1]);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        std::vector<std::string> env_store;
        for (char** e = environ; *e; ++e) {
            std::string_view v(*e);
            bool overridden = false;
            for (auto& x : extra_env)
                if (v.substr(0, v.find('=') + 1) == x.substr(0, x.find('=') + 1)) overridden = true;
            if (!overridden) env_store.emplace_back(v);
        }
        for (auto& x : extra_env) env_store.push_back(x);
        std::vector<char*> envp;
        for (auto& e : env_store) envp.push_back(e.data());
        envp.push_back(nullptr);
        const int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
        stdin_ = in[1];
        stdout_ = out[0];
    }
    ~Child() {
        if (stdin_ >= 0) close(stdin_);
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(stdout_);
    }
    void write_line(const std::string& line) {
        const std::string l = line + "\n";
        ASSERT_EQ(::write(stdin_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
    }
    // Reads output until a line containing `needle` appears; returns that line ("" on timeout).
    std::string wait_for(std::string_view needle, std::chrono::milliseconds timeout = 20s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                log_ += line + "\n";
                if (line.find(needle) != std::string::npos) return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left <= 0ms) return "";
            pollfd p{stdout_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
            char buf[4096];
            const ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n <= 0) return "";
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }
    const std::string& log() const { return log_; }

private:
    pid_t pid_ = -1;
    int stdin_ = -1, stdout_ = -1;
    std::string buffer_, log_;
};

// A command loop: each stdin line is an expression list; its value is printed on one line.
const char* erl_loop =
    "io:format(\"READY~n\"),"
    "Loop = fun L() -> case io:parse_erl_exprs('') of"
    "  {ok, E, _} -> V = try element(2, erl_eval:exprs(E, [])) catch C:R -> {C, R} end,"
    "                io:format(\"RESULT ~w~n\", [V]), L();"
    "  _ -> halt() end end,"
    "Loop().";

struct Erl {
    std::unique_ptr<Child> proc;
    std::string node;
    std::string eval(const std::string& expr) {
        proc->write_line(expr);
        const std::string line = proc->wait_for("RESULT ");
        return line.empty() ? "<no answer>" : line.substr(line.find("RESULT ") + 7);
    }
};

std::uint16_t epmd_port = 0;
std::unique_ptr<Child> epmd;

Erl start_erl(const std::string& sname, const std::string& cookie) {
    Erl e;
    e.node = sname + "@localhost";
    e.proc = std::make_unique<Child>(
        std::vector<std::string>{"erl", "-noshell", "-sname", e.node, "-setcookie", cookie,
                                 "-start_epmd", "false", "-kernel", "net_setuptime", "5",
                                 "-eval", erl_loop},
        std::vector<std::string>{"ERL_EPMD_PORT=" + std::to_string(epmd_port)});
    EXPECT_NE(e.proc->wait_for("READY"), "") << e.proc->log();
    return e;
}

// --- epmd, by hand (plain socket bytes, so this test needs nothing from src/epmd) -------

Bytes epmd_request(tcp::socket& s, const Bytes& body) {
    Bytes req{static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
    req.insert(req.end(), body.begin(), body.end());
    asio::write(s, asio::buffer(req));
    Bytes reply(512);
    const std::size_t n = s.read_some(asio::buffer(reply));
    reply.resize(n);
    return reply;
}

std::uint16_t port_please(asio::io_context& io, std::string_view name) {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), epmd_port));
    Bytes body{122};
    body.insert(body.end(), name.begin(), name.end());
    const Bytes r = epmd_request(s, body);
    if (r.size() < 4 || r[0] != 119 || r[1] != 0) return 0;
    return static_cast<std::uint16_t>(r[2] << 8 | r[3]);
}

// ALIVE2_REQ; the socket must stay open as long as the name is registered. Returns creation.
std::uint32_t alive2(tcp::socket& s, std::string_view name, std::uint16_t port) {
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), epmd_port));
    Bytes body{120, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port), 72, 0,
               0, 6, 0, 6, 0, static_cast<std::uint8_t>(name.size())};
    body.insert(body.end(), name.begin(), name.end());
    body.push_back(0);
    body.push_back(0);
    const Bytes r = epmd_request(s, body);
    if (r.size() >= 6 && r[0] == 118 && r[1] == 0)
        return std::uint32_t{r[2]} << 24 | std::uint32_t{r[3]} << 16 | r[4] << 8 | r[5];
    if (r.size() >= 4 && r[0] == 121 && r[1] == 0) return static_cast<std::uint32_t>(r[2] << 8 | r[3]);
    return 0;
}

// --- driving a Handshake over a blocking socket ------------------------------------------

struct Outcome {
    std::optional<Completed> completed;
    std::optional<Failed> failed;
};

Outcome run(Handshake& hs, tcp::socket& s, ConnectionState state = ConnectionState::none) {
    Outcome o;
    for (;;) {
        if (auto out = hs.take_output(); !out.empty()) {
            asio::error_code ec;
            asio::write(s, asio::buffer(out), ec);
        }
        while (auto e = hs.poll_event()) {
            const auto now = Clock::now();
            if (std::holds_alternative<AcceptPending>(*e)) hs.accept_pending(state, now);
            else if (std::holds_alternative<IsPending>(*e)) hs.is_pending(true, now);
            else if (std::holds_alternative<WaitPending>(*e)) hs.pending_released(now);
            else if (auto* c = std::get_if<Completed>(&*e)) o.completed = std::move(*c);
            else if (auto* f = std::get_if<Failed>(&*e)) o.failed = std::move(*f);
        }
        if (auto out = hs.take_output(); !out.empty()) {
            asio::error_code ec;
            asio::write(s, asio::buffer(out), ec);
        }
        if (hs.done()) return o;
        // Wait for bytes, but no longer than the step's deadline.
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            *hs.deadline() - Clock::now());
        pollfd p{s.native_handle(), POLLIN, 0};
        if (left <= 0ms || poll(&p, 1, static_cast<int>(left.count()) + 1) == 0) {
            hs.handle_timeout(Clock::now());
            continue;
        }
        std::uint8_t buf[4096];
        asio::error_code ec;
        const std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (ec) hs.receive_eof(Clock::now());
        else hs.receive(std::span(buf, n), Clock::now());
    }
}

// --- the connected state, by hand: 4-byte framing, pass-through 'p' messages ------------

void send_pass_through(tcp::socket& s, const Term& ctrl, const Term& msg) {
    Bytes body{'p'};
    const Bytes c = etf::encode(ctrl), m = etf::encode(msg);
    body.insert(body.end(), c.begin(), c.end());
    body.insert(body.end(), m.begin(), m.end());
    const std::uint32_t n = static_cast<std::uint32_t>(body.size());
    Bytes frame{static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    frame.insert(frame.end(), body.begin(), body.end());
    asio::write(s, asio::buffer(frame));
}

// Reads 4-byte framed packets (skipping ticks) until one decodes to a message `accept`s.
// `pending` holds bytes already read (Completed::rest).
std::optional<std::pair<Term, Term>> recv_pass_through(
    tcp::socket& s, Bytes& pending, const std::function<bool(const Term&, const Term&)>& accept) {
    const auto until = Clock::now() + 10s;
    while (Clock::now() < until) {
        while (pending.size() >= 4) {
            const std::size_t len = std::size_t{pending[0]} << 24 | std::size_t{pending[1]} << 16 |
                                    std::size_t{pending[2]} << 8 | pending[3];
            if (pending.size() < 4 + len) break;
            Bytes packet(pending.begin() + 4, pending.begin() + 4 + static_cast<std::ptrdiff_t>(len));
            pending.erase(pending.begin(), pending.begin() + 4 + static_cast<std::ptrdiff_t>(len));
            if (packet.empty() || packet[0] != 'p') continue; // tick
            std::size_t off = 2; // 'p' 131
            auto ctrl = etf::decode_at(packet, off);
            if (!ctrl.ok()) continue;
            Term msg;
            if (off < packet.size()) {
                ++off; // 131
                auto m = etf::decode_at(packet, off);
                if (m.ok()) msg = *m;
            }
            if (accept(*ctrl, msg)) return std::make_pair(*ctrl, msg);
        }
        pollfd p{s.native_handle(), POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0) break;
        std::uint8_t buf[4096];
        asio::error_code ec;
        const std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (ec) break;
        pending.insert(pending.end(), buf, buf + n);
    }
    return std::nullopt;
}

Config our_config(std::string name, std::string cookie, std::uint32_t creation) {
    Config c;
    c.this_node = std::move(name);
    c.this_creation = creation;
    c.cookie = std::move(cookie);
    c.name_mode = NameMode::shortnames;
    return c;
}

class HandshakeInterop : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        epmd_port = free_port();
        epmd = std::make_unique<Child>(
            std::vector<std::string>{"epmd", "-port", std::to_string(epmd_port), "-d"},
            std::vector<std::string>{});
        ASSERT_NE(epmd->wait_for("epmd running"), "") << epmd->log();
        // epmd prints that line before it binds the port: wait until it accepts a connection.
        ASSERT_TRUE(accepts_connections(epmd_port)) << epmd->log();
    }
    static bool accepts_connections(std::uint16_t port) {
        asio::io_context io;
        const auto until = std::chrono::steady_clock::now() + 10s;
        for (;;) {
            asio::ip::tcp::socket s(io);
            asio::error_code ec;
            s.connect({asio::ip::address_v4::loopback(), port}, ec);
            if (!ec) return true;
            if (std::chrono::steady_clock::now() > until) return false;
            std::this_thread::sleep_for(10ms);
        }
    }
    static void TearDownTestSuite() { epmd.reset(); }
    asio::io_context io;
};

} // namespace

TEST_F(HandshakeInterop, OurInitiatorCompletesWithErlAndAPingGetsYes) {
    Erl erl = start_erl("hsacc", "c00kie");
    const std::uint16_t port = port_please(io, "hsacc");
    ASSERT_NE(port, 0);
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    Config c = our_config("cpp1@localhost", "c00kie", 0x0EDC0101);
    c.peer_node = erl.node;
    Handshake hs = Handshake::initiate(c, Clock::now());
    Outcome o = run(hs, s);
    ASSERT_TRUE(o.completed) << (o.failed ? o.failed->error.what() : "no outcome");
    EXPECT_EQ(o.completed->peer_node, erl.node);
    EXPECT_FALSE(o.completed->published());

    // erl sees us as a hidden node.
    EXPECT_EQ(erl.eval("lists:member('cpp1@localhost', nodes(hidden))."), "true");

    // A real net_adm:ping, from our side: {'$gen_call', {Pid, Ref}, {is_auth, Node}} to
    // net_kernel as REG_SEND in pass-through framing; net_kernel answers {Ref, yes}.
    const Atom me("cpp1@localhost");
    const Pid pid{me, 1, 0, c.this_creation};
    Ref ref{me, c.this_creation, 3, {7, 8, 9, 0, 0}};
    send_pass_through(s, tuple(6, pid, atoms::empty, atom("net_kernel")),
                      tuple(atom("$gen_call"), tuple(pid, ref), tuple(atom("is_auth"), me)));
    Bytes pending = o.completed->rest;
    auto reply = recv_pass_through(s, pending, [&](const Term&, const Term& msg) {
        return msg.is_tuple(2) && msg[0] == Term(ref);
    });
    ASSERT_TRUE(reply) << "no reply to is_auth";
    EXPECT_TRUE(reply->second[1].is_atom(atom("yes")));
}

TEST_F(HandshakeInterop, ErlInitiatesAndOurAcceptorCompletesItsPing) {
    Erl erl = start_erl("hsini", "c00kie");
    tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket epmd_conn(io);
    const std::uint32_t creation = alive2(epmd_conn, "cpp2", listener.local_endpoint().port());
    ASSERT_NE(creation, 0u);

    erl.proc->write_line("net_adm:ping('cpp2@localhost').");
    tcp::socket s(io);
    listener.accept(s);
    Handshake hs = Handshake::accept(our_config("cpp2@localhost", "c00kie", creation), Clock::now());
    Outcome o = run(hs, s);
    ASSERT_TRUE(o.completed) << (o.failed ? o.failed->error.what() : "no outcome");
    EXPECT_EQ(o.completed->peer_node, erl.node);
    EXPECT_EQ(o.completed->this_creation, creation);

    // erl's ping is a gen_call to our net_kernel: answer it as net_kernel would.
    Bytes pending = o.completed->rest;
    auto call = recv_pass_through(s, pending, [](const Term& ctrl, const Term& msg) {
        return ctrl.is_tuple() && ctrl[0] == Term(6) && msg.is_tuple(3) &&
               msg[0].is_atom(atom("$gen_call"));
    });
    ASSERT_TRUE(call) << "no is_auth call from erl";
    const Term& from = call->second[1];
    send_pass_through(s, tuple(2, atoms::empty, from[0]), tuple(from[1], atom("yes")));
    EXPECT_EQ(erl.proc->wait_for("RESULT "), "RESULT pong");
}

TEST_F(HandshakeInterop, WrongCookieIsRefusedByErlAndByUs) {
    Erl erl = start_erl("hscookie", "rightcookie");
    {
        // We dial with the wrong cookie: erl rejects our reply and closes.
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_please(io, "hscookie")));
        Config c = our_config("cpp3@localhost", "wrongcookie", 0x0EDC0103);
        c.peer_node = erl.node;
        Handshake hs = Handshake::initiate(c, Clock::now());
        Outcome o = run(hs, s);
        ASSERT_TRUE(o.failed);
        EXPECT_EQ(o.failed->error.reason(), Atom("closed"));
        EXPECT_NE(std::string(o.failed->error.what()).find("cookie differs"), std::string::npos)
            << o.failed->error.what();
        EXPECT_NE(erl.proc->wait_for("Invalid challenge reply"), "") << erl.proc->log();
    }
    {
        // erl dials us with a cookie we do not share: we refuse, its ping says pang.
        tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        tcp::socket epmd_conn(io);
        const std::uint32_t creation = alive2(epmd_conn, "cpp4", listener.local_endpoint().port());
        erl.proc->write_line("net_adm:ping('cpp4@localhost').");
        tcp::socket s(io);
        listener.accept(s);
        Handshake hs =
            Handshake::accept(our_config("cpp4@localhost", "wrongcookie", creation), Clock::now());
        Outcome o = run(hs, s);
        ASSERT_TRUE(o.failed);
        EXPECT_EQ(o.failed->error.reason(), Atom("bad_cookie"));
        EXPECT_NE(std::string(o.failed->error.what()).find(erl.node), std::string::npos);
        s.close();
        EXPECT_EQ(erl.proc->wait_for("RESULT "), "RESULT pang");
    }
}

TEST_F(HandshakeInterop, ErlRefusesAnOfferWithoutItsMandatoryFlags) {
    Erl erl = start_erl("hsflags", "c00kie");
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_please(io, "hsflags")));
    Config c = our_config("cpp5@localhost", "c00kie", 0x0EDC0105);
    c.peer_node = erl.node;
    c.offer = dflag::EDIST_MINIMAL & ~(dflag::MANDATORY_25_DIGEST | dflag::MAP_TAG);
    Handshake hs = Handshake::initiate(c, Clock::now());
    Outcome o = run(hs, s);
    ASSERT_TRUE(o.failed);
    EXPECT_EQ(o.failed->error.reason(), Atom("not_allowed"));
    EXPECT_NE(erl.proc->wait_for("cannot handle"), "") << erl.proc->log();
}

TEST_F(HandshakeInterop, StalledTruncatedAndGarbageInitiatorsFailCleanly) {
    tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto endpoint = listener.local_endpoint();
    Config c = our_config("cpp6@localhost", "c00kie", 0x0EDC0106);
    c.setup_time = 300ms;
    struct Case {
        Bytes send;
        bool close_after;
        const char* reason;
    };
    for (const Case& k : std::vector<Case>{
             {{}, false, "timeout"},                             // connects, says nothing
             {{0, 30, 'N', 0, 0, 0}, true, "closed"},            // half a name, then closes
             {{0, 30, 'N', 0, 0, 0}, false, "timeout"},          // half a name, then stalls
             {{0, 3, 'G', 'E', 'T'}, false, "recv_name_failed"}, // not a handshake at all
         }) {
        tcp::socket client(io);
        client.connect(endpoint);
        if (!k.send.empty()) asio::write(client, asio::buffer(k.send));
        if (k.close_after) client.shutdown(tcp::socket::shutdown_send);
        tcp::socket s(io);
        listener.accept(s);
        Handshake hs = Handshake::accept(c, Clock::now());
        const auto start = Clock::now();
        Outcome o = run(hs, s);
        ASSERT_TRUE(o.failed);
        EXPECT_EQ(o.failed->error.reason(), Atom(k.reason)) << o.failed->error.what();
        EXPECT_LT(Clock::now() - start, 5s);
    }
}

TEST_F(HandshakeInterop, CookieFilesAreSharedWithErl) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("edist-cookie-" + std::to_string(getpid()) + "-" + std::to_string(free_port()));
    std::filesystem::create_directories(dir / "ours");
    std::filesystem::create_directories(dir / "erls");
    // We create it; erl's auth reads the same cookie.
    auto ours = create_cookie_file(dir / "ours" / ".erlang.cookie");
    ASSERT_TRUE(ours.ok()) << ours.error().what();
    auto read_by_erl = [&](const std::filesystem::path& home) {
        Child erl({"erl", "-noshell", "-eval",
                   "{ok, _} = auth:start_link(), io:format(\"COOKIE ~s~n\", "
                   "[gen_server:call(auth, get_our_cookie)]), halt()."},
                  {"HOME=" + home.string(), "ERL_EPMD_PORT=" + std::to_string(epmd_port)});
        const std::string line = erl.wait_for("COOKIE ");
        return line.empty() ? line : line.substr(line.find("COOKIE ") + 7);
    };
    EXPECT_EQ(read_by_erl(dir / "ours"), *ours);
    // erl creates one; we read the same cookie, and it has erl's shape.
    const std::string erls = read_by_erl(dir / "erls");
    auto read = read_cookie_file(dir / "erls" / ".erlang.cookie");
    ASSERT_TRUE(read.ok()) << read.error().what();
    EXPECT_EQ(*read, erls);
    struct stat a{}, b{};
    ASSERT_EQ(stat((dir / "ours" / ".erlang.cookie").c_str(), &a), 0);
    ASSERT_EQ(stat((dir / "erls" / ".erlang.cookie").c_str(), &b), 0);
    EXPECT_EQ(a.st_mode & 0777, b.st_mode & 0777);
    EXPECT_EQ(a.st_size, b.st_size);
    std::filesystem::permissions(dir / "ours" / ".erlang.cookie", std::filesystem::perms::owner_all);
    std::filesystem::permissions(dir / "erls" / ".erlang.cookie", std::filesystem::perms::owner_all);
    std::filesystem::remove_all(dir);
}
