// Arbitrary-precision integers, for Erlang integers outside the 64-bit range.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edist {

// Sign and magnitude, magnitude as 32-bit limbs least significant first, never with a leading
// zero limb; zero is non-negative with no limbs. Only what a term library needs: conversion to
// and from bytes and text, comparison, and the arithmetic Erlang code most often asks of a peer.
class BigInt {
public:
    BigInt() = default;
    BigInt(std::int64_t v);
    static BigInt from_uint64(std::uint64_t v);

    // From ETF's little-endian magnitude bytes (SMALL_BIG_EXT / LARGE_BIG_EXT digits).
    static BigInt from_le_bytes(std::span<const std::uint8_t> digits, bool negative);
    // Writes the magnitude as little-endian bytes with no trailing zero byte.
    void to_le_bytes(std::vector<std::uint8_t>& out) const;
    std::size_t le_byte_count() const noexcept;

    // Text in bases 2..36, optional leading '-' (or '+'); digits may use either case.
    // nullopt if the text is empty or holds a character that is no digit of the base.
    static std::optional<BigInt> from_string(std::string_view text, int base = 10);
    std::string to_string(int base = 10) const; // upper-case digits, like integer_to_list/2

    bool negative() const noexcept { return negative_; }
    bool is_zero() const noexcept { return limbs_.empty(); }
    bool fits_int64() const noexcept;
    std::int64_t to_int64() const noexcept; // only meaningful when fits_int64()
    std::optional<std::uint64_t> to_uint64() const noexcept;
    double to_double() const noexcept; // rounds; +-inf when out of range
    std::span<const std::uint32_t> limbs() const noexcept { return limbs_; }

    friend BigInt operator+(const BigInt& a, const BigInt& b);
    friend BigInt operator-(const BigInt& a, const BigInt& b);
    friend BigInt operator*(const BigInt& a, const BigInt& b);
    BigInt operator-() const;

    friend bool operator==(const BigInt&, const BigInt&) = default;
    friend std::strong_ordering operator<=>(const BigInt& a, const BigInt& b) noexcept;

    std::size_t hash() const noexcept;

private:
    void trim() noexcept;
    static int compare_magnitude(const BigInt& a, const BigInt& b) noexcept;

    bool negative_ = false;
    std::vector<std::uint32_t> limbs_;
};

} // namespace edist
