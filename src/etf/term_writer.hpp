// A term written piece by piece, for a caller that knows its shape and holds its parts as C++
// values: the distribution's control tuples, whose pids and refs would otherwise become heap
// terms only to be encoded and freed. The bytes are exactly what encode_to writes for the
// term those pieces make (the same emitters write them).
#pragma once

#include <edist/term.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edist::etf {

class AtomCacheOut;

class TermWriter {
public:
    // Appends to `out` (without a version byte); `out` is trimmed to what was written when
    // the writer goes away. With `atoms`, atoms go as references to that cache where it can.
    explicit TermWriter(std::vector<std::uint8_t>& out, AtomCacheOut* atoms = nullptr);
    ~TermWriter();
    TermWriter(const TermWriter&) = delete;
    TermWriter& operator=(const TermWriter&) = delete;

    // A tuple's header; exactly `arity` elements must follow.
    void tuple(std::size_t arity);
    void atom(Atom a);
    void integer(std::int64_t v);
    void pid(const Pid& p);
    void ref(const Ref& r);
    void term(const Term& t);
    // Bytes written so far.
    std::size_t size() const noexcept { return static_cast<std::size_t>(w_ - out_->data()) - start_; }

private:
    std::vector<std::uint8_t>* out_;
    std::size_t start_;
    std::uint8_t* w_;
    std::uint8_t* limit_;
    AtomCacheOut* atoms_;
};

} // namespace edist::etf
