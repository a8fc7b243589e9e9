#include "handshake/digest.hpp"

#include <edist/error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <string>

namespace edist::handshake {

Digest gen_digest(std::uint32_t challenge, std::string_view cookie) {
    const std::string decimal = std::to_string(challenge);
    Digest out{};
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, cookie.data(), cookie.size()) == 1 &&
              EVP_DigestUpdate(ctx, decimal.data(), decimal.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
    EVP_MD_CTX_free(ctx);
    if (!ok) throw Error(atoms::system_limit, "MD5 is not available from libcrypto");
    return out;
}

bool digest_equal(const Digest& expected, std::span<const std::uint8_t> received) noexcept {
    return received.size() == expected.size() &&
           CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

std::uint32_t gen_challenge() {
    unsigned char b[4];
    if (RAND_bytes(b, sizeof b) != 1)
        throw Error(atoms::system_limit, "the CSPRNG (RAND_bytes) failed to produce a challenge");
    return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

} // namespace edist::handshake
