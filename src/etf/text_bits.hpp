// Binary segments for parse(): the type lists, defaults and values of `<<V:Size/Types>>` as
// erl_parse:parse_term evaluates them (erl_bits' defaults, eval_bits' construction; checked
// against erl 25).
#pragma once

#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edist::detail {

// Bits appended most significant first; finish() makes a binary or a bit string. Every bit
// written is charged to a budget shared by the whole parse, so nested binaries copied into
// one another cannot make the parser work or allocate without bound.
class BitWriter {
public:
    explicit BitWriter(std::uint64_t* budget = nullptr) : budget_(budget) {}

    // The first `nbits` bits of `bytes` (most significant bit of bytes[0] first).
    void put_bits(std::span<const std::uint8_t> bytes, std::uint64_t nbits);
    // The low `nbits` bits of a two's complement value given as `le` (little-endian bytes,
    // at least ceil(nbits/8) of them), most significant first.
    void put_low_bits_le(const std::vector<std::uint8_t>& le, std::uint64_t nbits);
    void check(std::uint64_t nbits) const; // throws SegmentError when over budget
    void charge(std::uint64_t nbits);      // check(), then take them off the budget
    std::uint64_t budget_left() const { return *budget_; }

    Term finish() &&;

private:
    void put_bit(bool bit);

    std::vector<std::uint8_t> bytes_;
    std::uint64_t bits_ = 0;
    std::uint64_t* budget_;
};

struct SegmentError {
    std::string what;
};

// What one segment's `:Size/Type-Type-unit:N` said; "not given" is kept apart from every
// value because the defaults depend on it.
struct SegmentSpec {
    enum class Type : std::uint8_t { Unset, Integer, Float, Binary, Utf8, Utf16, Utf32 };
    enum class Endian : std::uint8_t { Unset, Big, Little, Native };
    enum class Sign : std::uint8_t { Unset, Signed, Unsigned };
    enum class Size : std::uint8_t { Unset, Bits, All, Undefined }; // Bits: `size` holds it

    Type type = Type::Unset;
    Endian endian = Endian::Unset;
    Sign sign = Sign::Unset;
    unsigned unit = 0; // 0: not given
    Size size_kind = Size::Unset;
    std::uint64_t size = 0;
    bool has_types = false; // a '/' list was written
};

// One word of a type list (`little`, `bytes`, ...; `unit` with its number). Throws
// SegmentError for an unknown word or one that contradicts an earlier one.
void add_segment_type(SegmentSpec& spec, std::string_view word, std::uint64_t unit = 0);

// Appends `value` as the segment `spec` describes, or throws SegmentError where erl's
// evaluation fails (badarg): a float of 8 bits, a utf8 segment with a size, a value of the
// wrong kind, a binary shorter than its size...
void put_segment(BitWriter& w, const Term& value, const SegmentSpec& spec);

// A string literal segment: every character with the same spec, or Latin-1 bytes when the
// segment has neither size nor types.
void put_string_segment(BitWriter& w, std::span<const long> chars, const SegmentSpec& spec);

} // namespace edist::detail
