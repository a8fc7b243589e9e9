// Golden vectors: bytes and text that a real BEAM (OTP 25.2) produced, checked in under
// tests/data/golden/ by generate.escript. Needs no erl at test time.
//
// Every expected term is built here in C++, independently of the files, so the test states
// what each vector means. For every vector:
//   Decode   decode(each stored encoding) == expected
//   Encode   encode(expected) is erl's term_to_binary(T, [{minor_version, 2}]) byte for byte
//            (maps over 32 keys: erl's order is its hash order, so decode(encode(t)) == t)
//   Text     to_string(expected) is erl's io_lib:format("~w", [T]); parse() reads it back
#include "interop/erl_runner.hpp"

#include <edist/etf.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>

namespace {

using namespace edist;
namespace fs = std::filesystem;
using edist::test::read_file;

const fs::path golden_dir = fs::path(EDIST_TEST_DATA_DIR) / "golden";

// --- Building expected terms ------------------------------------------------------------------

Term A(std::string_view utf8) { return Term(edist::atom(utf8)); }

BigInt pow2(unsigned n) {
    std::vector<std::uint8_t> digits(n / 8 + 1, 0);
    digits[n / 8] = static_cast<std::uint8_t>(1u << (n % 8));
    return BigInt::from_le_bytes(digits, false);
}
Term I(BigInt b) { return Term(std::move(b)); }
BigInt power(std::int64_t base, unsigned exp) {
    BigInt r(1);
    for (unsigned i = 0; i < exp; ++i) r = r * BigInt(base);
    return r;
}
BigInt factorial(unsigned n) {
    BigInt r(1);
    for (unsigned i = 2; i <= n; ++i) r = r * BigInt(static_cast<std::int64_t>(i));
    return r;
}

std::string repeat(std::string_view s, std::size_t n) {
    std::string r;
    for (std::size_t i = 0; i < n; ++i) r += s;
    return r;
}

Term ints(std::int64_t from, std::int64_t to, std::int64_t mod = 0) {
    std::vector<Term> v;
    for (std::int64_t i = from; i <= to; ++i) v.emplace_back(mod ? i % mod : i);
    return v.empty() ? Term() : list_from(std::move(v));
}
Term tuple_of_ints(std::int64_t from, std::int64_t to, std::int64_t mod = 0) {
    std::vector<Term> v;
    for (std::int64_t i = from; i <= to; ++i) v.emplace_back(mod ? i % mod : i);
    return tuple_from(std::move(v));
}

Term bits(std::vector<std::uint8_t> bytes, std::size_t bit_size) { return bitstring(bytes, bit_size); }

constexpr std::uint32_t max32 = 0xFFFFFFFFu;
Term pid(std::string_view node, std::uint32_t id, std::uint32_t serial, std::uint32_t creation) {
    return Term(Pid{edist::atom(node), id, serial, creation});
}
Term port(std::string_view node, std::uint64_t id, std::uint32_t creation) {
    return Term(Port{edist::atom(node), id, creation});
}
Term ref(std::string_view node, std::uint32_t creation, std::initializer_list<std::uint32_t> words) {
    Ref r;
    r.node = edist::atom(node);
    r.creation = creation;
    r.len = static_cast<std::uint8_t>(words.size());
    std::copy(words.begin(), words.end(), r.words.begin());
    return Term(r);
}

Term square_map(int n) {
    std::vector<std::pair<Term, Term>> kv;
    for (int k = 1; k <= n; ++k) kv.emplace_back(Term(k), Term(k * k));
    return map_from(std::move(kv));
}

enum class EncodeCheck {
    Bytes,     // encode(expected) == erl's minor_version-2 bytes
    RoundTrip, // a map over 32 keys inside: erl writes it in hash order, so only a round trip
};

struct Vector {
    std::string name;
    std::function<Term()> make;
    EncodeCheck encode = EncodeCheck::Bytes;
};

std::vector<Vector> all_vectors() {
    using std::numeric_limits;
    const double neg_zero = -0.0;
    std::vector<Vector> v = {
        // Integers: each boundary between SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_BIG_EXT and
        // LARGE_BIG_EXT, and the 64-bit edges of edist's inline representation.
        {"int_0", [] { return Term(0); }},
        {"int_1", [] { return Term(1); }},
        {"int_255", [] { return Term(255); }},
        {"int_256", [] { return Term(256); }},
        {"int_neg_1", [] { return Term(-1); }},
        {"int_neg_256", [] { return Term(-256); }},
        {"int_2_pow_27_minus_1", [] { return Term((1 << 27) - 1); }},
        {"int_2_pow_27_plus_1", [] { return Term((1 << 27) + 1); }},
        {"int_neg_2_pow_27", [] { return Term(-(1 << 27)); }},
        {"int_neg_2_pow_27_minus_1", [] { return Term(-(1 << 27) - 1); }},
        {"int_2_pow_31_minus_1", [] { return Term(std::int64_t{2147483647}); }},
        {"int_2_pow_31", [] { return Term(std::int64_t{2147483648}); }},
        {"int_2_pow_31_plus_1", [] { return Term(std::int64_t{2147483649}); }},
        {"int_neg_2_pow_31", [] { return Term(std::int64_t{-2147483648}); }},
        {"int_neg_2_pow_31_minus_1", [] { return Term(std::int64_t{-2147483649}); }},
        {"int_neg_2_pow_31_plus_1", [] { return Term(std::int64_t{-2147483647}); }},
        {"int_2_pow_32", [] { return Term(std::int64_t{1} << 32); }},
        {"int_2_pow_63_minus_1", [] { return Term(numeric_limits<std::int64_t>::max()); }},
        {"int_2_pow_63", [] { return Term(std::uint64_t{1} << 63); }},
        {"int_2_pow_63_plus_1", [] { return Term((std::uint64_t{1} << 63) + 1); }},
        {"int_neg_2_pow_63", [] { return Term(numeric_limits<std::int64_t>::min()); }},
        {"int_neg_2_pow_63_minus_1", [] { return I(BigInt(numeric_limits<std::int64_t>::min()) - BigInt(1)); }},
        {"int_neg_2_pow_63_plus_1", [] { return Term(numeric_limits<std::int64_t>::min() + 1); }},
        {"int_2_pow_64_minus_1", [] { return Term(numeric_limits<std::uint64_t>::max()); }},
        {"int_2_pow_64", [] { return I(pow2(64)); }},
        {"int_2_pow_64_plus_1", [] { return I(pow2(64) + BigInt(1)); }},
        {"int_neg_2_pow_64", [] { return I(-pow2(64)); }},
        {"int_2_pow_2040_minus_1", [] { return I(pow2(2040) - BigInt(1)); }},
        {"int_2_pow_2040", [] { return I(pow2(2040)); }},
        {"int_neg_2_pow_2040", [] { return I(-pow2(2040)); }},
        {"int_factorial_100", [] { return I(factorial(100)); }},
        {"int_neg_3_pow_1000", [] { return I(-power(3, 1000)); }},
        {"int_10_pow_30", [] { return I(power(10, 30)); }},

        // Floats.
        {"float_0", [] { return Term(0.0); }},
        {"float_neg_0", [neg_zero] { return Term(neg_zero); }},
        {"float_0_1", [] { return Term(0.1); }},
        {"float_1", [] { return Term(1.0); }},
        {"float_neg_1_5", [] { return Term(-1.5); }},
        {"float_pi", [] { return Term(3.141592653589793); }},
        {"float_1e300", [] { return Term(1.0e300); }},
        {"float_neg_1e_300", [] { return Term(-1.0e-300); }},
        {"float_smallest_subnormal", [] { return Term(numeric_limits<double>::denorm_min()); }},
        {"float_smallest_normal", [] { return Term(numeric_limits<double>::min()); }},
        {"float_largest", [] { return Term(numeric_limits<double>::max()); }},
        {"float_1e15", [] { return Term(1.0e15); }},
        {"float_1e16", [] { return Term(1.0e16); }},
        {"float_123456789", [] { return Term(123456789.0); }},
        {"float_2e_5", [] { return Term(2.0e-5); }},
        {"float_2_pow_63", [] { return Term(9223372036854775808.0); }},

        // Atoms: UTF-8 on the wire, and the quoting rules of ~w.
        {"atom_empty", [] { return A(""); }},
        {"atom_ok", [] { return A("ok"); }},
        {"atom_true", [] { return Term(true); }},
        {"atom_undefined", [] { return A("undefined"); }},
        {"atom_hello_latin1", [] { return A("h\u00e9llo"); }},
        {"atom_nihon", [] { return A("\u65e5\u672c"); }},
        {"atom_emoji", [] { return A("\U0001F600"); }},
        {"atom_255_chars", [] { return A(repeat("a", 255)); }},
        {"atom_255_unicode_chars", [] { return A(repeat("\u65e5", 255)); }},
        {"atom_needs_quotes_space", [] { return A("hello world"); }},
        {"atom_needs_quotes_upper", [] { return A("Hello"); }},
        {"atom_needs_quotes_underscore", [] { return A("_x"); }},
        {"atom_reserved_word", [] { return A("if"); }},
        {"atom_with_at_and_dot", [] { return A("node@host.example"); }},
        {"atom_with_quote", [] { return A("it's"); }},
        {"atom_with_backslash", [] { return A("a\\b"); }},
        {"atom_with_newline", [] { return A("a\nb"); }},
        {"atom_with_control_char", [] { return A("a\x01" "b"); }},
        {"atom_latin1_upper_first", [] { return A("\u00c9a"); }},
        {"atom_digits", [] { return A("123"); }},

        // Binaries and bit strings.
        {"binary_empty", [] { return binary(std::string_view()); }},
        {"binary_1", [] { return binary(std::string_view("\x2a", 1)); }},
        {"binary_text", [] { return binary(std::string_view("hello")); }},
        {"binary_1000",
         [] {
             std::vector<std::uint8_t> b(1000);
             for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i % 256);
             return binary(std::move(b));
         }},
        {"bitstring_1_bit", [] { return bits({0x80}, 1); }},
        {"bitstring_7_bits", [] { return bits({0xFE}, 7); }},
        {"bitstring_11_bits", [] { return bits({0x01, 0x40}, 11); }},
        {"bitstring_1001_bits",
         [] {
             std::vector<std::uint8_t> b(125, 0xA5);
             b.push_back(0x80);
             return bits(std::move(b), 1001);
         }},

        // Lists: STRING_EXT for up to 65535 bytes, LIST_EXT otherwise, improper tails.
        {"nil", [] { return Term(); }},
        {"string_abc", [] { return string("abc"); }},
        {"string_with_zero_and_255", [] { return list(0, 255, 10); }},
        {"string_65535", [] { return ints(1, 65535, 256); }},
        {"list_unicode_code_points", [] { return string("\u65e5\u672c"); }},
        {"list_1000_ints", [] { return ints(1, 1000); }},
        {"list_70000_small_ints", [] { return ints(1, 70000, 256); }},
        {"list_mixed", [] { return list(1, A("a"), binary(std::string_view("b")), string("c"), 2.5, tuple()); }},
        {"list_nested", [] { return list(list(Term()), list(list(1)), Term()); }},
        {"list_of_neg_ints", [] { return list(-1, -2); }},
        {"improper_list_1_2", [] { return list_from({Term(1)}, Term(2)); }},
        {"improper_list_abc", [] { return list_from({A("a"), A("b")}, A("c")); }},
        {"improper_list_binary_tail", [] { return list_from({Term(1)}, binary(std::string_view("t"))); }},
        {"improper_list_string_head", [] { return list_from({Term('a'), Term('b')}, Term('c')); }},

        // Tuples: SMALL_TUPLE_EXT up to 255 elements, LARGE_TUPLE_EXT beyond.
        {"tuple_empty", [] { return tuple(); }},
        {"tuple_1", [] { return tuple(1); }},
        {"tuple_ok_pair", [] { return tuple(A("ok"), binary(std::string_view("x"))); }},
        {"tuple_255", [] { return tuple_of_ints(1, 255); }},
        {"tuple_256", [] { return tuple_of_ints(1, 256); }},
        {"tuple_300", [] { return tuple_of_ints(1, 300, 7); }},

        // Maps: erl writes up to 32 keys in key order (integers before floats), more in hash order.
        {"map_empty", [] { return map({}); }},
        {"map_1", [] { return map({{A("a"), Term(1)}}); }},
        {"map_10_mixed_keys",
         [] {
             return map({{Term(1), A("one")},
                         {Term(1.0), A("float_one")},
                         {A("a"), A("b")},
                         {string("s"), Term()},
                         {binary(std::string_view("bin")), Term(2)},
                         {tuple(A("t")), Term(3)},
                         {list(A("l")), Term(4)},
                         {map({}), A("empty")},
                         {Term(-5), A("neg")},
                         {I(pow2(70)), A("big")}});
         }},
        {"map_32_keys", [] { return square_map(32); }},
        {"map_33_keys", [] { return square_map(33); }, EncodeCheck::RoundTrip},
        {"map_40_keys",
         [] {
             std::vector<std::pair<Term, Term>> kv;
             for (int k = 1; k <= 40; ++k) kv.emplace_back(A("k" + std::to_string(k)), Term(k));
             return map_from(std::move(kv));
         },
         EncodeCheck::RoundTrip},
        {"map_nested",
         [] { return map({{A("m"), map({{A("n"), map({})}})}, {A("l"), list(map({}))}}); }},

        // Identifiers of another node, with the widest fields the current encodings carry.
        {"pid_max_fields", [] { return pid("cpp@host", max32, max32, max32); }},
        {"pid_small_fields", [] { return pid("cpp@host", 1, 0, 1); }},
        {"pid_unicode_node", [] { return pid("\u65e5@host", 5, 6, 7); }},
        {"port_64_bit_id", [] { return port("cpp@host", numeric_limits<std::uint64_t>::max(), max32); }},
        {"port_32_bit_id", [] { return port("cpp@host", 7, 3); }},
        {"ref_1_word", [] { return ref("cpp@host", 9, {1}); }},
        {"ref_3_words", [] { return ref("cpp@host", 1, {1, 2, 3}); }},
        {"ref_5_words", [] { return ref("cpp@host", max32, {max32, 1, 2, 3, max32}); }},
        {"ids_in_tuple",
         [] { return tuple(pid("a@b", 1, 2, 3), port("a@b", 4, 5), ref("a@b", 6, {7, 8, 9})); }},

        // Funs. The local fun is checked separately below: its uniq and index come from the
        // compiler, so only its visible parts are stated here.
        {"fun_export_lists_map", [] { return Term(Export{edist::atom("lists"), edist::atom("map"), 2}); }},
        {"fun_export_unicode",
         [] { return Term(Export{edist::atom("h\u00e9llo"), edist::atom("\u65e5\u672c"), 255}); }},

        {"nested_mixed",
         [] {
             return tuple(A("ok"),
                          list(map({{A("key"), tuple(1, 2.5, binary(std::string_view("x")))}}), string("str"),
                               A("Quoted Atom"), list_from({Term(1)}, Term(2))),
                          I(-BigInt::from_string("12345678901234567890").value()));
         }},
        {"nested_deep_lists",
         [] {
             Term t;
             for (int i = 0; i < 100; ++i) t = list(t);
             return t;
         }},

        // Deprecated or non-canonical encodings (NAME.legacy.etf), and what they mean.
        {"legacy_atom_ext", [] { return A("hello"); }},
        {"legacy_atom_ext_latin1", [] { return A("h\u00e9llo"); }},
        {"legacy_small_atom_ext", [] { return A("abc"); }},
        {"legacy_small_atom_ext_latin1", [] { return A("\u00c9a"); }},
        {"legacy_pid_ext", [] { return pid("cpp@host", 1, 2, 3); }},
        {"legacy_port_ext", [] { return port("cpp@host", 4, 2); }},
        {"legacy_reference_ext", [] { return ref("cpp@host", 1, {5}); }},
        {"legacy_new_reference_ext", [] { return ref("cpp@host", 2, {1, 2, 3}); }},
        {"legacy_float_ext", [] { return Term(0.1); }},
        {"legacy_float_ext_neg", [] { return Term(-1.5e300); }},
        {"legacy_integer_ext_small_value", [] { return Term(5); }},
        {"legacy_small_big_ext_small_value", [] { return Term(-7); }},
    };
    return v;
}

// --- Reporting ----------------------------------------------------------------------------------

std::string clip(std::string s, std::size_t max = 600) {
    if (s.size() > max) s = s.substr(0, max) + "... (" + std::to_string(s.size()) + " chars)";
    return s;
}

std::string show(const Term& t) {
    try {
        return clip(to_string(t));
    } catch (const std::exception& e) {
        return std::string("<to_string threw: ") + e.what() + ">";
    }
}

std::string hex_around(const std::vector<std::uint8_t>& b, std::size_t at) {
    std::string s;
    std::size_t from = at < 8 ? 0 : at - 8;
    std::size_t to = std::min(b.size(), at + 16);
    char buf[4];
    for (std::size_t i = from; i < to; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", b[i]);
        if (i == at) s += '[';
        s += buf;
        if (i == at) s += ']';
        s += ' ';
    }
    return s;
}

::testing::AssertionResult same_bytes(const std::vector<std::uint8_t>& expected, const std::vector<std::uint8_t>& actual) {
    if (expected == actual) return ::testing::AssertionSuccess();
    std::size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
    return ::testing::AssertionFailure() << "bytes differ at offset " << i << " (erl " << expected.size()
                                         << " bytes, edist " << actual.size() << " bytes)\n  erl:   "
                                         << hex_around(expected, i) << "\n  edist: " << hex_around(actual, i);
}

::testing::AssertionResult same_term(const Term& expected, const Term& actual) {
    if (expected == actual) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "\n  expected: " << show(expected) << "\n  actual:   " << show(actual);
}

std::string file_text(const fs::path& p) {
    auto b = read_file(p);
    return std::string(b.begin(), b.end());
}

bool has(const std::string& name, std::string_view ext) { return fs::exists(golden_dir / (name + std::string(ext))); }

// --- The tests ----------------------------------------------------------------------------------

void PrintTo(const Vector& v, std::ostream* os) { *os << v.name; }

class Golden : public ::testing::TestWithParam<Vector> {};

std::string vector_name(const ::testing::TestParamInfo<Vector>& info) { return info.param.name; }

TEST_P(Golden, DecodesEveryStoredEncodingToTheExpectedTerm) {
    const Vector& v = GetParam();
    Term expected = v.make();
    int forms = 0;
    for (std::string_view ext : {".etf", ".default.etf", ".compressed.etf", ".legacy.etf"}) {
        if (!has(v.name, ext)) continue;
        ++forms;
        SCOPED_TRACE(v.name + std::string(ext));
        auto bytes = read_file(golden_dir / (v.name + std::string(ext)));
        auto decoded = etf::decode(bytes);
        ASSERT_TRUE(decoded.ok()) << "decode failed: " << decoded.error().what() << " at offset "
                                  << decoded.error().offset();
        EXPECT_TRUE(same_term(expected, *decoded));
    }
    EXPECT_GE(forms, 1) << "no vector files for " << v.name;
}

TEST_P(Golden, EncodesAsErlangDoesWithMinorVersion2) {
    const Vector& v = GetParam();
    Term expected = v.make();
    auto erl_bytes = read_file(golden_dir / (v.name + ".etf"));
    auto ours = etf::encode(expected);
    if (v.encode == EncodeCheck::Bytes) {
        EXPECT_TRUE(same_bytes(erl_bytes, ours));
    } else {
        EXPECT_EQ(ours.size(), erl_bytes.size()) << "same pairs in another order have the same size";
        auto back = etf::decode(ours);
        ASSERT_TRUE(back.ok()) << back.error().what();
        EXPECT_TRUE(same_term(expected, *back));
    }
    EXPECT_EQ(etf::encoded_size(expected) + 1, ours.size()) << "encoded_size() disagrees with encode()";
}

INSTANTIATE_TEST_SUITE_P(Etf, Golden, ::testing::ValuesIn(all_vectors()), vector_name);

// Text is stored for terms without pids, ports, refs and funs. OTP 25 prints a map of over 32
// keys in its hash order, which edist need not reproduce: those are only parsed.
std::vector<Vector> vectors_with_text(bool exact_text) {
    std::vector<Vector> out;
    for (auto& v : all_vectors())
        if (has(v.name, ".txt") && (!exact_text || v.encode == EncodeCheck::Bytes)) out.push_back(v);
    return out;
}

class GoldenText : public Golden {};
class GoldenTextParse : public Golden {};

TEST_P(GoldenText, PrintsAsErlangTildeW) {
    const Vector& v = GetParam();
    std::string erl_text = file_text(golden_dir / (v.name + ".txt"));
    EXPECT_EQ(clip(erl_text, 2000), clip(to_string(v.make()), 2000));
}

TEST_P(GoldenTextParse, ParsesErlangTildeWText) {
    const Vector& v = GetParam();
    std::string erl_text = file_text(golden_dir / (v.name + ".txt"));
    auto parsed = parse(erl_text);
    ASSERT_TRUE(parsed.ok()) << "parse failed: " << parsed.error().what() << " at offset " << parsed.error().offset()
                             << " of " << clip(erl_text);
    EXPECT_TRUE(same_term(v.make(), *parsed));
}

INSTANTIATE_TEST_SUITE_P(Etf, GoldenText, ::testing::ValuesIn(vectors_with_text(true)), vector_name);
INSTANTIATE_TEST_SUITE_P(Etf, GoldenTextParse, ::testing::ValuesIn(vectors_with_text(false)), vector_name);

// fun edist_golden_funs:make(<<"free">>, [1, 2]) returned `fun(X) -> {A, B, X} end`.
TEST(GoldenFun, LocalFunDecodesToItsModuleArityAndFreeVariables) {
    auto bytes = read_file(golden_dir / "fun_local_with_free_vars.etf");
    auto decoded = etf::decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().what();
    ASSERT_EQ(decoded->kind(), Kind::Fun);
    const FunData& f = decoded->as_fun();
    EXPECT_EQ(f.module, edist::atom("edist_golden_funs"));
    EXPECT_EQ(f.arity, 1);
    ASSERT_EQ(f.free_vars.size(), 2u);
    EXPECT_TRUE(same_term(binary(std::string_view("free")), f.free_vars[0]));
    EXPECT_TRUE(same_term(list(1, 2), f.free_vars[1]));
    ASSERT_TRUE(f.pid.is_pid());
    EXPECT_EQ(f.pid.as_pid().node, atoms::nonode_nohost);
    EXPECT_TRUE(f.old_index.is_integer());
    EXPECT_TRUE(f.old_uniq.is_integer());
}

TEST(GoldenFun, LocalFunReencodesByteForByte) {
    auto bytes = read_file(golden_dir / "fun_local_with_free_vars.etf");
    auto decoded = etf::decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().what();
    EXPECT_TRUE(same_bytes(bytes, etf::encode(*decoded)));
    // Rebuilt from its parts, it is the same term.
    EXPECT_TRUE(same_term(*decoded, fun(decoded->as_fun())));
}

TEST(GoldenFun, LocalFunTextParsesBack) {
    auto decoded = etf::decode(read_file(golden_dir / "fun_local_with_free_vars.etf"));
    ASSERT_TRUE(decoded.ok()) << decoded.error().what();
    std::string text = to_string(*decoded);
    auto parsed = parse(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().what() << " in " << text;
    EXPECT_TRUE(same_term(*decoded, *parsed));
}

// Every file the generator wrote belongs to a vector this test knows, so a vector added to
// generate.escript without an expectation here fails instead of going unchecked.
TEST(GoldenFiles, EveryStoredVectorHasAnExpectation) {
    std::set<std::string> known{"fun_local_with_free_vars"};
    for (auto& v : all_vectors()) known.insert(v.name);
    std::set<std::string> stored;
    for (auto& entry : fs::directory_iterator(golden_dir)) {
        std::string file = entry.path().filename().string();
        if (file == "generate.escript") continue;
        stored.insert(file.substr(0, file.find('.')));
    }
    for (auto& name : stored) EXPECT_TRUE(known.count(name)) << name << " is stored but not checked";
    for (auto& name : known) EXPECT_TRUE(stored.count(name)) << name << " is checked but not stored";
    EXPECT_GE(stored.size(), 100u);
}

} // namespace
