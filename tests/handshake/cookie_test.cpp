// Cookie files are read and created the way erl's auth module does it (OTP 25.2.3).
#include <edist/cookie.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace edist;
namespace fs = std::filesystem;

namespace {

class CookieFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("edist-cookie-test-" + std::to_string(getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path write(const std::string& content, fs::perms mode = fs::perms::owner_read) {
        const fs::path p = dir / ".erlang.cookie";
        std::ofstream(p, std::ios::binary) << content;
        fs::permissions(p, mode);
        return p;
    }
    fs::path dir;
};

} // namespace

TEST_F(CookieFile, TrailingLineEndAndSpacesAfterItAreDropped) {
    auto c = read_cookie_file(write("ABCDEF\r\n  \n"));
    ASSERT_TRUE(c.ok()) << c.error().what();
    EXPECT_EQ(*c, "ABCDEF");
}

TEST_F(CookieFile, SpacesBeforeTheLineEndArePartOfTheCookie) {
    // erl keeps every printable character up to the first control character.
    EXPECT_EQ(*read_cookie_file(write(" AB CD \n")), " AB CD ");
}

TEST_F(CookieFile, ContentAfterTheLineEndIsRefused) {
    auto c = read_cookie_file(write("ABC\nDEF"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(std::string(c.error().what()).find("Bad characters in cookie"), std::string::npos);
}

TEST_F(CookieFile, EmptyCookieIsRefused) {
    auto c = read_cookie_file(write("\n"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(std::string(c.error().what()).find("Too short cookie"), std::string::npos);
}

TEST_F(CookieFile, GroupOrOtherPermissionsAreRefused) {
    for (auto extra : {fs::perms::group_read, fs::perms::others_read, fs::perms::others_exec}) {
        auto c = read_cookie_file(write("ABC", fs::perms::owner_read | fs::perms::owner_write | extra));
        ASSERT_FALSE(c.ok());
        EXPECT_EQ(c.error().reason(), Atom("eacces"));
        EXPECT_NE(std::string(c.error().what()).find("must be accessible by owner only"),
                  std::string::npos);
    }
    EXPECT_TRUE(read_cookie_file(write("ABC", fs::perms::owner_read | fs::perms::owner_write)).ok());
}

TEST_F(CookieFile, MissingFileIsEnoent) {
    auto c = read_cookie_file(dir / "nope");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().reason(), Atom("enoent"));
}

TEST_F(CookieFile, DirectoryIsRefused) {
    fs::create_directories(dir / "d");
    fs::permissions(dir / "d", fs::perms::owner_all);
    EXPECT_FALSE(read_cookie_file(dir / "d").ok());
}

TEST_F(CookieFile, CreatedLikeErlTwentyUppercaseLettersMode0400) {
    const fs::path p = dir / ".erlang.cookie";
    auto c = create_cookie_file(p);
    ASSERT_TRUE(c.ok()) << c.error().what();
    ASSERT_EQ(c->size(), 20u);
    for (char ch : *c) EXPECT_TRUE(ch >= 'A' && ch <= 'Z') << *c;
    struct stat st{};
    ASSERT_EQ(stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0400u);
    EXPECT_EQ(st.st_size, 20);
    EXPECT_EQ(*read_cookie_file(p), *c);
    EXPECT_EQ(create_cookie_file(p).error().reason(), Atom("eexist"));
    EXPECT_NE(*create_cookie_file(dir / "other"), *c);
}

TEST_F(CookieFile, ResolveUsesOptionThenHomeThenXdgThenCreatesAtHome) {
    EXPECT_EQ(*resolve_cookie("given"), "given");
    EXPECT_FALSE(resolve_cookie("").ok());

    const char* old_home = std::getenv("HOME");
    const std::string saved_home = old_home ? old_home : "";
    const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
    const std::string saved_xdg = old_xdg ? old_xdg : "";
    setenv("HOME", dir.c_str(), 1);
    setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);

    fs::create_directories(dir / "xdg" / "erlang");
    std::ofstream(dir / "xdg" / "erlang" / ".erlang.cookie") << "FROMXDG";
    fs::permissions(dir / "xdg" / "erlang" / ".erlang.cookie", fs::perms::owner_read);
    EXPECT_EQ(*resolve_cookie(), "FROMXDG");

    write("FROMHOME\n");
    EXPECT_EQ(*resolve_cookie(), "FROMHOME");

    fs::permissions(dir / ".erlang.cookie", fs::perms::owner_all);
    fs::remove(dir / ".erlang.cookie");
    fs::permissions(dir / "xdg" / "erlang" / ".erlang.cookie", fs::perms::owner_all);
    fs::remove(dir / "xdg" / "erlang" / ".erlang.cookie");
    auto created = resolve_cookie();
    ASSERT_TRUE(created.ok()) << created.error().what();
    EXPECT_EQ(*read_cookie_file(dir / ".erlang.cookie"), *created);

    if (old_home) setenv("HOME", saved_home.c_str(), 1); else unsetenv("HOME");
    if (old_xdg) setenv("XDG_CONFIG_HOME", saved_xdg.c_str(), 1); else unsetenv("XDG_CONFIG_HOME");
}
