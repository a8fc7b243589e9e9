// The handshake's cryptography: challenges from a CSPRNG and the cookie digest.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace edist::handshake {

using Digest = std::array<std::uint8_t, 16>;

// MD5(Cookie ++ decimal text of Challenge): what each side proves it knows the cookie with.
// The cookie comes first (OTP's gen_digest; an old protocol document had it the other way).
Digest gen_digest(std::uint32_t challenge, std::string_view cookie);

// Constant-time comparison, so a peer cannot learn a digest byte by byte from timing.
bool digest_equal(const Digest& expected, std::span<const std::uint8_t> received) noexcept;

// A challenge from the operating system's CSPRNG (OpenSSL RAND_bytes), unlike OTP's mix of
// runtime statistics. Throws edist::Error(system_limit) only if the CSPRNG is unavailable.
std::uint32_t gen_challenge();

} // namespace edist::handshake
