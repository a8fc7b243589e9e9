// The external term format (term_to_binary / binary_to_term), both directions.
#pragma once

#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace edist::etf {

inline constexpr std::uint8_t version_magic = 131;

// Atom-cache references (ATOM_CACHE_REF, tag 82) name slots of a table that the distribution
// header of each message fills; the connection passes that table in. Index i of `atoms` is
// the atom for ATOM_CACHE_REF i.
struct AtomCacheRefs {
    std::span<const Atom> atoms;
};

struct DecodeOptions {
    // Deepest nesting of lists, tuples, maps and funs accepted. The decoder never recurses, so
    // this bounds memory and the work of later consumers, not the C++ stack.
    std::size_t max_depth = 100'000;
    // Largest uncompressed size a compressed term (tag 80) may declare: by default the largest
    // distribution packet, so a megabyte of zlib data cannot make the decoder allocate a gigabyte.
    std::size_t max_uncompressed_size = std::size_t(256) << 20;
    // Binaries at least this long are not copied when the input is a binary Term: the decoded
    // binary points into the input (and keeps it alive), as BEAM's sub-binaries do.
    std::size_t share_binaries_from = 64;
    const AtomCacheRefs* atom_cache = nullptr;
};

// Decodes one term that starts with the version byte 131 and takes the whole input.
// Every failure is an Error with reason badarg (or system_limit when the atom table is full),
// a message saying what was wrong, and the byte offset where it was found.
Result<Term> decode(std::span<const std::uint8_t> bytes, const DecodeOptions& opts = {});
// Same, reading from a binary term; large binaries inside share its storage.
Result<Term> decode(const Term& binary, const DecodeOptions& opts = {});

// Decodes one term *without* the version byte starting at `bytes[offset]`, and advances
// `offset` past it. For protocol layers whose messages hold several terms back to back.
Result<Term> decode_at(std::span<const std::uint8_t> bytes, std::size_t& offset,
                       const DecodeOptions& opts = {}, const Term* owner = nullptr);

struct EncodeOptions {
    // zlib-compress the term (tag 80) when that makes it smaller, as term_to_binary's
    // `compressed` option; level 0-9, -1 for none.
    int compression_level = -1;
};

// term_to_binary: 131 followed by the term.
std::vector<std::uint8_t> encode(const Term& t, const EncodeOptions& opts = {});
// Appends the term without the version byte.
void encode_to(std::vector<std::uint8_t>& out, const Term& t);
// A binary an encoder referred to instead of copying: its bytes belong in the output just
// before the byte at `offset` (at the end when offset is the output's size). `owner`, the
// binary term, keeps them alive.
struct SharedBinary {
    std::size_t offset;
    Term owner;
    std::span<const std::uint8_t> bytes;
};
// term_to_iovec: encode_to, except that binaries of `share_from` bytes or more are not copied
// but appended to `shared`, in order, each with its place in `out`. For writers that gather
// pieces (writev) instead of copying them; the pieces together are encode_to's bytes.
void encode_to(std::vector<std::uint8_t>& out, const Term& t, std::vector<SharedBinary>& shared,
               std::size_t share_from = 16 * 1024);
// Bytes encode_to would append, computed without encoding.
std::size_t encoded_size(const Term& t);

} // namespace edist::etf
