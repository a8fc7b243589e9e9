// The token-level half of parse() (text.hpp): a cursor over the text that reads atoms,
// characters, strings and numbers, and reports errors as "<what> at offset N".
#pragma once

#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edist::detail {

struct ParseFailure {
    std::string what; // ends with " at offset N"
    std::size_t offset;
};

bool is_digit(char c);
int digit_value(char c); // 0-35 for [0-9a-zA-Z], 99 otherwise
std::string describe(char c); // a character for an error message

class TextScanner {
public:
    explicit TextScanner(std::string_view s) : s_(s) {}

protected:
    [[noreturn]] void fail(const std::string& what) const { fail_at(what, pos_); }
    [[noreturn]] static void fail_at(const std::string& what, std::size_t at) {
        throw ParseFailure{what + " at offset " + std::to_string(at), at};
    }

    bool at_end() const { return pos_ >= s_.size(); }
    // '\0' past the end: callers that accept '\0' itself check at_end() too.
    char peek(std::size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
    bool starts_with(std::string_view w) const { return s_.substr(pos_).starts_with(w); }

    void skip_ws(); // whitespace and % comments
    void expect(char c, const char* what);

    std::string read_bare_name();
    static Atom make_atom(const std::string& utf8, std::size_t at);
    Atom parse_quoted_atom();
    Atom parse_atom(); // bare or quoted

    long read_char_in_quotes(); // one character or escape sequence, surrogates refused
    long read_char_or_escape();
    std::vector<long> parse_strings(); // adjacent "..." literals, joined
    static Term string_term(const std::vector<long>& code_points);

    std::string read_digits(int base); // '_' allowed between digits; returned without it
    Term parse_number(); // integers in any base, $c, floats, with an optional sign: -5, -(5)
    Term parse_number_literal(bool negative, std::size_t start); // after the sign
    static Term integer_term(const std::string& digits, int base, bool negative, std::size_t at);
    static Term float_term(const std::string& text, bool negative, std::size_t at);
    std::uint64_t read_unsigned(std::uint64_t max, const char* what); // plain decimal

    std::string_view s_;
    std::size_t pos_ = 0;
};

} // namespace edist::detail
