// from_term / to_term (edist/convert.hpp): each C++ type against the Erlang term it stands for,
// and the badarg a term that does not fit gets.
#include <edist/convert.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace edist;

namespace {

Term erl(std::string_view text) { return parse(text).value(); }

// The Error from_term<T>(text) throws: its reason and message.
template <class T>
std::string failure(std::string_view text) {
    try {
        (void)from_term<T>(erl(text));
    } catch (const Error& e) {
        return to_string(Term(e.reason())) + ": " + e.what();
    }
    return "no error";
}

struct Point {
    double x = 0, y = 0;
    bool operator==(const Point&) const = default;
};

} // namespace

template <>
struct edist::TermConvert<Point> {
    static Point from(const Term& t) {
        if (!t.is_tuple(3) || !t[0].is_atom(atom("point"))) detail::convert_failed(t, "{point, X, Y}");
        return {from_term<double>(t[1]), from_term<double>(t[2])};
    }
    static Term to(const Point& p) { return tuple(atom("point"), p.x, p.y); }
};

TEST(Convert, ScalarsRoundTripAndIntegersAreRangeChecked) {
    EXPECT_EQ(from_term<int>(erl("-7")), -7);
    EXPECT_EQ(to_term(std::uint64_t{18446744073709551615u}), erl("18446744073709551615"));
    EXPECT_EQ(from_term<std::uint64_t>(erl("18446744073709551615")), 18446744073709551615u);
    EXPECT_EQ(failure<std::uint8_t>("256"), "badarg: integer out of range for the requested C++ type");
    EXPECT_EQ(failure<unsigned>("-1"), "badarg: integer out of range for the requested C++ type");
    EXPECT_EQ(failure<int>("1.0"), "badarg: expected an integer, got 1.0");
    EXPECT_EQ(from_term<BigInt>(erl("1180591620717411303424")).to_string(), "1180591620717411303424");
    EXPECT_EQ(from_term<bool>(erl("true")), true);
    EXPECT_EQ(failure<bool>("yes"), "badarg: expected a boolean, got yes");
    EXPECT_EQ(from_term<Atom>(erl("'hello world'")), atom("hello world"));
    EXPECT_EQ(to_term(atom("ok")), erl("ok"));
}

TEST(Convert, DoublesTakeIntegersAsFloatDoesAndRefuseWhatADoubleCannotHold) {
    EXPECT_EQ(from_term<double>(erl("1.5")), 1.5);
    EXPECT_EQ(from_term<double>(erl("3")), 3.0) << "float(3) is 3.0";
    EXPECT_EQ(from_term<float>(erl("-0.25")), -0.25f);
    EXPECT_EQ(failure<double>("1" + std::string(400, '0')).substr(0, 44), "badarg: expected a number that fits a double");
    EXPECT_EQ(failure<double>("a"), "badarg: expected a number, got a");
    EXPECT_EQ(to_term(2.0), erl("2.0"));
    EXPECT_THROW(to_term(std::numeric_limits<double>::quiet_NaN()), Error);
}

TEST(Convert, TextIsABinaryGoingOutAndABinaryOrAStringComingIn) {
    EXPECT_EQ(to_term(std::string("héllo")), erl("<<\"héllo\"/utf8>>"));
    EXPECT_EQ(to_term("literal"), erl("<<\"literal\">>"));
    EXPECT_EQ(from_term<std::string>(erl("<<\"abc\">>")), "abc");
    EXPECT_EQ(from_term<std::string>(erl("\"héllo\"")), "héllo") << "a list of code points is UTF-8 encoded";
    EXPECT_EQ(from_term<std::string>(erl("[]")), "");
    EXPECT_EQ(failure<std::string>("abc"), "badarg: expected a binary or a string, got abc");
    EXPECT_EQ(failure<std::string>("[1|2]"), "badarg: expected a string (a proper list of code points), got [1|2]");
    EXPECT_EQ(failure<std::string>("[-1]"), "badarg: expected a string (a proper list of code points), got [-1]");
    const Term b = erl("<<\"view\">>");
    EXPECT_EQ(from_term<std::string_view>(b).data(), b.as_binary_view().data()) << "a view, not a copy";
    EXPECT_EQ(failure<std::string_view>("\"list\""), "badarg: expected a binary, got [108,105,115,116]");
}

TEST(Convert, BytesAreBinaries) {
    EXPECT_EQ(from_term<std::vector<std::uint8_t>>(erl("<<1,2,255>>")), (std::vector<std::uint8_t>{1, 2, 255}));
    EXPECT_EQ(to_term(std::vector<std::uint8_t>{0, 7}), erl("<<0,7>>"));
    EXPECT_EQ(to_term(std::vector<std::byte>{std::byte{9}}), erl("<<9>>"));
    EXPECT_EQ(failure<std::vector<std::uint8_t>>("[1,2]"), "badarg: expected a binary, got [1,2]");
}

TEST(Convert, ContainersNest) {
    using Doc = std::map<std::string, std::vector<std::optional<std::pair<Atom, int>>>>;
    const Term t = erl("#{<<\"a\">> => [{x, 1}, undefined], <<\"b\">> => []}");
    const Doc d = from_term<Doc>(t);
    ASSERT_EQ(d.size(), 2u);
    ASSERT_EQ(d.at("a").size(), 2u);
    EXPECT_EQ(d.at("a")[0], std::pair(atom("x"), 1));
    EXPECT_FALSE(d.at("a")[1].has_value());
    EXPECT_EQ(to_term(d), t);

    EXPECT_EQ(to_term(std::tuple(atom("ok"), 1, std::string("s"), std::vector<int>{})), erl("{ok,1,<<\"s\">>,[]}"));
    EXPECT_EQ((from_term<std::tuple<Atom, double>>(erl("{a, 2}"))), std::tuple(atom("a"), 2.0));
    EXPECT_EQ((from_term<std::list<int>>(erl("[3,4]"))), (std::list<int>{3, 4}));
    EXPECT_EQ(to_term(std::unordered_map<int, bool>{{1, true}}), erl("#{1 => true}"));
    EXPECT_EQ(to_term(std::optional<int>()), erl("undefined"));
}

TEST(Convert, AMismatchInsideAContainerNamesTheElementThatDidNotFit) {
    EXPECT_EQ(failure<std::vector<int>>("[1, two, 3]"), "badarg: expected an integer, got two");
    EXPECT_EQ(failure<std::vector<int>>("[1|2]"), "badarg: expected a proper list, got [1|2]");
    EXPECT_EQ((failure<std::pair<int, int>>("{1,2,3}")), "badarg: expected a tuple of 2 elements, got {1,2,3}");
    EXPECT_EQ((failure<std::tuple<int>>("[1]")), "badarg: expected a tuple of 1 elements, got [1]");
    EXPECT_EQ((failure<std::map<Atom, int>>("[{a,1}]")), "badarg: expected a map, got [{a,1}]");
    EXPECT_EQ((failure<std::map<Atom, int>>("#{a => 1, \"b\" => 2}")), "badarg: expected an atom, got [98]");
    // Left to right: the first element that does not fit is the one reported.
    EXPECT_EQ((failure<std::tuple<int, Atom, int>>("{x, 1, y}")), "badarg: expected an integer, got x");
}

TEST(Convert, IdentifiersAndOwnTypes) {
    const Term pid = erl("#Pid<'a@host'.5.1.3>");
    EXPECT_EQ(to_term(from_term<Pid>(pid)), pid);
    EXPECT_EQ(failure<Ref>("#Pid<'a@host'.5.1.3>").substr(0, 27), "badarg: expected a referenc");
    EXPECT_EQ(to_term(Point{1.5, -2}), erl("{point,1.5,-2.0}"));
    EXPECT_EQ(from_term<Point>(erl("{point, 1, 2.5}")), (Point{1, 2.5}));
    EXPECT_EQ((from_term<std::vector<Point>>(erl("[{point, 0, 0}]"))), (std::vector<Point>{{0, 0}}));
    EXPECT_EQ(failure<Point>("{line, 1, 2}"), "badarg: expected {point, X, Y}, got {line,1,2}");
}

static_assert(FromTerm<std::vector<std::map<Atom, std::string>>>);
static_assert(ToTerm<std::tuple<int, Pid>>);
static_assert(!FromTerm<const char*>, "a pointer cannot own what it would point to");
static_assert(!FromTerm<std::vector<void*>>);
static_assert(!ToTerm<std::vector<void*>>);
