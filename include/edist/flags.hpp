// Distribution flags (DFLAG_*): the capabilities two nodes announce in the handshake.
//
// Values and names are the ones in OTP's dist.hrl / dist.h, so a log line here reads like
// OTP's ("cannot handle [\"V4_NC\",\"UNLINK_ID\"]"). See docs/HANDSHAKE.md for which sets each
// OTP release requires and what edist offers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edist {

using DistFlags = std::uint64_t;

namespace dflag {

inline constexpr DistFlags PUBLISHED = 0x1;
inline constexpr DistFlags ATOM_CACHE = 0x2;
inline constexpr DistFlags EXTENDED_REFERENCES = 0x4;
inline constexpr DistFlags DIST_MONITOR = 0x8;
inline constexpr DistFlags FUN_TAGS = 0x10;
inline constexpr DistFlags DIST_MONITOR_NAME = 0x20;
inline constexpr DistFlags HIDDEN_ATOM_CACHE = 0x40;
inline constexpr DistFlags NEW_FUN_TAGS = 0x80;
inline constexpr DistFlags EXTENDED_PIDS_PORTS = 0x100;
inline constexpr DistFlags EXPORT_PTR_TAG = 0x200;
inline constexpr DistFlags BIT_BINARIES = 0x400;
inline constexpr DistFlags NEW_FLOATS = 0x800;
inline constexpr DistFlags UNICODE_IO = 0x1000;
inline constexpr DistFlags DIST_HDR_ATOM_CACHE = 0x2000;
inline constexpr DistFlags SMALL_ATOM_TAGS = 0x4000;
inline constexpr DistFlags UTF8_ATOMS = 0x10000;
inline constexpr DistFlags MAP_TAG = 0x20000;
inline constexpr DistFlags BIG_CREATION = 0x40000;
inline constexpr DistFlags SEND_SENDER = 0x80000;
inline constexpr DistFlags BIG_SEQTRACE_LABELS = 0x100000;
inline constexpr DistFlags EXIT_PAYLOAD = 0x400000;
inline constexpr DistFlags FRAGMENTS = 0x800000;
inline constexpr DistFlags HANDSHAKE_23 = 0x1000000;
inline constexpr DistFlags UNLINK_ID = 0x2000000;
// OTP 25+: one bit standing for every flag in MANDATORY_25 (expand it before checking).
inline constexpr DistFlags MANDATORY_25_DIGEST = 0x4000000;
inline constexpr DistFlags SPAWN = DistFlags{1} << 32;
// Request only: an initiator without a name asks the acceptor to assign one.
inline constexpr DistFlags NAME_ME = DistFlags{1} << 33;
inline constexpr DistFlags V4_NC = DistFlags{1} << 34;
inline constexpr DistFlags ALIAS = DistFlags{1} << 35;
// OTP 28+ (DOP_ALTACT_SIG_SEND); unknown to 24-27, which simply never set it.
inline constexpr DistFlags ALTACT_SIG = DistFlags{1} << 37;

// What OTP 24 refuses to connect without.
inline constexpr DistFlags MANDATORY_24 =
    EXTENDED_REFERENCES | EXTENDED_PIDS_PORTS | UTF8_ATOMS | NEW_FUN_TAGS | BIG_CREATION;
// What OTP 25 refuses to connect without (verified: erts_internal:get_dflags() on 25.2.3).
inline constexpr DistFlags MANDATORY_25 = EXTENDED_REFERENCES | FUN_TAGS | EXTENDED_PIDS_PORTS |
                                          NEW_FUN_TAGS | EXPORT_PTR_TAG | BIT_BINARIES |
                                          NEW_FLOATS | UTF8_ATOMS | MAP_TAG | BIG_CREATION |
                                          HANDSHAKE_23;
// What OTP 26, 27 and 28 refuse to connect without.
inline constexpr DistFlags MANDATORY_26 = MANDATORY_25 | V4_NC | UNLINK_ID;

// OTP 25-28's own default offer (hidden; OR in PUBLISHED for a visible connection).
inline constexpr DistFlags OTP_DEFAULT = MANDATORY_26 | DIST_MONITOR | DIST_MONITOR_NAME | SPAWN |
                                         ALIAS | UNICODE_IO | DIST_HDR_ATOM_CACHE |
                                         SMALL_ATOM_TAGS | SEND_SENDER | BIG_SEQTRACE_LABELS |
                                         EXIT_PAYLOAD | FRAGMENTS | MANDATORY_25_DIGEST;

// A hidden node with no atom cache, fragments, spawn or aliases: pass-through framing.
// The handshake offers this unless told otherwise; the node layer offers what it implements.
inline constexpr DistFlags EDIST_MINIMAL = MANDATORY_26 | MANDATORY_25_DIGEST | DIST_MONITOR |
                                           DIST_MONITOR_NAME | UNICODE_IO | SMALL_ATOM_TAGS |
                                           SEND_SENDER | BIG_SEQTRACE_LABELS | EXIT_PAYLOAD;

// A peer that sets MANDATORY_25_DIGEST has every MANDATORY_25 flag, whether or not it also
// sets the individual bits (OTP 27+ may stop sending them).
constexpr DistFlags expand_mandatory_25_digest(DistFlags flags) noexcept {
    return (flags & MANDATORY_25_DIGEST) ? (flags | MANDATORY_25) : flags;
}

} // namespace dflag

// OTP's name for one flag bit ("V4_NC", "UNLINK_ID"); "UNKNOWN<hex>" for bits it has none for.
std::string dflag_name(DistFlags single_bit);

// The names of the flags in `required` that `offered` lacks, highest bit first (OTP's order).
std::vector<std::string> missing_dflags(DistFlags required, DistFlags offered);

// `["V4_NC","UNLINK_ID"]`, the way OTP prints the list in its "cannot handle" log line.
std::string format_dflag_list(const std::vector<std::string>& names);

// "PUBLISHED|EXTENDED_REFERENCES|..." for logs and debugging.
std::string format_dflags(DistFlags flags);

} // namespace edist
