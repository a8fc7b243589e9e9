// ETF decoding of the terms that hold no other terms: atoms, numbers, binaries, pids, ports,
// references and external funs.
#include "etf/decoder.hpp"
#include "etf/term_reader.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

namespace edist::etf::codec {

using edist::detail::TermAccess;
using NodeTag = edist::detail::Tag;

bool Decoder::fail(const std::string& what, const std::uint8_t* at) {
    if (message_.empty()) {
        error_offset_ = static_cast<std::size_t>(at - begin_);
        message_ = what + " at offset " + std::to_string(error_offset_) + context_;
        reason_ = atoms::badarg;
    }
    return false;
}

bool Decoder::fail_limit(const std::string& what, const std::uint8_t* at) {
    fail(what, at);
    reason_ = atoms::system_limit;
    return false;
}

namespace {

bool all_ascii(const std::uint8_t* s, std::size_t n) noexcept {
    std::uint64_t acc = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; ++i) acc |= s[i];
    return (acc & 0x8080808080808080ull) == 0;
}

// Code points in `s`, or -1 if it is not valid UTF-8 (overlong forms and surrogates included).
long utf8_length(const std::uint8_t* s, std::size_t n) noexcept {
    long chars = 0;
    std::size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        ++chars;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t extra;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if (n - i <= extra) return -1;
        for (std::size_t k = 1; k <= extra; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return -1;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        static constexpr std::uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
        if (cp < smallest[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
        i += extra + 1;
    }
    return chars;
}

} // namespace

bool Decoder::read_atom_body(std::uint8_t tag, const std::uint8_t* at, Atom& out) {
    std::size_t len;
    bool latin1 = false;
    switch (tag) {
    case SMALL_ATOM_UTF8_EXT:
    case SMALL_ATOM_EXT:
        if (!need(1, at)) return false;
        len = *p_++;
        latin1 = tag == SMALL_ATOM_EXT;
        break;
    case ATOM_UTF8_EXT:
    case ATOM_EXT:
        if (!need(2, at)) return false;
        len = get16(p_);
        p_ += 2;
        latin1 = tag == ATOM_EXT;
        break;
    case ATOM_CACHE_REF: {
        if (!need(1, at)) return false;
        std::size_t index = *p_++;
        if (!opts_.atom_cache) return fail("atom cache reference without an atom cache", at);
        if (index >= opts_.atom_cache->atoms.size())
            return fail("atom cache index " + std::to_string(index) + " out of range", at);
        out = opts_.atom_cache->atoms[index];
        return true;
    }
    default: return fail("expected an atom, found tag " + std::to_string(tag), at);
    }
    if (remaining() < len) return truncated(at);
    const std::uint8_t* text = p_;
    p_ += len;

    RecentAtom* recent = nullptr;
    AtomKey key{};
    if (!latin1 && len <= 16) {
        key = atom_key(text, len, static_cast<std::size_t>(end_ - text));
        recent = &recent_atom(caches_->recent_atoms, key, len);
        if (recent_atom_matches(*recent, key, len)) {
            out = Atom::from_index(recent->index);
            return true;
        }
    }

    char converted[2 * 255];
    std::string_view name(reinterpret_cast<const char*>(text), len);
    if (all_ascii(text, len)) {
        if (len > 255) return fail("atom longer than 255 characters", at);
    } else if (latin1) {
        // Each Latin-1 byte is one character; those above 127 take two bytes in UTF-8.
        if (len > 255) return fail("atom longer than 255 characters", at);
        std::size_t o = 0;
        for (std::size_t i = 0; i < len; ++i) {
            unsigned c = text[i];
            if (c < 0x80) {
                converted[o++] = static_cast<char>(c);
            } else {
                converted[o++] = static_cast<char>(0xC0 | (c >> 6));
                converted[o++] = static_cast<char>(0x80 | (c & 0x3F));
            }
        }
        name = std::string_view(converted, o);
    } else {
        long chars = utf8_length(text, len);
        if (chars < 0) return fail("invalid UTF-8 in atom", at);
        if (chars > 255) return fail("atom longer than 255 characters", at);
    }
    if (!Atom::try_intern(name, out))
        return fail_limit("atom table full (" + std::to_string(atom_table_limit()) + " atoms)", at);
    if (recent) *recent = {key.lo, key.hi, static_cast<std::uint32_t>(len + 1), out.index()};
    return true;
}

bool Decoder::read_atom(Atom& out) {
    const std::uint8_t* at = p_;
    if (!need(1, at)) return false;
    return read_atom_body(*p_++, at, out);
}

namespace {
// FLOAT_EXT's text as OTP writes it ("%.20e"): sign, digits, '.', digits, optional exponent.
bool plausible_float_text(std::string_view s) noexcept {
    std::size_t i = 0;
    auto digits = [&] {
        std::size_t from = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i > from;
    };
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!digits() || i >= s.size() || s[i] != '.') return false;
    ++i;
    if (!digits()) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        if (!digits()) return false;
    }
    return i == s.size();
}
} // namespace

bool Decoder::read_float(std::uint8_t tag, const std::uint8_t* at, Term* slot) {
    double d;
    if (tag == NEW_FLOAT_EXT) {
        if (!need(8, at)) return false;
        d = std::bit_cast<double>(get64(p_));
        p_ += 8;
    } else {
        if (!need(31, at)) return false;
        const char* s = reinterpret_cast<const char*>(p_);
        std::string_view text(s, ::strnlen(s, 31));
        p_ += 31;
        if (!plausible_float_text(text)) return fail("malformed FLOAT_EXT text", at);
        bool negative = text[0] == '-';
        if (text[0] == '+' || text[0] == '-') text.remove_prefix(1);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (ec == std::errc::result_out_of_range) {
            // from_chars reports underflow as out of range too; Erlang rounds that to zero.
            if (text.find("e-") == std::string_view::npos) return fail("non-finite float", at);
            d = 0.0;
        } else if (ec != std::errc() || end != text.data() + text.size()) {
            return fail("malformed FLOAT_EXT text", at);
        }
        if (negative) d = -d;
    }
    if (!std::isfinite(d)) return fail("non-finite float", at);
    new (slot) Term(TermAccess::finite_float(d));
    return true;
}

bool Decoder::read_big(std::uint8_t tag, const std::uint8_t* at, Term* slot) {
    std::size_t n;
    bool negative;
    if (tag == SMALL_BIG_EXT) {
        if (!need(2, at)) return false;
        n = p_[0];
        negative = p_[1] != 0;
        p_ += 2;
    } else {
        if (!need(5, at)) return false;
        n = get32(p_);
        negative = p_[4] != 0;
        p_ += 5;
    }
    if (remaining() < n)
        return fail("integer of " + std::to_string(n) + " bytes exceeds remaining " +
                        std::to_string(remaining()) + " bytes",
                    at);
    const std::uint8_t* digits = p_;
    p_ += n;
    if (n <= 8) {
        // Most "bigs" on the wire fit 64 bits (OTP's small integers are 60-bit), so skip BigInt.
        std::uint64_t mag = 0;
        for (std::size_t i = 0; i < n; ++i) mag |= std::uint64_t(digits[i]) << (8 * i);
        if (!negative && mag <= std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
            new (slot) Term(TermAccess::small_int(static_cast<std::int64_t>(mag)));
            return true;
        }
        if (negative && mag <= (std::uint64_t(1) << 63)) {
            new (slot) Term(TermAccess::small_int(static_cast<std::int64_t>(0 - mag)));
            return true;
        }
    }
    BigInt value = BigInt::from_le_bytes({digits, n}, negative);
    if (value.fits_int64()) {
        new (slot) Term(TermAccess::small_int(value.to_int64()));
        return true;
    }
    auto* node = arena_.make<edist::detail::BigNode>(sizeof(edist::detail::BigNode), std::move(value));
    arena_.add_finalizer(node);
    new (slot) Term(TermAccess::adopt(NodeTag::Big, node));
    return true;
}

bool Decoder::read_integer(Term& out) {
    const std::uint8_t* at = p_;
    if (!need(1, at)) return false;
    std::uint8_t tag = *p_++;
    switch (tag) {
    case SMALL_INTEGER_EXT:
        if (!need(1, at)) return false;
        out = TermAccess::small_int(*p_++);
        return true;
    case INTEGER_EXT:
        if (!need(4, at)) return false;
        out = TermAccess::small_int(static_cast<std::int32_t>(get32(p_)));
        p_ += 4;
        return true;
    case SMALL_BIG_EXT:
    case LARGE_BIG_EXT: {
        // `out` lives outside the arena (a fun's fields, a local): a counted node of its own.
        alignas(Term) unsigned char raw[sizeof(Term)];
        Term* t = reinterpret_cast<Term*>(raw);
        if (!read_big(tag, at, t)) return false;
        if (t->is_int64())
            out = *t;
        else
            out = Term(TermAccess::as<edist::detail::BigNode>(*t)->value);
        TermAccess::forget(*t);
        return true;
    }
    default: return fail("expected an integer, found tag " + std::to_string(tag), at);
    }
}

bool Decoder::read_pid_body(std::uint8_t tag, const std::uint8_t* at, Pid& out) {
    if (!read_atom(out.node)) return false;
    std::size_t creation_bytes = tag == PID_EXT ? 1 : 4;
    if (!need(8 + creation_bytes, at)) return false;
    out.id = get32(p_);
    out.serial = get32(p_ + 4);
    out.creation = tag == PID_EXT ? p_[8] : get32(p_ + 8);
    p_ += 8 + creation_bytes;
    return true;
}

bool Decoder::read_port(std::uint8_t tag, const std::uint8_t* at, Term* slot) {
    Port port;
    if (!read_atom(port.node)) return false;
    std::size_t id_bytes = tag == V4_PORT_EXT ? 8 : 4;
    std::size_t creation_bytes = tag == PORT_EXT ? 1 : 4;
    if (!need(id_bytes + creation_bytes, at)) return false;
    port.id = tag == V4_PORT_EXT ? get64(p_) : get32(p_);
    p_ += id_bytes;
    port.creation = tag == PORT_EXT ? *p_ : get32(p_);
    p_ += creation_bytes;
    auto* node = arena_.make<edist::detail::PortNode>(sizeof(edist::detail::PortNode), port);
    new (slot) Term(TermAccess::adopt(NodeTag::Port, node));
    return true;
}

bool Decoder::read_ref(std::uint8_t tag, const std::uint8_t* at, Term* slot) {
    Ref ref;
    if (!read_ref_value(tag, at, ref)) return false;
    auto* node = arena_.make<edist::detail::RefNode>(sizeof(edist::detail::RefNode), ref);
    new (slot) Term(TermAccess::adopt(NodeTag::Ref, node));
    return true;
}

bool Decoder::read_ref_value(std::uint8_t tag, const std::uint8_t* at, Ref& ref) {
    std::size_t words = 1;
    if (tag != REFERENCE_EXT) {
        if (!need(2, at)) return false;
        words = get16(p_);
        p_ += 2;
        if (words < 1 || words > Ref::max_words)
            return fail("reference with " + std::to_string(words) + " words (1 to 5 allowed)", at);
    }
    if (!read_atom(ref.node)) return false;
    std::size_t creation_bytes = tag == NEWER_REFERENCE_EXT ? 4 : 1;
    if (tag == REFERENCE_EXT) {
        // The old layout puts the single id before the creation.
        if (!need(5, at)) return false;
        ref.words[0] = get32(p_);
        ref.creation = p_[4];
        p_ += 5;
    } else {
        if (!need(creation_bytes + 4 * words, at)) return false;
        ref.creation = creation_bytes == 4 ? get32(p_) : *p_;
        p_ += creation_bytes;
        for (std::size_t i = 0; i < words; ++i, p_ += 4) ref.words[i] = get32(p_);
    }
    ref.len = static_cast<std::uint8_t>(words);
    return true;
}

bool Decoder::read_export(Term* slot) {
    Export e;
    if (!read_atom(e.module) || !read_atom(e.function)) return false;
    const std::uint8_t* arity_at = p_;
    Term arity;
    if (!read_integer(arity)) return false;
    if (!arity.is_int64() || TermAccess::small(arity) < 0 || TermAccess::small(arity) > 255)
        return fail("export arity out of range", arity_at);
    e.arity = static_cast<std::uint8_t>(TermAccess::small(arity));
    new (slot) Term(e);
    return true;
}

bool Decoder::read_binary(std::uint8_t tag, const std::uint8_t* at, Term* slot) {
    std::size_t header = tag == BINARY_EXT ? 4 : 5;
    if (!need(header, at)) return false;
    std::size_t len = get32(p_);
    unsigned last_bits = tag == BINARY_EXT ? 8 : p_[4];
    p_ += header;
    if (tag == BIT_BINARY_EXT && (last_bits > 8 || (last_bits == 0) != (len == 0)))
        return fail("bit string of " + std::to_string(len) + " bytes with " + std::to_string(last_bits) +
                        " bits in the last byte",
                    at);
    if (remaining() < len)
        return fail("binary length " + std::to_string(len) + " exceeds remaining " + std::to_string(remaining()) +
                        " bytes",
                    at);
    const std::uint8_t* data = p_;
    p_ += len;
    std::size_t bits = len == 0 ? 0 : (len - 1) * 8 + last_bits;
    edist::detail::BinaryNode* b;
    if (owner_ && last_bits == 8 && len >= opts_.share_binaries_from) {
        arena_.expect_input(remaining()); // a binary Term holding one large binary: no 16 KB block
        b = arena_.sub_binary(owner_, data, bits);
    } else {
        b = arena_.binary(bits);
        if (len) {
            copy_bytes(b->inline_bytes(), data, len);
            if (last_bits < 8) b->inline_bytes()[len - 1] &= static_cast<std::uint8_t>(0xFF00u >> last_bits);
        }
    }
    new (slot) Term(TermAccess::adopt(NodeTag::Binary, b));
    return true;
}

} // namespace edist::etf::codec

// --- TermReader (term_reader.hpp) ---------------------------------------------------------

namespace edist::etf {

using namespace codec;

bool TermReader::tuple(std::size_t& arity) {
    const std::uint8_t* p = d_.pos();
    if (d_.remaining() < 2 || p[0] != SMALL_TUPLE_EXT) return false;
    arity = p[1];
    d_.seek(p + 2);
    return true;
}

bool TermReader::integer(std::int64_t& v) {
    const std::uint8_t* p = d_.pos();
    if (d_.remaining() >= 2 && p[0] == SMALL_INTEGER_EXT) {
        v = p[1];
        d_.seek(p + 2);
        return true;
    }
    if (d_.remaining() >= 5 && p[0] == INTEGER_EXT) {
        v = static_cast<std::int32_t>(get32(p + 1));
        d_.seek(p + 5);
        return true;
    }
    return false;
}

bool TermReader::atom(Atom& a) { return d_.read_atom(a); }

bool TermReader::pid(Pid& out) {
    const std::uint8_t* p = d_.pos();
    if (d_.remaining() < 1 || (p[0] != NEW_PID_EXT && p[0] != PID_EXT)) return false;
    d_.seek(p + 1);
    return d_.read_pid_body(p[0], p, out);
}

bool TermReader::ref(Ref& out) {
    const std::uint8_t* p = d_.pos();
    if (d_.remaining() < 1 || (p[0] != NEWER_REFERENCE_EXT && p[0] != NEW_REFERENCE_EXT && p[0] != REFERENCE_EXT))
        return false;
    d_.seek(p + 1);
    return d_.read_ref_value(p[0], p, out);
}

} // namespace edist::etf
