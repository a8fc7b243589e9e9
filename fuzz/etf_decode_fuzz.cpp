// Arbitrary bytes into both decode overloads: never a crash, leak or hang, and whatever decodes
// must survive encode -> decode unchanged (==), with encoded_size agreeing with the encoder.
#include <edist/etf.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace edist;

namespace {

void check_round_trip(const Term& t) {
    std::vector<std::uint8_t> bytes = etf::encode(t);
    if (bytes.size() != 1 + etf::encoded_size(t)) {
        std::fprintf(stderr, "encoded_size disagrees with encode\n");
        std::abort();
    }
    etf::DecodeOptions opts;
    opts.max_depth = static_cast<std::size_t>(-1);
    auto again = etf::decode(bytes, opts);
    if (!again) {
        std::fprintf(stderr, "re-decoding failed: %s\n", again.error().what());
        std::abort();
    }
    if (!(*again == t)) {
        std::fprintf(stderr, "round trip changed the term\n");
        std::abort();
    }
    if (etf::encode(*again) != bytes) {
        std::fprintf(stderr, "second encoding differs\n");
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Atom cache_atoms[] = {Atom("cached"), Atom("n@h")};
    static const etf::AtomCacheRefs cache{cache_atoms};
    etf::DecodeOptions opts;
    opts.max_depth = 1000;
    opts.max_uncompressed_size = 1 << 20;
    opts.share_binaries_from = 4;
    opts.atom_cache = size > 0 && (data[size - 1] & 1) ? &cache : nullptr;

    std::span<const std::uint8_t> in(data, size);
    auto from_span = etf::decode(in, opts);
    auto from_term = etf::decode(binary(in), opts);
    if (from_span.ok() != from_term.ok()) {
        std::fprintf(stderr, "the two decode overloads disagree\n");
        std::abort();
    }
    if (from_span) {
        if (!(*from_span == *from_term)) {
            std::fprintf(stderr, "the two decode overloads give different terms\n");
            std::abort();
        }
        check_round_trip(*from_span);
    }
    std::size_t offset = size > 1 ? 1 : 0;
    auto at = etf::decode_at(in, offset, opts);
    if (at) check_round_trip(*at);
    return 0;
}
