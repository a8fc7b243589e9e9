// Names for distribution flags, as OTP prints them.
#include <edist/flags.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace edist {

static_assert(dflag::MANDATORY_24 == 0x50184);
static_assert(dflag::MANDATORY_25 == 0x1070F94);
static_assert(dflag::MANDATORY_26 == 0x403070F94);
static_assert(dflag::OTP_DEFAULT == 0xD07DF7FBC);
static_assert(dflag::EDIST_MINIMAL == 0x4075F5FBC);

std::string dflag_name(DistFlags bit) {
    switch (bit) {
    case dflag::PUBLISHED: return "PUBLISHED";
    case dflag::ATOM_CACHE: return "ATOM_CACHE";
    case dflag::EXTENDED_REFERENCES: return "EXTENDED_REFERENCES";
    case dflag::DIST_MONITOR: return "DIST_MONITOR";
    case dflag::FUN_TAGS: return "FUN_TAGS";
    case dflag::DIST_MONITOR_NAME: return "DIST_MONITOR_NAME";
    case dflag::HIDDEN_ATOM_CACHE: return "HIDDEN_ATOM_CACHE";
    case dflag::NEW_FUN_TAGS: return "NEW_FUN_TAGS";
    case dflag::EXTENDED_PIDS_PORTS: return "EXTENDED_PIDS_PORTS";
    case dflag::EXPORT_PTR_TAG: return "EXPORT_PTR_TAG";
    case dflag::BIT_BINARIES: return "BIT_BINARIES";
    case dflag::NEW_FLOATS: return "NEW_FLOATS";
    case dflag::UNICODE_IO: return "UNICODE_IO";
    case dflag::DIST_HDR_ATOM_CACHE: return "DIST_HDR_ATOM_CACHE";
    case dflag::SMALL_ATOM_TAGS: return "SMALL_ATOM_TAGS";
    case dflag::UTF8_ATOMS: return "UTF8_ATOMS";
    case dflag::MAP_TAG: return "MAP_TAG";
    case dflag::BIG_CREATION: return "BIG_CREATION";
    case dflag::SEND_SENDER: return "SEND_SENDER";
    case dflag::BIG_SEQTRACE_LABELS: return "BIG_SEQTRACE_LABELS";
    case dflag::EXIT_PAYLOAD: return "EXIT_PAYLOAD";
    case dflag::FRAGMENTS: return "FRAGMENTS";
    case dflag::HANDSHAKE_23: return "HANDSHAKE_23";
    case dflag::UNLINK_ID: return "UNLINK_ID";
    case dflag::MANDATORY_25_DIGEST: return "MANDATORY_25_DIGEST";
    case dflag::SPAWN: return "SPAWN";
    case dflag::NAME_ME: return "NAME_ME";
    case dflag::V4_NC: return "V4_NC";
    case dflag::ALIAS: return "ALIAS";
    case dflag::ALTACT_SIG: return "ALTACT_SIG";
    default: return fmt::format("UNKNOWN<{:X}>", bit);
    }
}

std::vector<std::string> missing_dflags(DistFlags required, DistFlags offered) {
    std::vector<std::string> names;
    for (DistFlags left = required & ~offered; left != 0; left &= left - 1)
        names.push_back(dflag_name(left & (~left + 1)));
    std::reverse(names.begin(), names.end()); // OTP's check_mandatory lists the highest first
    return names;
}

std::string format_dflag_list(const std::vector<std::string>& names) {
    std::string out = "[";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += ',';
        out += '"';
        out += names[i];
        out += '"';
    }
    out += ']';
    return out;
}

std::string format_dflags(DistFlags flags) {
    std::string out;
    for (DistFlags left = flags; left != 0; left &= left - 1) {
        if (!out.empty()) out += '|';
        out += dflag_name(left & (~left + 1));
    }
    return out.empty() ? "0" : out;
}

} // namespace edist
