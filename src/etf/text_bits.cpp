// Binary segments for parse(): erl_bits' defaults (integer 8 bits, float 64, binary "all" with
// unit 8, utf with neither size nor unit) and eval_bits' construction of each type.
#include "etf/text_bits.hpp"

#include "etf/text_common.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace edist::detail {

// --- BitWriter -------------------------------------------------------------------------
void BitWriter::check(std::uint64_t nbits) const {
    if (nbits > *budget_) throw SegmentError{"binary too large"};
}

void BitWriter::charge(std::uint64_t nbits) {
    check(nbits);
    *budget_ -= nbits;
}

void BitWriter::put_bit(bool bit) {
    if (bits_ % 8 == 0) bytes_.push_back(0);
    if (bit) bytes_.back() |= static_cast<std::uint8_t>(0x80 >> (bits_ % 8));
    ++bits_;
}

void BitWriter::put_bits(std::span<const std::uint8_t> bytes, std::uint64_t nbits) {
    charge(nbits);
    if (bits_ % 8 == 0) { // the common case: whole bytes onto a byte boundary
        std::uint64_t whole = nbits / 8;
        bytes_.insert(bytes_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(whole));
        bits_ += whole * 8;
        for (std::uint64_t k = whole * 8; k < nbits; ++k) put_bit((bytes[k / 8] >> (7 - k % 8)) & 1);
        return;
    }
    for (std::uint64_t k = 0; k < nbits; ++k) put_bit((bytes[k / 8] >> (7 - k % 8)) & 1);
}

void BitWriter::put_low_bits_le(const std::vector<std::uint8_t>& le, std::uint64_t nbits) {
    charge(nbits);
    for (std::uint64_t k = nbits; k-- > 0;) put_bit((le[k / 8] >> (k % 8)) & 1);
}

Term BitWriter::finish() && {
    if (bits_ % 8 == 0) return binary(std::move(bytes_));
    return bitstring(bytes_, bits_);
}

// --- Type lists ------------------------------------------------------------------------
namespace {

const char* type_name(SegmentSpec::Type t) {
    switch (t) {
    case SegmentSpec::Type::Integer: return "integer";
    case SegmentSpec::Type::Float: return "float";
    case SegmentSpec::Type::Binary: return "binary";
    case SegmentSpec::Type::Utf8: return "utf8";
    case SegmentSpec::Type::Utf16: return "utf16";
    case SegmentSpec::Type::Utf32: return "utf32";
    default: return "?";
    }
}

// Like erl_bits: a word may repeat what was said, never contradict it.
template <class T>
void merge(T& field, T value, const char* what) {
    if (field != T{} && field != value)
        throw SegmentError{std::string("conflicting ") + what + " in a segment type list"};
    field = value;
}

} // namespace

void add_segment_type(SegmentSpec& spec, std::string_view word, std::uint64_t unit) {
    using S = SegmentSpec;
    spec.has_types = true;
    auto type = [&](S::Type t, unsigned u = 0) {
        merge(spec.type, t, "types");
        if (u) merge(spec.unit, u, "units");
    };
    if (word == "integer") type(S::Type::Integer);
    else if (word == "float") type(S::Type::Float);
    else if (word == "binary") type(S::Type::Binary);
    else if (word == "bytes") type(S::Type::Binary, 8);
    else if (word == "bitstring" || word == "bits") type(S::Type::Binary, 1);
    else if (word == "utf8") type(S::Type::Utf8);
    else if (word == "utf16") type(S::Type::Utf16);
    else if (word == "utf32") type(S::Type::Utf32);
    else if (word == "big") merge(spec.endian, S::Endian::Big, "endianness");
    else if (word == "little") merge(spec.endian, S::Endian::Little, "endianness");
    else if (word == "native") merge(spec.endian, S::Endian::Native, "endianness");
    else if (word == "signed") merge(spec.sign, S::Sign::Signed, "signedness");
    else if (word == "unsigned") merge(spec.sign, S::Sign::Unsigned, "signedness");
    else if (word == "unit") {
        if (unit < 1 || unit > 256) throw SegmentError{"unit must be 1 to 256"};
        merge(spec.unit, static_cast<unsigned>(unit), "units");
    } else {
        throw SegmentError{"unknown segment type '" + std::string(word) + "'"};
    }
}

// --- Values ----------------------------------------------------------------------------
namespace {

using Type = SegmentSpec::Type;

bool little_endian(const SegmentSpec& s) {
    return s.endian == SegmentSpec::Endian::Little ||
           (s.endian == SegmentSpec::Endian::Native && std::endian::native == std::endian::little);
}

// Size × unit in bits, with erl_bits' default unit for the type.
std::uint64_t segment_bits(const SegmentSpec& s, Type type) {
    unsigned unit = s.unit ? s.unit : type == Type::Binary ? 8 : 1;
    if (s.size > (std::uint64_t(1) << 40)) throw SegmentError{"binary too large"};
    return s.size * unit;
}

// Two's complement of `v`, little-endian, at least `min_bytes` long.
std::vector<std::uint8_t> twos_complement_le(const Term& v, std::size_t min_bytes) {
    std::vector<std::uint8_t> le;
    BigInt b = v.as_bigint();
    b.to_le_bytes(le);
    le.resize(std::max(le.size(), min_bytes) + 1, 0);
    if (b.negative()) {
        unsigned carry = 1;
        for (auto& x : le) {
            unsigned y = static_cast<std::uint8_t>(~x) + carry;
            x = static_cast<std::uint8_t>(y);
            carry = y >> 8;
        }
    }
    return le;
}

void put_integer(BitWriter& w, const Term& v, std::uint64_t nbits, bool little) {
    if (nbits == 8 && v.is_int64()) {
        std::uint8_t b = static_cast<std::uint8_t>(v.as_int64()); // the low 8 bits, as erl
        w.put_bits({&b, 1}, 8);
        return;
    }
    w.check(nbits); // before allocating ceil(nbits/8) bytes
    auto le = twos_complement_le(v, (nbits + 7) / 8);
    if (!little) {
        w.put_low_bits_le(le, nbits);
        return;
    }
    // Little-endian: whole bytes least significant first, then the top nbits % 8 bits.
    std::vector<std::uint8_t> out(le.begin(), le.begin() + static_cast<std::ptrdiff_t>(nbits / 8));
    w.put_bits(out, out.size() * 8);
    if (nbits % 8) w.put_low_bits_le({le[nbits / 8]}, nbits % 8);
}

// An integer as BEAM turns it into a float: 64-bit digits from the most significant,
// d = d * 2^64 + digit, failing once that overflows (which is not always correct rounding).
double integer_to_double(const Term& v) {
    if (v.is_int64()) return static_cast<double>(v.as_int64());
    BigInt b = v.as_bigint();
    auto limbs = b.limbs(); // 32-bit, least significant first
    double d = 0.0;
    std::size_t n = (limbs.size() + 1) / 2;
    for (std::size_t i = n; i-- > 0;) {
        std::uint64_t digit = limbs[2 * i];
        if (2 * i + 1 < limbs.size()) digit |= std::uint64_t(limbs[2 * i + 1]) << 32;
        d = d * 18446744073709551616.0 + static_cast<double>(digit);
        if (!std::isfinite(d)) throw SegmentError{"integer too large for a float"};
    }
    return b.negative() ? -d : d;
}

// IEEE binary16, rounding to nearest even; too large becomes infinity, as in erl.
std::uint16_t to_half(double d) {
    auto b = std::bit_cast<std::uint64_t>(d);
    auto sign = static_cast<std::uint16_t>((b >> 48) & 0x8000);
    int biased = static_cast<int>((b >> 52) & 0x7FF);
    if (biased == 0) return sign; // zero or a double subnormal: far below half's range
    int e = biased - 1023;
    std::uint64_t full = (b & ((std::uint64_t(1) << 52) - 1)) | (std::uint64_t(1) << 52);
    // Keep 11 significant bits for a normal half, fewer for a subnormal one (units of 2^-24).
    int shift = e >= -14 ? 42 : 28 - e;
    if (shift > 60) return sign;
    std::uint64_t q = full >> shift;
    std::uint64_t rem = full & ((std::uint64_t(1) << shift) - 1);
    std::uint64_t halfway = std::uint64_t(1) << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1))) ++q;
    if (e < -14) return static_cast<std::uint16_t>(sign | q); // q == 0x400 is the least normal
    if (q == 0x800) {
        q >>= 1;
        ++e;
    }
    if (e > 15) return static_cast<std::uint16_t>(sign | 0x7C00);
    return static_cast<std::uint16_t>(sign | ((e + 15) << 10) | (q & 0x3FF));
}

void put_float(BitWriter& w, const Term& v, std::uint64_t nbits, bool little) {
    double d;
    if (v.is_float()) d = v.as_double();
    else if (v.is_integer()) d = integer_to_double(v);
    else throw SegmentError{"a float segment needs a number"};
    std::uint64_t raw;
    if (nbits == 64) raw = std::bit_cast<std::uint64_t>(d);
    else if (nbits == 32) raw = std::bit_cast<std::uint32_t>(static_cast<float>(d));
    else if (nbits == 16) raw = to_half(d);
    else throw SegmentError{"a float segment must be 16, 32 or 64 bits, not " + std::to_string(nbits)};
    std::uint8_t out[8];
    std::size_t n = nbits / 8;
    for (std::size_t i = 0; i < n; ++i) {
        auto byte = static_cast<std::uint8_t>(raw >> (8 * (n - 1 - i)));
        out[little ? n - 1 - i : i] = byte;
    }
    w.put_bits({out, n}, nbits);
}

void put_code_unit(BitWriter& w, std::uint32_t u, std::size_t bytes, bool little) {
    std::uint8_t out[4];
    for (std::size_t i = 0; i < bytes; ++i) {
        auto byte = static_cast<std::uint8_t>(u >> (8 * (bytes - 1 - i)));
        out[little ? bytes - 1 - i : i] = byte;
    }
    w.put_bits({out, bytes}, bytes * 8);
}

void put_utf(BitWriter& w, const Term& v, Type type, bool little) {
    if (!v.is_int64()) throw SegmentError{std::string("a ") + type_name(type) + " segment needs a code point"};
    std::int64_t cp = v.as_int64();
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        throw SegmentError{std::to_string(cp) + " is not a Unicode code point"};
    auto c = static_cast<std::uint32_t>(cp);
    if (type == Type::Utf8) {
        std::string enc;
        append_utf8(enc, c);
        w.put_bits({reinterpret_cast<const std::uint8_t*>(enc.data()), enc.size()}, enc.size() * 8);
    } else if (type == Type::Utf32) {
        put_code_unit(w, c, 4, little);
    } else if (c < 0x10000) {
        put_code_unit(w, c, 2, little);
    } else {
        put_code_unit(w, 0xD800 + ((c - 0x10000) >> 10), 2, little);
        put_code_unit(w, 0xDC00 + ((c - 0x10000) & 0x3FF), 2, little);
    }
}

void put_bitstring(BitWriter& w, const Term& v, const SegmentSpec& s) {
    if (!v.is_bitstring()) throw SegmentError{"a binary segment needs a binary or a bit string"};
    std::uint64_t have = v.bit_size();
    unsigned unit = s.unit ? s.unit : 8;
    std::uint64_t n;
    if (s.size_kind == SegmentSpec::Size::Bits) {
        n = segment_bits(s, Type::Binary);
        if (n > have) throw SegmentError{"the binary is shorter than the segment size"};
    } else { // no size, or `all`
        if (have % unit)
            throw SegmentError{"the bit string's size is not a multiple of the unit " + std::to_string(unit)};
        n = have;
    }
    w.put_bits(v.bitstring_bytes(), n);
}

} // namespace

void put_segment(BitWriter& w, const Term& value, const SegmentSpec& s) {
    using Size = SegmentSpec::Size;
    Type type = s.type == Type::Unset ? Type::Integer : s.type;
    bool little = little_endian(s);
    switch (type) {
    case Type::Utf8:
    case Type::Utf16:
    case Type::Utf32:
        if ((s.size_kind != Size::Unset && s.size_kind != Size::Undefined) || s.unit)
            throw SegmentError{std::string("a ") + type_name(type) + " segment takes no size and no unit"};
        put_utf(w, value, type, little);
        return;
    case Type::Binary:
        if (s.size_kind == Size::Undefined) throw SegmentError{"bad segment size"};
        put_bitstring(w, value, s);
        return;
    default: break;
    }
    // Integers and floats: a unit needs a size, and the size must be a number.
    if (s.size_kind == Size::Unset && s.unit) throw SegmentError{"a unit needs a size"};
    if (s.size_kind == Size::All || s.size_kind == Size::Undefined) throw SegmentError{"bad segment size"};
    std::uint64_t nbits = s.size_kind == Size::Unset ? (type == Type::Float ? 64 : 8) : segment_bits(s, type);
    if (type == Type::Float) {
        put_float(w, value, nbits, little);
        return;
    }
    if (!value.is_integer()) throw SegmentError{"an integer segment needs an integer"};
    put_integer(w, value, nbits, little);
}

void put_string_segment(BitWriter& w, std::span<const long> chars, const SegmentSpec& s) {
    if (s.size_kind == SegmentSpec::Size::Unset && !s.has_types) {
        std::vector<std::uint8_t> bytes(chars.size());
        for (std::size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::uint8_t>(chars[i] & 0xFF);
        w.put_bits(bytes, bytes.size() * 8);
        return;
    }
    if (chars.empty()) { // erl still checks the spec, as for a character 0
        std::uint64_t budget = w.budget_left(); // a copy: the check writes nothing for real
        BitWriter scratch(&budget);
        put_segment(scratch, Term(0), s);
        return;
    }
    for (long c : chars) put_segment(w, Term(static_cast<std::int64_t>(c)), s);
}

} // namespace edist::detail
