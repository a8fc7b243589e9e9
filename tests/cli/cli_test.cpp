// The `edist` command as a user meets it: the built binary, run as a separate process.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

namespace fs = std::filesystem;

const fs::path edist_binary = fs::path(EDIST_BINARY_DIR) / "src" / "cli" / "edist";

struct Outcome {
    int exit_code = -1;
    std::string out;
    std::string err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::uint8_t> slurp_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, std::string_view bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(edist_binary)) GTEST_SKIP() << edist_binary << " is not built (EDIST_BUILD_CLI=OFF?)";
        std::string pattern = (fs::temp_directory_path() / "edist-cli-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
        dir = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
    }

    static constexpr int closed_stdout = -2;
    // Runs edist with `args`; stdin from `stdin_bytes`; stdout to a file unless `stdout_fd` >= 0
    // (or closed: `closed_stdout`).
    Outcome edist(std::vector<std::string> args, std::string_view stdin_bytes = "", int stdout_fd = -1) {
        fs::path in = dir / "stdin", out = dir / "stdout", err = dir / "stderr";
        spit(in, stdin_bytes);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
        if (stdout_fd >= 0)
            posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
        else if (stdout_fd == closed_stdout)
            posix_spawn_file_actions_addclose(&actions, 1);
        else
            posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

        args.insert(args.begin(), edist_binary.string());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);

        Outcome r;
        pid_t pid;
        int rc = posix_spawn(&pid, edist_binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            ADD_FAILURE() << "cannot run " << edist_binary << ": " << std::strerror(rc);
            return r;
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.out = stdout_fd == -1 ? slurp(out) : "";
        r.err = slurp(err);
        return r;
    }

    fs::path dir;
};

// A failure is reported as exactly one line: "edist: <what went wrong>".
void expect_one_line_error(const Outcome& r) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.rfind("edist: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
}

TEST_F(Cli, EncodeThenDecodeGivesBackTheTerm) {
    const char* texts[] = {
        "{ok,42,[1,2|3]}",
        "#{a => <<\"b\">>,1 => [],\"key\" => {}}",
        "'hello world'",
        "[3.14,-1,123456789012345678901234567890]",
        "<<1,2,3:4>>",
    };
    for (const char* text : texts) {
        SCOPED_TRACE(text);
        auto enc = edist({"term", "encode", text, "-o", (dir / "t.etf").string()});
        ASSERT_EQ(enc.exit_code, 0) << enc.err;
        auto bytes = slurp_bytes(dir / "t.etf");
        ASSERT_FALSE(bytes.empty());
        EXPECT_EQ(bytes[0], 131);

        auto dec = edist({"term", "decode", (dir / "t.etf").string()});
        ASSERT_EQ(dec.exit_code, 0) << dec.err;
        ASSERT_FALSE(dec.out.empty());
        EXPECT_EQ(dec.out.back(), '\n');

        // What decode prints is Erlang syntax again, and encodes to the very same bytes.
        std::string printed = dec.out.substr(0, dec.out.size() - 1);
        auto again = edist({"term", "encode", printed, "-o", (dir / "again.etf").string()});
        ASSERT_EQ(again.exit_code, 0) << again.err;
        EXPECT_EQ(slurp_bytes(dir / "again.etf"), bytes) << "printed as " << printed;
    }
}

TEST_F(Cli, DecodePrintsTheTermAsErlangWouldWithW) {
    auto enc = edist({"term", "encode", "{ok, [1, 2 | 3], foo}", "-o", (dir / "t.etf").string()});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
    auto dec = edist({"term", "decode", (dir / "t.etf").string()});
    EXPECT_EQ(dec.exit_code, 0) << dec.err;
    EXPECT_EQ(dec.out, "{ok,[1,2|3],foo}\n");
}

TEST_F(Cli, DecodeReadsStdinWhenNoFileIsGiven) {
    auto enc = edist({"term", "encode", "{a,1}", "-o", (dir / "t.etf").string()});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
    std::string bytes = slurp(dir / "t.etf");
    auto dec = edist({"term", "decode"}, bytes);
    EXPECT_EQ(dec.exit_code, 0) << dec.err;
    EXPECT_EQ(dec.out, "{a,1}\n");
    auto dash = edist({"term", "decode", "-"}, bytes);
    EXPECT_EQ(dash.out, "{a,1}\n");
}

TEST_F(Cli, EncodeWritesToStdoutWhenItIsNotATerminal) {
    auto enc = edist({"term", "encode", "{a,1}"});
    EXPECT_EQ(enc.exit_code, 0) << enc.err;
    ASSERT_GE(enc.out.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(enc.out[0]), 131);
    auto dec = edist({"term", "decode"}, enc.out);
    EXPECT_EQ(dec.out, "{a,1}\n");
}

TEST_F(Cli, EncodeReadsTheTermFromStdinWhenGivenADash) {
    auto enc = edist({"term", "encode", "-", "--hex"}, "{a,1}.\n");
    EXPECT_EQ(enc.exit_code, 0) << enc.err;
    auto dec = edist({"term", "decode", "--hex"}, enc.out);
    EXPECT_EQ(dec.out, "{a,1}\n");
}

TEST_F(Cli, DecodeAcceptsHexFromErlangsTermToBinary) {
    // term_to_binary({a,1}) in OTP 25, with the old ATOM_EXT and spaces in between.
    auto dec = edist({"term", "decode", "--hex"}, "83 68 02 64 00 01 61 61 01\n");
    EXPECT_EQ(dec.exit_code, 0) << dec.err;
    EXPECT_EQ(dec.out, "{a,1}\n");
}

TEST_F(Cli, PrettyDecodePrintsStringsAsStrings) {
    auto enc = edist({"term", "encode", "{\"hello\",<<\"bin\">>}", "-o", (dir / "t.etf").string()});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
    auto plain = edist({"term", "decode", (dir / "t.etf").string()});
    EXPECT_EQ(plain.out, "{[104,101,108,108,111],<<98,105,110>>}\n");
    auto pretty = edist({"term", "decode", "--pretty", (dir / "t.etf").string()});
    EXPECT_EQ(pretty.exit_code, 0) << pretty.err;
    EXPECT_EQ(pretty.out, "{\"hello\",<<\"bin\">>}\n");
}

TEST_F(Cli, CompressedEncodingIsSmallerAndDecodesToTheSameTerm) {
    std::string text = "[";
    for (int i = 0; i < 2000; ++i) text += i ? ",edist" : "edist";
    text += "]";
    auto plain = edist({"term", "encode", text, "-o", (dir / "plain.etf").string()});
    auto packed = edist({"term", "encode", text, "--compressed", "-o", (dir / "packed.etf").string()});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    ASSERT_EQ(packed.exit_code, 0) << packed.err;
    auto bytes = slurp_bytes(dir / "packed.etf");
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(bytes[0], 131);
    EXPECT_EQ(bytes[1], 80) << "COMPRESSED tag";
    EXPECT_LT(bytes.size(), slurp_bytes(dir / "plain.etf").size());
    auto a = edist({"term", "decode", (dir / "plain.etf").string()});
    auto b = edist({"term", "decode", (dir / "packed.etf").string()});
    EXPECT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(a.out, b.out);
}

TEST_F(Cli, BadTermTextFailsWithOneLineNamingTheOffset) {
    for (const char* text : {"{ok,", "[1,2", "{ok, ]}", "#{a =>}", "<<256>>x"}) {
        SCOPED_TRACE(text);
        auto r = edist({"term", "encode", text, "-o", (dir / "t.etf").string()});
        expect_one_line_error(r);
        EXPECT_NE(r.err.find("offset"), std::string::npos) << r.err;
    }
}

TEST_F(Cli, BadEtfBytesFailWithOneLineNamingTheOffset) {
    const std::string inputs[] = {
        std::string("\x83\x68\x02\x61\x01", 5),      // a 2-tuple with one element
        std::string("\x83\xff", 2),                  // no such tag
        std::string("hello"),                        // no version byte
        std::string("\x83\x61\x01\x61\x02", 5),      // trailing bytes
    };
    for (const auto& input : inputs) {
        SCOPED_TRACE(input);
        spit(dir / "bad.etf", input);
        auto r = edist({"term", "decode", (dir / "bad.etf").string()});
        expect_one_line_error(r);
        EXPECT_NE(r.err.find("offset"), std::string::npos) << r.err;
    }
}

TEST_F(Cli, EmptyInputIsAnErrorNotACrash) {
    expect_one_line_error(edist({"term", "decode"}, ""));
    expect_one_line_error(edist({"term", "encode", "-"}, ""));
}

TEST_F(Cli, MissingFileIsAOneLineError) {
    auto r = edist({"term", "decode", (dir / "no-such-file.etf").string()});
    expect_one_line_error(r);
    EXPECT_NE(r.err.find("no-such-file.etf"), std::string::npos) << r.err;
}

TEST_F(Cli, BadHexIsAOneLineError) {
    expect_one_line_error(edist({"term", "decode", "--hex"}, "83 6g"));
    expect_one_line_error(edist({"term", "decode", "--hex"}, "836"));
}

TEST_F(Cli, EncodeRefusesToWriteBinaryToATerminal) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) GTEST_SKIP() << "no pseudo-terminals here";
    ASSERT_EQ(grantpt(master), 0);
    ASSERT_EQ(unlockpt(master), 0);
    int tty = open(ptsname(master), O_RDWR | O_NOCTTY);
    ASSERT_GE(tty, 0);
    auto refused = edist({"term", "encode", "{a,1}"}, "", tty);
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("terminal"), std::string::npos) << refused.err;
    auto hex = edist({"term", "encode", "{a,1}", "--hex"}, "", tty);
    EXPECT_EQ(hex.exit_code, 0) << hex.err;
    close(tty);
    close(master);
}

// Output that cannot be written (a full disk, no stdout at all) is status 1, as for any Unix
// tool, not a silent 0 with the output lost.
TEST_F(Cli, OutputThatCannotBeWrittenIsAFailure) {
    const int full = open("/dev/full", O_WRONLY);
    if (full < 0) GTEST_SKIP() << "no /dev/full here";
    // Each command that writes says so once: term encode writes with its own check, which
    // must not leave the failure for the exit-time check to report a second time.
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"term", "decode", "--hex"}, {"term", "encode", "x", "--hex"}, {"term", "encode", "x", "-f"}}) {
        SCOPED_TRACE(args[1] + " " + args.back());
        auto to_full = edist(args, "836a", full);
        expect_one_line_error(to_full);
        EXPECT_EQ(to_full.err, "edist: cannot write <stdout>: No space left on device\n");
    }
    close(full);

    auto to_closed = edist({"term", "decode", "--hex"}, "836a", closed_stdout);
    expect_one_line_error(to_closed);
    EXPECT_EQ(to_closed.err, "edist: cannot write <stdout>: Bad file descriptor\n");
}

TEST_F(Cli, HelpExitsZeroOnEveryCommand) {
    const std::vector<std::vector<std::string>> commands = {
        {"--help"}, {"term", "--help"}, {"term", "decode", "--help"}, {"term", "encode", "--help"}, {"demo", "--help"},
    };
    for (const auto& args : commands) {
        SCOPED_TRACE(args.front() + (args.size() > 1 ? " " + args[1] : ""));
        auto r = edist(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
    }
    auto term_help = edist({"term", "encode", "--help"});
    EXPECT_NE(term_help.out.find("--compressed"), std::string::npos);
}

TEST_F(Cli, VersionNamesTheProgram) {
    auto r = edist({"--version"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("edist ", 0), 0u) << r.out;
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
    const std::vector<std::vector<std::string>> commands = {
        {}, {"--no-such-option"}, {"no-such-command"}, {"term"}, {"term", "encode"},
        {"term", "encode", "{a,1}", "--level", "11", "--compressed"},
    };
    for (const auto& args : commands) {
        auto r = edist(args);
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_EQ(r.err.rfind("edist: ", 0), 0u) << r.err;
    }
    // The word it did not know is named.
    EXPECT_EQ(edist({"no-such-command"}).err, "edist: unknown command 'no-such-command' (see --help)\n");
    EXPECT_EQ(edist({"--no-such-option"}).err, "edist: unknown option '--no-such-option' (see --help)\n");
}

TEST_F(Cli, DemoWithoutErlShowsEveryKindOfTerm) {
    auto r = edist({"demo", "--no-erl"});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    for (const char* what : {"a tuple", "a map", "bignum", "unicode atom", "a binary", "improper list", "pid"})
        EXPECT_NE(r.out.find(what), std::string::npos) << what;
    EXPECT_NE(r.out.find("1267650600228229401496703205376"), std::string::npos);
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

TEST_F(Cli, DemoRoundTripsEveryTermThroughARealErl) {
    if (std::system("command -v erl >/dev/null 2>&1") != 0) GTEST_SKIP() << "erl is not on PATH";
    auto r = edist({"demo"});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("OTP"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("All 7 terms survived every round trip"), std::string::npos) << r.out;
}

} // namespace
