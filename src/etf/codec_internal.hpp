// Shared between the ETF decoder and encoder: tag numbers, big-endian byte access and a small
// stack that keeps shallow terms off the heap.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace edist::etf::codec {

enum ExtTag : std::uint8_t {
    NEW_FLOAT_EXT = 70,
    BIT_BINARY_EXT = 77,
    COMPRESSED = 80,
    ATOM_CACHE_REF = 82,
    NEW_PID_EXT = 88,
    NEW_PORT_EXT = 89,
    NEWER_REFERENCE_EXT = 90,
    SMALL_INTEGER_EXT = 97,
    INTEGER_EXT = 98,
    FLOAT_EXT = 99,
    ATOM_EXT = 100,
    REFERENCE_EXT = 101,
    PORT_EXT = 102,
    PID_EXT = 103,
    SMALL_TUPLE_EXT = 104,
    LARGE_TUPLE_EXT = 105,
    NIL_EXT = 106,
    STRING_EXT = 107,
    LIST_EXT = 108,
    BINARY_EXT = 109,
    SMALL_BIG_EXT = 110,
    LARGE_BIG_EXT = 111,
    NEW_FUN_EXT = 112,
    EXPORT_EXT = 113,
    NEW_REFERENCE_EXT = 114,
    SMALL_ATOM_EXT = 115,
    MAP_EXT = 116,
    FUN_EXT = 117,
    ATOM_UTF8_EXT = 118,
    SMALL_ATOM_UTF8_EXT = 119,
    V4_PORT_EXT = 120,
    LOCAL_EXT = 121,
};

// Ports whose number needs more than 28 bits go out as V4_PORT_EXT; below that OTP keeps
// NEW_PORT_EXT so that older peers still understand them.
inline constexpr std::uint64_t max_v3_port_number = (std::uint64_t(1) << 28) - 1;

inline std::uint16_t get16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t get32(const std::uint8_t* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}
inline std::uint64_t get64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}
inline void put16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::uint8_t* p, std::uint32_t v) noexcept {
    v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
}
inline void put64(std::uint8_t* p, std::uint64_t v) noexcept {
    v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
}

// Copies n bytes. Most binaries in messages are a few bytes long: those are copied inline with
// overlapping loads, where a call to memcpy would cost more than the copy.
[[gnu::always_inline]] inline void copy_bytes(std::uint8_t* d, const std::uint8_t* p, std::size_t n) noexcept {
    if (n >= 8 && n <= 16) {
        std::uint64_t a, b;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + n - 8, 8);
        std::memcpy(d, &a, 8);
        std::memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        std::uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        std::memcpy(d, &a, 4);
        std::memcpy(d + n - 4, &b, 4);
    } else if (n < 4) {
        for (std::size_t i = 0; i < n; ++i) d[i] = p[i];
    } else {
        std::memcpy(d, p, n);
    }
}

// A LIFO whose first N entries live inside the object: most terms nest only a few levels, and
// a heap allocation per decode or encode call would cost as much as the work itself.
template <class T, std::size_t N>
class SmallStack {
public:
    SmallStack() = default;
    SmallStack(const SmallStack&) = delete;
    SmallStack& operator=(const SmallStack&) = delete;

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    T& back() noexcept { return data_[size_ - 1]; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    void pop_back() noexcept { --size_; }
    T& push_back(const T& v) {
        if (size_ == capacity_) grow();
        data_[size_] = v;
        return data_[size_++];
    }

private:
    void grow() {
        spill_.resize(capacity_ * 2);
        if (data_ == inline_.data()) std::copy(inline_.begin(), inline_.end(), spill_.begin());
        data_ = spill_.data();
        capacity_ = spill_.size();
    }

    std::array<T, N> inline_; // left uninitialised: zeroing it would cost more than a decode
    std::vector<T> spill_;
    T* data_ = inline_.data();
    std::size_t size_ = 0;
    std::size_t capacity_ = N;
};

} // namespace edist::etf::codec
