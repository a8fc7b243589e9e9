// A term read piece by piece, the counterpart of term_writer.hpp: for a caller that expects a
// known shape (the distribution's control tuples) and wants its pids, refs and atoms as C++
// values, without decoding a Term first. Each call reads one piece and answers false, without
// saying why, when the bytes hold something else: the caller then decodes the whole term
// with decode_at, which reports errors as usual.
#pragma once

#include "etf/decoder.hpp"

#include <span>

namespace edist::etf {

class TermReader {
public:
    TermReader(std::span<const std::uint8_t> bytes, std::size_t offset, const DecodeOptions& opts) noexcept
        : d_(bytes.data(), bytes.data() + bytes.size(), opts, nullptr), begin_(bytes.data()) {
        d_.seek(begin_ + offset);
    }

    bool tuple(std::size_t& arity);
    bool integer(std::int64_t& v); // small and 32-bit integers
    bool atom(Atom& a);
    bool pid(Pid& p);
    bool ref(Ref& r);
    // Where the next piece starts.
    std::size_t offset() const noexcept { return static_cast<std::size_t>(d_.pos() - begin_); }

private:
    codec::Decoder d_; // its scalar readers, and its position; it builds no term here
    const std::uint8_t* begin_;
};

} // namespace edist::etf
