// `edist term decode` and `edist term encode`: between ETF bytes and Erlang term syntax.
#include "command.hpp"
#include "io.hpp"

#include <edist/etf.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <fmt/core.h>

#include <memory>
#include <string>

namespace edist::cli {

namespace {

struct DecodeOptions {
    std::string input = "-";
    bool pretty = false;
    bool hex = false;
};

struct EncodeOptions {
    std::string text;
    std::string output = "-";
    bool compressed = false;
    int level = 6; // term_to_binary(T, [compressed]) uses 6 as well
    bool hex = false;
    bool force = false;
};

int run_decode(const DecodeOptions& o) {
    std::string error;
    auto bytes = read_all(o.input, error);
    if (!bytes) return fail(error);
    std::string source = o.input == "-" ? "<stdin>" : o.input;
    if (o.hex) {
        std::string text(bytes->begin(), bytes->end());
        bytes = parse_hex(text, error);
        if (!bytes) return fail(fmt::format("{}: {}", source, error));
    }
    auto term = etf::decode(*bytes);
    if (!term) return fail(fmt::format("{}: not a valid ETF term", source), term.error());
    fmt::print("{}\n", o.pretty ? to_pretty_string(*term) : to_string(*term));
    return exit_ok;
}

int run_encode(const EncodeOptions& o) {
    std::string text = o.text;
    if (text == "-") {
        std::string error;
        auto bytes = read_all("-", error);
        if (!bytes) return fail(error);
        text.assign(bytes->begin(), bytes->end());
    }
    auto term = parse(text);
    if (!term) return fail("cannot parse term", term.error());

    etf::EncodeOptions eo;
    if (o.compressed) eo.compression_level = o.level;
    auto bytes = etf::encode(*term, eo);

    std::string error;
    if (o.hex) {
        std::string line = hex_string(bytes) + "\n";
        if (!write_all(o.output, {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, error))
            return fail(error);
        return exit_ok;
    }
    if (o.output == "-" && !o.force && stdout_is_terminal())
        return fail("refusing to write binary ETF to a terminal; use -o FILE, --hex, or --force");
    if (!write_all(o.output, bytes, error)) return fail(error);
    return exit_ok;
}

} // namespace

Command add_term_command(CLI::App& root) {
    auto* term = root.add_subcommand("term", "Convert terms between ETF bytes and Erlang syntax");
    term->require_subcommand(1);

    auto d = std::make_shared<DecodeOptions>();
    auto* decode = term->add_subcommand(
        "decode", "Read one term in the external term format (term_to_binary output) and print it");
    decode->add_option("FILE", d->input, "File holding the ETF bytes; '-' or none for stdin");
    decode->add_flag("-p,--pretty", d->pretty, "Print as io:format(\"~tp\") does (erl +pc unicode), not as ~w");
    decode->add_flag("-x,--hex", d->hex, "The input is hex text (whitespace ignored), not raw bytes");
    decode->footer("Example:\n  edist term encode '{ok,[1,2,3]}' -o t.etf && edist term decode t.etf");

    auto e = std::make_shared<EncodeOptions>();
    auto* encode = term->add_subcommand(
        "encode", "Parse an Erlang term and write it in the external term format (term_to_binary)");
    encode->add_option("TERM", e->text, "The term in Erlang syntax, e.g. '{ok,#{a => <<\"b\">>}}'; '-' reads stdin")
        ->required();
    encode->add_option("-o,--output", e->output, "Write to FILE instead of stdout")->option_text("FILE");
    encode->add_flag("-z,--compressed", e->compressed,
                     "zlib-compress as term_to_binary(T, [compressed]) does, when that is smaller");
    encode->add_option("--level", e->level, "Compression level for --compressed")
        ->check(CLI::Range(0, 9))
        ->option_text("0-9 (default 6)");
    encode->add_flag("-x,--hex", e->hex, "Write the bytes as one line of hex text");
    encode->add_flag("-f,--force", e->force, "Write binary to stdout even when it is a terminal");
    encode->footer("A term starting with '-' goes after '--': edist term encode -- -42");

    return {term, [=] { return decode->parsed() ? run_decode(*d) : run_encode(*e); }};
}

} // namespace edist::cli
