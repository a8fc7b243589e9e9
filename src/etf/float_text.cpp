#include "etf/float_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace edist::detail {

// Erlang's rule, checked against OTP 25 on random doubles: take the shortest round-trip digits,
// write them both as "D.DDDeX" and as plain "DDD.DDD"; the plain form wins when it is not
// longer, except that it is never used at or beyond 2^53, where not every integer is a float
// and a long run of digits would pretend to a precision the value does not have.
void append_erlang_float(std::string& out, double d) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf)); // "-1.2345e+15"

    bool negative = false;
    if (!sci.empty() && sci.front() == '-') {
        negative = true;
        sci.remove_prefix(1);
    }
    std::size_t e_pos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e_pos))
        if (c != '.') digits.push_back(c);
    int exp = 0;
    std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();

    std::string exp_form;
    exp_form.push_back(digits[0]);
    exp_form.push_back('.');
    if (digits.size() > 1)
        exp_form.append(digits, 1);
    else
        exp_form.push_back('0');
    exp_form.push_back('e');
    exp_form.append(std::to_string(exp));

    constexpr double two_pow_53 = 9007199254740992.0;
    if (std::fabs(d) < two_pow_53) {
        std::string fixed;
        const int n = static_cast<int>(digits.size());
        if (exp < 0) {
            fixed = "0.";
            fixed.append(static_cast<std::size_t>(-exp - 1), '0');
            fixed.append(digits);
        } else if (exp + 1 >= n) {
            fixed = digits;
            fixed.append(static_cast<std::size_t>(exp + 1 - n), '0');
            fixed.append(".0");
        } else {
            fixed.assign(digits, 0, static_cast<std::size_t>(exp + 1));
            fixed.push_back('.');
            fixed.append(digits, static_cast<std::size_t>(exp + 1));
        }
        if (fixed.size() <= exp_form.size()) exp_form.swap(fixed);
    }
    if (negative) out.push_back('-');
    out.append(exp_form);
}

} // namespace edist::detail
