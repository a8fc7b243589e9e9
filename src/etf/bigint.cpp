#include <edist/bigint.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

namespace edist {

namespace {

using Limbs = std::vector<std::uint32_t>;

// Magnitude helpers work on raw limb vectors so the sign logic stays in one place.

int compare_limbs(const Limbs& a, const Limbs& b) noexcept {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    for (std::size_t i = a.size(); i-- > 0;) {
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

Limbs add_limbs(const Limbs& a, const Limbs& b) {
    const Limbs& longer = a.size() >= b.size() ? a : b;
    const Limbs& shorter = a.size() >= b.size() ? b : a;
    Limbs r;
    r.reserve(longer.size() + 1);
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < longer.size(); ++i) {
        std::uint64_t s = std::uint64_t{longer[i]} + carry + (i < shorter.size() ? shorter[i] : 0);
        r.push_back(static_cast<std::uint32_t>(s));
        carry = s >> 32;
    }
    if (carry) r.push_back(static_cast<std::uint32_t>(carry));
    return r;
}

// a - b where |a| >= |b|.
Limbs sub_limbs(const Limbs& a, const Limbs& b) {
    Limbs r;
    r.reserve(a.size());
    std::uint32_t borrow = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::uint64_t sub = std::uint64_t{i < b.size() ? b[i] : 0} + borrow;
        std::uint64_t ai = a[i];
        borrow = ai < sub ? 1 : 0;
        r.push_back(static_cast<std::uint32_t>(ai - sub + (std::uint64_t{borrow} << 32)));
    }
    while (!r.empty() && r.back() == 0) r.pop_back();
    return r;
}

// limbs = limbs * mul + add, in place.
void mul_add_small(Limbs& limbs, std::uint32_t mul, std::uint32_t add) {
    std::uint64_t carry = add;
    for (auto& l : limbs) {
        std::uint64_t v = std::uint64_t{l} * mul + carry;
        l = static_cast<std::uint32_t>(v);
        carry = v >> 32;
    }
    if (carry) limbs.push_back(static_cast<std::uint32_t>(carry));
}

// limbs /= div in place; returns the remainder.
std::uint32_t div_small(Limbs& limbs, std::uint32_t div) {
    std::uint64_t rem = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
        std::uint64_t cur = (rem << 32) | limbs[i];
        limbs[i] = static_cast<std::uint32_t>(cur / div);
        rem = cur % div;
    }
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
    return static_cast<std::uint32_t>(rem);
}

// The largest k with base^k < 2^32, so a chunk of k digits is one limb-sized multiply-add
// (or one division) instead of k of them: 9 decimal digits per step instead of 1.
struct Chunk {
    int digits;
    std::uint32_t power;
};
Chunk chunk_for(int base) {
    std::uint64_t p = static_cast<std::uint64_t>(base);
    int k = 1;
    while (p * static_cast<std::uint64_t>(base) <= 0xFFFFFFFFull) {
        p *= static_cast<std::uint64_t>(base);
        ++k;
    }
    return {k, static_cast<std::uint32_t>(p)};
}

int digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

std::uint64_t low_u64(std::span<const std::uint32_t> limbs) noexcept {
    std::uint64_t v = 0;
    if (limbs.size() > 0) v = limbs[0];
    if (limbs.size() > 1) v |= std::uint64_t{limbs[1]} << 32;
    return v;
}

} // namespace

BigInt::BigInt(std::int64_t v) {
    negative_ = v < 0;
    // Negating in unsigned arithmetic keeps INT64_MIN defined.
    std::uint64_t mag = negative_ ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    if (mag) limbs_.push_back(static_cast<std::uint32_t>(mag));
    if (mag >> 32) limbs_.push_back(static_cast<std::uint32_t>(mag >> 32));
}

BigInt BigInt::from_uint64(std::uint64_t v) {
    BigInt r;
    if (v) r.limbs_.push_back(static_cast<std::uint32_t>(v));
    if (v >> 32) r.limbs_.push_back(static_cast<std::uint32_t>(v >> 32));
    return r;
}

void BigInt::trim() noexcept {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
    if (limbs_.empty()) negative_ = false;
}

int BigInt::compare_magnitude(const BigInt& a, const BigInt& b) noexcept {
    return compare_limbs(a.limbs_, b.limbs_);
}

BigInt BigInt::from_le_bytes(std::span<const std::uint8_t> digits, bool negative) {
    BigInt r;
    r.limbs_.assign((digits.size() + 3) / 4, 0);
    for (std::size_t i = 0; i < digits.size(); ++i)
        r.limbs_[i / 4] |= std::uint32_t{digits[i]} << (8 * (i % 4));
    r.negative_ = negative;
    // The wire may carry zero padding (or a "negative zero"); one value, one representation.
    r.trim();
    return r;
}

std::size_t BigInt::le_byte_count() const noexcept {
    if (limbs_.empty()) return 0;
    return (limbs_.size() - 1) * 4 + (32 - std::countl_zero(limbs_.back()) + 7) / 8;
}

void BigInt::to_le_bytes(std::vector<std::uint8_t>& out) const {
    // Appends, so an encoder can write the digits straight after the header it already wrote.
    std::size_t n = le_byte_count();
    out.reserve(out.size() + n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(limbs_[i / 4] >> (8 * (i % 4))));
}

std::optional<BigInt> BigInt::from_string(std::string_view text, int base) {
    if (base < 2 || base > 36) return std::nullopt;
    bool neg = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        neg = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text.empty()) return std::nullopt;
    const Chunk chunk = chunk_for(base);
    BigInt r;
    r.limbs_.reserve(text.size() / 8 + 1);
    // The first chunk takes the remainder so every later one is full and multiplies by `power`.
    std::size_t first = text.size() % static_cast<std::size_t>(chunk.digits);
    if (first == 0) first = static_cast<std::size_t>(chunk.digits);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t len = pos == 0 ? first : static_cast<std::size_t>(chunk.digits);
        std::uint32_t value = 0;
        std::uint32_t scale = 1;
        for (std::size_t i = 0; i < len; ++i) {
            int d = digit_value(text[pos + i]);
            if (d >= base) return std::nullopt;
            value = value * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(d);
            scale *= static_cast<std::uint32_t>(base);
        }
        mul_add_small(r.limbs_, scale, value);
        pos += len;
    }
    r.negative_ = neg;
    r.trim();
    return r;
}

std::string BigInt::to_string(int base) const {
    if (base < 2 || base > 36) base = 10;
    if (limbs_.empty()) return "0";
    static constexpr char digit_chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const Chunk chunk = chunk_for(base);
    Limbs work = limbs_;
    std::string out; // least significant digit first, reversed at the end
    out.reserve(limbs_.size() * 32 + 2);
    while (!work.empty()) {
        std::uint32_t rem = div_small(work, chunk.power);
        // Every chunk but the most significant one is zero-padded to full width.
        int produced = 0;
        while (rem != 0 || (!work.empty() && produced < chunk.digits)) {
            out.push_back(digit_chars[rem % static_cast<std::uint32_t>(base)]);
            rem /= static_cast<std::uint32_t>(base);
            ++produced;
        }
    }
    if (negative_) out.push_back('-');
    std::reverse(out.begin(), out.end());
    return out;
}

bool BigInt::fits_int64() const noexcept {
    if (limbs_.size() > 2) return false;
    std::uint64_t mag = low_u64(limbs_);
    constexpr std::uint64_t max = std::uint64_t{1} << 63;
    return negative_ ? mag <= max : mag < max;
}

std::int64_t BigInt::to_int64() const noexcept {
    std::uint64_t mag = low_u64(limbs_);
    // Two's complement wrap-around gives INT64_MIN for a magnitude of 2^63.
    return static_cast<std::int64_t>(negative_ ? 0 - mag : mag);
}

std::optional<std::uint64_t> BigInt::to_uint64() const noexcept {
    if (negative_ || limbs_.size() > 2) return std::nullopt;
    return low_u64(limbs_);
}

double BigInt::to_double() const noexcept {
    if (limbs_.empty()) return 0.0;
    const std::size_t bits = limbs_.size() * 32 - static_cast<std::size_t>(std::countl_zero(limbs_.back()));
    double mag;
    if (bits <= 64) {
        mag = static_cast<double>(low_u64(limbs_));
    } else {
        // Keep the top 64 bits and fold everything below into a sticky bit: 64 bits hold 11
        // more than a double's 53, so the hardware conversion then rounds exactly as rounding
        // the full value would (ties to even included), and ldexp is exact or overflows to inf.
        const std::size_t shift = bits - 64;
        std::uint64_t top = 0;
        for (int k = 0; k < 64; ++k) {
            std::size_t b = shift + static_cast<std::size_t>(k);
            if ((limbs_[b / 32] >> (b % 32)) & 1u) top |= std::uint64_t{1} << k;
        }
        bool sticky = false;
        for (std::size_t i = 0; i < shift / 32 && !sticky; ++i) sticky = limbs_[i] != 0;
        if (!sticky && shift % 32) sticky = (limbs_[shift / 32] & ((std::uint32_t{1} << (shift % 32)) - 1)) != 0;
        if (sticky) top |= 1;
        mag = shift > 2000 ? HUGE_VAL : std::ldexp(static_cast<double>(top), static_cast<int>(shift));
    }
    return negative_ ? -mag : mag;
}

BigInt operator+(const BigInt& a, const BigInt& b) {
    BigInt r;
    if (a.negative_ == b.negative_) {
        r.limbs_ = add_limbs(a.limbs_, b.limbs_);
        r.negative_ = a.negative_;
    } else if (BigInt::compare_magnitude(a, b) >= 0) {
        r.limbs_ = sub_limbs(a.limbs_, b.limbs_);
        r.negative_ = a.negative_;
    } else {
        r.limbs_ = sub_limbs(b.limbs_, a.limbs_);
        r.negative_ = b.negative_;
    }
    r.trim();
    return r;
}

BigInt BigInt::operator-() const {
    BigInt r = *this;
    if (!r.limbs_.empty()) r.negative_ = !r.negative_;
    return r;
}

BigInt operator-(const BigInt& a, const BigInt& b) { return a + (-b); }

BigInt operator*(const BigInt& a, const BigInt& b) {
    BigInt r;
    if (a.limbs_.empty() || b.limbs_.empty()) return r;
    r.limbs_.assign(a.limbs_.size() + b.limbs_.size(), 0);
    for (std::size_t i = 0; i < a.limbs_.size(); ++i) {
        std::uint64_t carry = 0;
        const std::uint64_t ai = a.limbs_[i];
        for (std::size_t j = 0; j < b.limbs_.size(); ++j) {
            // (2^32-1)^2 + 2*(2^32-1) == 2^64-1: the sum cannot overflow.
            std::uint64_t cur = ai * b.limbs_[j] + r.limbs_[i + j] + carry;
            r.limbs_[i + j] = static_cast<std::uint32_t>(cur);
            carry = cur >> 32;
        }
        r.limbs_[i + b.limbs_.size()] = static_cast<std::uint32_t>(carry);
    }
    r.negative_ = a.negative_ != b.negative_;
    r.trim();
    return r;
}

std::strong_ordering operator<=>(const BigInt& a, const BigInt& b) noexcept {
    if (a.negative_ != b.negative_) return a.negative_ ? std::strong_ordering::less : std::strong_ordering::greater;
    int c = BigInt::compare_magnitude(a, b);
    if (a.negative_) c = -c;
    return c < 0 ? std::strong_ordering::less : c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal;
}

std::size_t BigInt::hash() const noexcept {
    std::uint64_t h = negative_ ? 0x9E3779B97F4A7C15ull : 0x6A09E667F3BCC909ull;
    for (std::uint32_t l : limbs_) {
        h ^= l;
        h *= 0x100000001B3ull;
        h ^= h >> 29;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return static_cast<std::size_t>(h);
}

} // namespace edist
