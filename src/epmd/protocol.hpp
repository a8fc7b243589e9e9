// EPMD wire format, sans-I/O: requests and responses as values, bytes in and bytes out.
//
// Every request is `Len:16 | Request`; responses carry no length prefix and mostly end when
// epmd closes the connection. The rules below were checked against OTP 25's epmd (see
// tests/epmd/protocol_test.cpp for the captured bytes and docs/EPMD.md for the differences).
#pragma once

#include <edist/epmd.hpp>
#include <edist/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace edist::epmd::protocol {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t ALIVE2_REQ = 120;       // 'x'
inline constexpr std::uint8_t ALIVE2_RESP = 121;      // 'y'  16-bit creation (version 5 peers)
inline constexpr std::uint8_t ALIVE2_X_RESP = 118;    // 'v'  32-bit creation (version ≥ 6)
inline constexpr std::uint8_t PORT_PLEASE2_REQ = 122; // 'z'
inline constexpr std::uint8_t PORT2_RESP = 119;       // 'w'
inline constexpr std::uint8_t NAMES_REQ = 110;        // 'n'
inline constexpr std::uint8_t DUMP_REQ = 100;         // 'd'
inline constexpr std::uint8_t KILL_REQ = 107;         // 'k'
inline constexpr std::uint8_t STOP_REQ = 115;         // 's'

// OTP's limits: a name is an atom's worth of UTF-8 (255 characters, up to 4 bytes each), extra
// gets as many bytes, and a whole packet including its length field stays below INBUF_SIZE.
inline constexpr std::size_t MAXSYMLEN = 255 * 4;
inline constexpr std::size_t MAX_NAME_CHARS = 255;
inline constexpr std::size_t MAX_EXTRA_BYTES = MAXSYMLEN;
inline constexpr std::size_t INBUF_SIZE = 3 * MAXSYMLEN;       // 3060
inline constexpr std::size_t MAX_REQUEST_BODY = INBUF_SIZE - 3;  // Len ≤ 3057

// ALIVE2 failures (duplicate or invalid name) answer with this creation, as OTP does.
inline constexpr std::uint32_t ERROR_CREATION = 99;

struct Alive2Req {
    NodeInfo node;
    friend bool operator==(const Alive2Req&, const Alive2Req&) = default;
};
struct PortPlease2Req {
    std::string name;
    friend bool operator==(const PortPlease2Req&, const PortPlease2Req&) = default;
};
struct NamesReq {
    friend bool operator==(const NamesReq&, const NamesReq&) = default;
};
struct DumpReq {
    friend bool operator==(const DumpReq&, const DumpReq&) = default;
};
struct KillReq {
    friend bool operator==(const KillReq&, const KillReq&) = default;
};
struct StopReq {
    std::string name;
    friend bool operator==(const StopReq&, const StopReq&) = default;
};
using Request = std::variant<Alive2Req, PortPlease2Req, NamesReq, DumpReq, KillReq, StopReq>;

// Number of UTF-8 characters in `s`, or -1 if it is not valid UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as in OTP's epmd).
int utf8_length(std::string_view s) noexcept;

// The name checks epmd answers with an ALIVE2 error (result 1) rather than by hanging up.
std::optional<Error> check_alive2(const NodeInfo& node);

// --- requests ----------------------------------------------------------------------------------
// The whole packet, length prefix included. badarg if a field does not fit the protocol.
Result<Bytes> encode_request(const Request& req);

// Decodes one request body (the bytes after Len). Errors are the requests OTP's epmd drops
// without an answer: unknown opcode, ALIVE2 lengths pointing past the body or a NUL in its
// name, PORT_PLEASE2 with an empty/NUL-containing/non-UTF-8/too long name, empty STOP.
// Bytes after a request's last field are ignored, as epmd ignores them.
Result<Request> decode_request_body(std::span<const std::uint8_t> body);

// Incremental framing of the single request a connection carries. Feed what each read
// returned; the result says whether more bytes are needed, the request is complete, or the
// connection must be closed. Memory stays below INBUF_SIZE.
class RequestParser {
public:
    struct NeedMore {};
    using Event = std::variant<NeedMore, Request, Error>;

    // After a Request or Error the parser is finished; further feeds return the same error
    // (`badarg`, "request already complete").
    Event feed(std::span<const std::uint8_t> bytes);
    std::size_t buffered() const noexcept { return buf_.size(); }
    bool finished() const noexcept { return finished_; }

private:
    Bytes buf_;
    bool finished_ = false;
};

// --- responses (server side) -------------------------------------------------------------------
Bytes encode_alive2_resp(bool ok, std::uint32_t creation, bool extended);
Bytes encode_port2_resp(const std::optional<NodeInfo>& node);
Bytes encode_port_header(std::uint32_t epmd_port);  // the 4 bytes NAMES and DUMP start with
std::string names_line(std::string_view name, std::uint16_t port);
// Each DUMP entry is written with its terminating NUL, as OTP's epmd does.
std::string dump_line(const DumpEntry& entry);

// --- responses (client side) -------------------------------------------------------------------
// Each takes everything received so far and whether the peer has closed; std::nullopt means
// "wait for more". Errors: closed (epmd hung up early), garbage_from_epmd.
struct Alive2Resp {
    bool ok = false;
    std::uint32_t creation = 0;
};
std::optional<Result<Alive2Resp>> parse_alive2_resp(std::span<const std::uint8_t> in, bool eof);
std::optional<Result<std::optional<NodeInfo>>> parse_port2_resp(std::span<const std::uint8_t> in,
                                                                bool eof);
// NAMES/DUMP answers end at close: these parse a complete answer.
Result<std::vector<NameEntry>> parse_names(std::span<const std::uint8_t> in,
                                           std::uint32_t& epmd_port);
Result<DumpResult> parse_dump(std::span<const std::uint8_t> in);
std::optional<Result<bool>> parse_kill_resp(std::span<const std::uint8_t> in, bool eof);
std::optional<Result<StopResult>> parse_stop_resp(std::span<const std::uint8_t> in, bool eof);

}  // namespace edist::epmd::protocol
