// Node, process and RPC benchmarks: edist nodes and BEAM nodes measured side by side, in one
// run, the same way.
//
//   node_bench node|processes|rpc --epmd-port P --ebin DIR [--quick] [--procs N] [--reps R]
//              [--only oneway|rtt|bandwidth|setup] [--pairs cpp_cpp,beam_cpp,...]
//              [--callers 1|100] [--calls M]
//
// The driver starts a control node and the C++ nodes in this process, and erl nodes running
// bench/beam_node_bench.erl (from DIR, compiled by scripts/bench_node.sh) that it commands
// over distribution. Each measurement is taken on both sides with the same protocol (the
// same messages, the same acknowledgement at the end, the clock read by the side that
// starts and ends the work) and repeated R times, interleaved so load hits both alike; the
// best repetition is kept. Results are lines
//
//   result <group> <metric> <pair> <value> <unit>
//
// that scripts/bench_node.sh turns into the table and ratios. epmd must already run on P.
#include <edist/etf.hpp>
#include <edist/node.hpp>
#include <edist/rpc.hpp>

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace edist;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string mode;
    std::uint16_t epmd_port = 0;
    std::string ebin;
    std::string cookie = "edist_node_bench";
    bool quick = false;
    int reps = 3;
    long procs = 1'000'000;
    std::string pairs; // node and rpc modes: a comma-separated subset of the pairs
    std::string only;  // node mode: one of oneway, rtt, bandwidth, setup (e.g. for a profile)
    int callers = 0;   // rpc mode: only this number of callers (1 or 100); 0: both
    int calls = 0;     // rpc mode: calls per caller instead of the default (e.g. for a profile)
};
Options opt;

long micros_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

void result(std::string_view group, std::string_view metric, std::string_view pair, double value,
            std::string_view unit) {
    std::printf("result %.*s %.*s %.*s %.6g %.*s\n", int(group.size()), group.data(), int(metric.size()),
                metric.data(), int(pair.size()), pair.data(), value, int(unit.size()), unit.data());
    std::fflush(stdout);
}

std::shared_ptr<Node> start_node(const std::string& name) {
    NodeOptions o;
    o.name = name + "_" + std::to_string(::getpid());
    o.cookie = opt.cookie;
    o.epmd_port = opt.epmd_port;
    o.embedded_epmd = false;
    o.threads = 1;
    auto n = Node::start(std::move(o));
    if (!n) throw std::runtime_error("cannot start node " + name + ": " + n.error().what());
    return *n;
}

// Waits for a value a coroutine process sets.
template <class T>
T await(std::future<T>& f, std::chrono::seconds limit, std::string_view what) {
    if (f.wait_for(limit) != std::future_status::ready) throw std::runtime_error("timed out: " + std::string(what));
    return f.get();
}

// --- The C++ roles: the same protocol as beam_node_bench.erl ------------------------------

const Atom a_msg = atom("bench_msg"), a_last = atom("bench_last"), a_ack = atom("bench_ack"),
           a_ping = atom("bench_ping"), a_pong = atom("bench_pong"), a_stop = atom("stop"),
           a_started = atom("started");

// Counts {bench_msg, _}; {bench_last, From} answers {bench_ack, Count}.
Pid spawn_sink(Node& n) {
    return *n.spawn([](Self self) -> Task<> {
        long count = 0;
        for (;;) {
            auto m = co_await self.receive();
            if (m->is_tuple(2) && (*m)[0].is_atom(a_msg)) {
                ++count;
            } else if (m->is_tuple(2) && (*m)[0].is_atom(a_last)) {
                self.send((*m)[1].as_pid(), tuple(a_ack, count));
                count = 0;
            } else if (m->is_atom(a_stop)) {
                co_return;
            }
        }
    });
}

Pid spawn_echo(Node& n) {
    return *n.spawn([](Self self) -> Task<> {
        for (;;) {
            auto m = co_await self.receive();
            if (m->is_tuple(2) && (*m)[0].is_atom(a_ping)) self.send((*m)[1].as_pid(), Term(a_pong));
            else if (m->is_atom(a_stop)) co_return;
        }
    });
}

// Sends everything, then {bench_last, self()}, and stops the clock at the sink's count, as the
// BEAM sender does. A busy connection suspends the process at its next co_await (as BEAM
// suspends a sender on a busy distribution port), so it yields after every 1 MB it sends: on a
// one-thread node that is also when its connection writes.
long cpp_send(Node& n, Pid to, long count, Term payload) {
    auto done = std::make_shared<std::promise<long>>();
    auto f = done->get_future();
    const long stretch = std::max<long>(1, long((1u << 20) / (etf::encoded_size(payload) + 32)));
    n.spawn([=](Self self) -> Task<> {
        const auto t0 = Clock::now();
        const Term msg = tuple(a_msg, payload);
        for (long i = 1; i <= count; ++i) {
            self.send(to, msg);
            if (i % stretch == 0) co_await self.yield();
        }
        self.send(to, tuple(a_last, self.pid()));
        auto ack = co_await self.receive([](const Term& t) { return t.is_tuple(2) && t[0].is_atom(a_ack); });
        // A sink that saw fewer messages than were sent means a connection was lost on the way.
        done->set_value((*ack)[1].as_int64() == count ? micros_since(t0) : -1);
    });
    long us = await(f, 300s, "cpp_send");
    if (us < 0) throw std::runtime_error("cpp_send: the sink did not get every message");
    return us;
}

long cpp_ping_pong(Node& n, Pid echo, long k) {
    auto done = std::make_shared<std::promise<long>>();
    auto f = done->get_future();
    n.spawn([=](Self self) -> Task<> {
        const auto t0 = Clock::now();
        const Term ping = tuple(a_ping, self.pid());
        for (long i = 0; i < k; ++i) {
            self.send(echo, ping);
            co_await self.receive();
        }
        done->set_value(micros_since(t0));
    });
    return await(f, 300s, "cpp_ping_pong");
}

// The kernel's own floor for a round trip: two threads ping-ponging 32 bytes over loopback
// TCP with blocking calls, no runtime at all. Neither node can go below it without spinning.
double loopback_floor_rtt_us(long k) {
    int ls = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls, 1) != 0 ||
        ::getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("loopback floor: cannot listen");
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("loopback floor: connect");
    int s = ::accept(ls, nullptr, nullptr);
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto exactly = [](int fd, char* buf, std::size_t n) {
        for (std::size_t got = 0; got < n;) {
            ssize_t r = ::recv(fd, buf + got, n - got, 0);
            if (r <= 0) return false;
            got += static_cast<std::size_t>(r);
        }
        return true;
    };
    std::thread echo([&] {
        char b[32];
        for (long i = 0; i < k && exactly(s, b, sizeof b); ++i) ::send(s, b, sizeof b, 0);
    });
    char b[32] = {};
    const auto t0 = Clock::now();
    for (long i = 0; i < k; ++i) {
        ::send(c, b, sizeof b, 0);
        if (!exactly(c, b, sizeof b)) break;
    }
    const double us = double(micros_since(t0)) / k;
    echo.join();
    ::close(c);
    ::close(s);
    ::close(ls);
    return us;
}

bool connected(Node& n, Atom peer) {
    auto ns = n.nodes();
    return std::find(ns.begin(), ns.end(), peer) != ns.end();
}

// R setups from no connection; the total of the connect() calls alone.
long cpp_connect(Node& n, Atom peer, int r) {
    long total = 0;
    for (int i = 0; i < r; ++i) {
        n.disconnect(peer);
        for (int w = 0; connected(n, peer) && w < 5000; ++w) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(50ms); // as beam_node_bench.erl: the peer notices the disconnect
        const auto t0 = Clock::now();
        if (!n.connect(peer)) throw std::runtime_error("connect failed to " + peer.str());
        total += micros_since(t0);
    }
    n.disconnect(peer);
    return total;
}

// C coroutine processes, each making M erpc calls of module:function(args) on `peer`.
long cpp_erpc(Node& n, Atom peer, Atom mod, Atom fun, Term args, int callers, int m) {
    auto done = std::make_shared<std::promise<long>>();
    auto f = done->get_future();
    auto left = std::make_shared<std::atomic<int>>(callers);
    auto failures = std::make_shared<std::atomic<long>>(0);
    const auto t0 = Clock::now();
    for (int c = 0; c < callers; ++c) {
        n.spawn([=](Self self) -> Task<> {
            for (int i = 0; i < m; ++i) {
                CallOutcome out = co_await erpc::call(self, peer, mod, fun, args);
                if (!out.ok) failures->fetch_add(1);
            }
            if (left->fetch_sub(1) == 1) done->set_value(micros_since(t0));
        });
    }
    long us = await(f, 300s, "cpp_erpc");
    if (*failures) throw std::runtime_error("erpc calls failed: " + std::to_string(failures->load()));
    return us;
}

long rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    long size = 0, resident = 0;
    statm >> size >> resident;
    return resident * ::sysconf(_SC_PAGESIZE);
}

struct IdleResult {
    long spawn_us;
    long rss_delta;
};

// N idle coroutine processes, each reporting once it runs and then waiting in receive: the
// time until all have run, and the RSS they add. The pid table is allocated and touched
// before the first reading so it does not count.
IdleResult cpp_spawn_idle(Node& n, long count) {
    auto pids = std::make_shared<std::vector<Pid>>(count);
    ::malloc_trim(0);
    const long rss0 = rss_bytes();
    auto done = std::make_shared<std::promise<IdleResult>>();
    auto f = done->get_future();
    n.spawn([=](Self self) -> Task<> {
        const auto t0 = Clock::now();
        const Pid parent = self.pid();
        for (long i = 0; i < count; ++i) {
            (*pids)[i] = self.spawn([parent](Self me) -> Task<> {
                             me.send(parent, Term(a_started));
                             co_await me.receive();
                         }).pid;
        }
        for (long i = 0; i < count; ++i) co_await self.receive();
        const long us = micros_since(t0);
        ::malloc_trim(0);
        done->set_value({us, rss_bytes() - rss0});
        for (const Pid& p : *pids) self.send(p, Term(a_stop));
    });
    auto r = await(f, 600s, "cpp_spawn_idle");
    for (int w = 0; n.process_count() > 16 && w < 60000; ++w) std::this_thread::sleep_for(1ms);
    return r;
}

// --- erl nodes ------------------------------------------------------------------------------

class Control {
public:
    Control() : node_(start_node("nbctl")), box_(*node_->make_mailbox("bench_ctl")) {}
    Node& node() { return *node_; }

    Term cmd(Atom erl_node, Term command, std::chrono::milliseconds timeout = 300s) {
        const long ref = ++ref_;
        box_.send(atom("bench"), erl_node, tuple(atom("bench_cmd"), box_.pid(), ref, std::move(command)));
        auto r = box_.receive(
            [ref](const Term& t) { return t.is_tuple(3) && t[0].is_atom(atom("bench_result")) && t[1] == Term(ref); },
            timeout);
        if (!r) throw std::runtime_error("no answer from " + erl_node.str());
        if ((*r)[2].is_tuple(4) && (*r)[2][0].is_atom(atom("failed")))
            throw std::runtime_error("command failed on " + erl_node.str() + "; see its log in /tmp");
        return (*r)[2];
    }
    Mailbox& mailbox() { return box_; }

private:
    std::shared_ptr<Node> node_;
    Mailbox box_;
    long ref_ = 0;
};

class ErlNode {
public:
    ErlNode(Control& ctl, const std::string& name) {
        const std::string sname = name + "_" + std::to_string(::getpid());
        std::vector<std::string> argv = {"erl", "-sname", sname, "-setcookie", opt.cookie, "-hidden", "-noinput",
                                         "-pa", opt.ebin, "+S", "1", "+sbwt", "none", "+sbwtdcpu", "none",
                                         "+sbwtdio", "none", "+P", "4000000", "-s", "beam_node_bench", "main",
                                         ctl.node().name().str()};
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        std::vector<std::string> env_s;
        for (char** e = environ; *e; ++e)
            if (std::string_view(*e).substr(0, 14) != "ERL_EPMD_PORT=") env_s.emplace_back(*e);
        env_s.push_back("ERL_EPMD_PORT=" + std::to_string(opt.epmd_port));
        std::vector<char*> envp;
        for (auto& e : env_s) envp.push_back(e.data());
        envp.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        const std::string log = "/tmp/node_bench_" + sname + ".log";
        posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        if (posix_spawnp(&pid_, "erl", &fa, &attr, args.data(), envp.data()) != 0)
            throw std::runtime_error("cannot run erl");
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        auto ready = ctl.mailbox().receive(
            [](const Term& t) { return t.is_tuple(3) && t[0].is_atom(atom("bench_ready")); }, 60s);
        if (!ready) throw std::runtime_error("erl node " + sname + " did not start; see " + log);
        name_ = (*ready)[1].as_atom();
    }
    ~ErlNode() {
        ::kill(-pid_, SIGTERM);
        for (int i = 0; i < 500; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(10ms);
        }
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    Atom name() const { return name_; }

private:
    pid_t pid_ = 0;
    Atom name_;
};

long as_long(const Term& t) { return t.as<long>(); }

// Runs measure(pair) for every pair, reps times interleaved; keeps each pair's smallest.
template <class F>
std::map<std::string, long> best_of(const std::vector<std::string>& pairs, F measure) {
    std::map<std::string, long> best;
    for (int r = 0; r < opt.reps; ++r)
        for (const auto& p : pairs) {
            long us = measure(p);
            if (!best.count(p) || us < best[p]) best[p] = us;
        }
    return best;
}

void report_info(Control& ctl, ErlNode& a) {
    Term info = ctl.cmd(a.name(), Term(atom("info")));
    std::printf("info beam otp=%s erts=%s schedulers=%ld flavor=%s\n", info[0].as_string().c_str(),
                info[1].as_string().c_str(), as_long(info[2]), info[3].as_atom().str().c_str());
}

std::vector<std::string> selected_pairs() {
    std::vector<std::string> out;
    for (std::string p : {"cpp_cpp", "cpp_beam", "beam_cpp", "beam_beam"})
        if (opt.pairs.empty() || ("," + opt.pairs + ",").find("," + p + ",") != std::string::npos) out.push_back(p);
    return out;
}

// --- 1. node core ---------------------------------------------------------------------------

void bench_node() {
    Control ctl;
    auto c1 = start_node("nbc1"), c2 = start_node("nbc2");
    ErlNode a(ctl, "nbea"), b(ctl, "nbeb");
    report_info(ctl, a);
    const std::vector<std::string> pairs = selected_pairs();
    const long n_small = opt.quick ? 20'000 : 200'000, k_rtt = opt.quick ? 2'000 : 10'000,
               n_big = opt.quick ? 20 : 100;
    const int r_setup = opt.quick ? 5 : 20;

    // Receivers and echoes stay up for the whole run: on c2 for C++->C++, on c1 for
    // BEAM->C++, on erl A for C++->BEAM, on erl B for BEAM->BEAM.
    std::map<std::string, Pid> sink, echo;
    sink["cpp_cpp"] = spawn_sink(*c2);
    sink["beam_cpp"] = spawn_sink(*c1);
    sink["cpp_beam"] = ctl.cmd(a.name(), Term(atom("sink"))).as_pid();
    sink["beam_beam"] = ctl.cmd(b.name(), Term(atom("sink"))).as_pid();
    echo["cpp_cpp"] = spawn_echo(*c2);
    echo["beam_cpp"] = spawn_echo(*c1);
    echo["cpp_beam"] = ctl.cmd(a.name(), Term(atom("echo"))).as_pid();
    echo["beam_beam"] = ctl.cmd(b.name(), Term(atom("echo"))).as_pid();

    const Term small = Term(12345);
    const Term mb = binary(std::string(1 << 20, 'x'));
    auto send = [&](const std::string& p, long n, const Term& payload) -> long {
        if (p.starts_with("cpp_")) return cpp_send(*c1, sink[p], n, payload);
        return as_long(ctl.cmd(a.name(), tuple(atom("send"), sink[p], n, payload)));
    };
    for (const auto& p : pairs) send(p, 1000, small); // connections up, code warm

    auto wanted = [](std::string_view m) { return opt.only.empty() || opt.only == m; };
    if (wanted("oneway")) {
    auto oneway = best_of(pairs, [&](const std::string& p) { return send(p, n_small, small); });
    for (const auto& p : pairs) result("node", "oneway", p, n_small * 1e6 / oneway[p], "msg/s");
    }
    if (wanted("rtt")) {

    auto rtt = best_of(pairs, [&](const std::string& p) -> long {
        if (p.starts_with("cpp_")) return cpp_ping_pong(*c1, echo[p], k_rtt);
        return as_long(ctl.cmd(a.name(), tuple(atom("ping_pong"), echo[p], k_rtt)));
    });
    for (const auto& p : pairs) result("node", "rtt", p, double(rtt[p]) / k_rtt, "us");
    double floor = loopback_floor_rtt_us(k_rtt);
    for (int r = 1; r < opt.reps; ++r) floor = std::min(floor, loopback_floor_rtt_us(k_rtt));
    result("node", "rtt_floor", "kernel", floor, "us");
    }
    if (wanted("bandwidth")) {

    auto bw = best_of(pairs, [&](const std::string& p) { return send(p, n_big, mb); });
    for (const auto& p : pairs) result("node", "bandwidth_1mb", p, n_big * 1.0 * (1 << 20) / bw[p], "MB/s");
    }
    if (wanted("setup")) {

    // Setup: from the first node of the pair to the second; the pair's own connection only.
    std::map<std::string, Atom> target = {{"cpp_cpp", c2->name()},
                                          {"cpp_beam", a.name()},
                                          {"beam_cpp", c1->name()},
                                          {"beam_beam", b.name()}};
    auto setup = best_of(pairs, [&](const std::string& p) -> long {
        if (p.starts_with("cpp_")) return cpp_connect(*c1, target[p], r_setup);
        return as_long(ctl.cmd(a.name(), tuple(atom("connect"), target[p], r_setup)));
    });
    for (const auto& p : pairs) result("node", "setup", p, double(setup[p]) / r_setup, "us");
    }
    c1->stop();
    c2->stop();
}

// --- 2. processes ---------------------------------------------------------------------------

void bench_processes() {
    // The C++ count first, in a fresh process, before anything else has grown the heap.
    auto c1 = start_node("nbc1");
    const long n = opt.procs;
    IdleResult idle = cpp_spawn_idle(*c1, n);
    result("processes", "idle_count", "cpp", double(n), "processes");
    result("processes", "spawn_rate", "cpp", n * 1e6 / idle.spawn_us, "proc/s");
    result("processes", "memory_per_idle", "cpp", double(idle.rss_delta) / n, "bytes");

    Control ctl;
    ErlNode a(ctl, "nbea");
    report_info(ctl, a);
    Term bi = ctl.cmd(a.name(), tuple(atom("spawn_idle"), n));
    result("processes", "idle_count", "beam", double(n), "processes");
    result("processes", "spawn_rate", "beam", n * 1e6 / as_long(bi[0]), "proc/s");
    result("processes", "memory_per_idle", "beam", double(as_long(bi[1])) / n, "bytes");
    result("processes", "memory_total_per_idle", "beam", double(as_long(bi[2])) / n, "bytes");

    const long n_msg = opt.quick ? 100'000 : 1'000'000, k_rtt = opt.quick ? 20'000 : 200'000;
    const std::vector<std::string> sides = {"cpp", "beam"};
    auto local = best_of(sides, [&](const std::string& s) -> long {
        if (s == "beam") return as_long(ctl.cmd(a.name(), tuple(atom("local_send"), n_msg)));
        Pid sink = spawn_sink(*c1);
        long us = cpp_send(*c1, sink, n_msg, Term(12345));
        c1->send(sink, Term(a_stop));
        return us;
    });
    for (const auto& s : sides) result("processes", "local_send", s, n_msg * 1e6 / local[s], "msg/s");
    auto rtt = best_of(sides, [&](const std::string& s) -> long {
        if (s == "beam") return as_long(ctl.cmd(a.name(), tuple(atom("local_ping_pong"), k_rtt)));
        Pid echo = spawn_echo(*c1);
        long us = cpp_ping_pong(*c1, echo, k_rtt);
        c1->send(echo, Term(a_stop));
        return us;
    });
    for (const auto& s : sides) result("processes", "local_rtt", s, rtt[s] * 1e3 / k_rtt, "ns");
    c1->stop();
}

// --- 3. RPC ---------------------------------------------------------------------------------

void bench_rpc() {
    Control ctl;
    auto c1 = start_node("nbc1"), c2 = start_node("nbc2");
    for (auto* n : {c1.get(), c2.get()})
        n->export_function("node_bench", "echo", 1, [](Self, Args args) -> Task<Term> { co_return args[0]; });
    ErlNode a(ctl, "nbea"), b(ctl, "nbeb");
    report_info(ctl, a);
    const std::vector<std::string> pairs = selected_pairs();
    const Term args = list(Term(12345));
    const Atom node_bench = atom("node_bench"), beam_node_bench = atom("beam_node_bench"), echo = atom("echo");
    for (int callers : {1, 100}) {
        if (opt.callers != 0 && opt.callers != callers) continue;
        int m = callers == 1 ? (opt.quick ? 500 : 5000) : (opt.quick ? 20 : 200);
        if (opt.calls > 0) m = opt.calls;
        auto run = [&](const std::string& p, int c, int calls) -> long {
            if (p == "cpp_cpp") return cpp_erpc(*c1, c2->name(), node_bench, echo, args, c, calls);
            if (p == "cpp_beam") return cpp_erpc(*c1, a.name(), beam_node_bench, echo, args, c, calls);
            Atom target = p == "beam_cpp" ? c1->name() : b.name();
            Atom mod = p == "beam_cpp" ? node_bench : beam_node_bench;
            return as_long(ctl.cmd(a.name(), tuple(atom("erpc"), target, mod, echo, args, c, calls)));
        };
        for (const auto& p : pairs) run(p, callers, 50); // connections up, code warm
        auto t = best_of(pairs, [&](const std::string& p) { return run(p, callers, m); });
        const std::string metric = "calls_" + std::to_string(callers);
        for (const auto& p : pairs) result("rpc", metric, p, double(callers) * m * 1e6 / t[p], "calls/s");
    }
    c1->stop();
    c2->stop();
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto value = [&] {
            if (i + 1 >= args.size()) throw std::runtime_error(args[i] + " needs a value");
            return args[++i];
        };
        if (args[i] == "--epmd-port") opt.epmd_port = static_cast<std::uint16_t>(std::stoi(value()));
        else if (args[i] == "--ebin") opt.ebin = value();
        else if (args[i] == "--quick") opt.quick = true, opt.reps = 1;
        else if (args[i] == "--reps") opt.reps = std::stoi(value());
        else if (args[i] == "--procs") opt.procs = std::stol(value());
        else if (args[i] == "--only") opt.only = value();
        else if (args[i] == "--pairs") opt.pairs = value();
        else if (args[i] == "--callers") opt.callers = std::stoi(value());
        else if (args[i] == "--calls") opt.calls = std::stoi(value());
        else if (opt.mode.empty()) opt.mode = args[i];
        else {
            std::cerr << "node_bench: unknown argument " << args[i] << "\n";
            return 2;
        }
    }
    if (opt.epmd_port == 0 || opt.ebin.empty() || opt.mode.empty()) {
        std::cerr << "usage: node_bench node|processes|rpc --epmd-port P --ebin DIR [--quick] [--reps R] [--procs N]\n";
        return 2;
    }
    try {
        if (opt.mode == "node") bench_node();
        else if (opt.mode == "processes") bench_processes();
        else if (opt.mode == "rpc") bench_rpc();
        else throw std::runtime_error("unknown mode " + opt.mode);
    } catch (const std::exception& e) {
        std::cerr << "node_bench: " << e.what() << "\n";
        std::fflush(stdout);
        std::_Exit(1); // erl nodes halt on their own when the control node goes away
    }
    std::fflush(stdout);
    std::_Exit(0); // nodes and their threads are not torn down one by one
}
