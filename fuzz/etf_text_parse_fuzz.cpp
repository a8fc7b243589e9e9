// Arbitrary text into edist::parse: never a crash, leak or hang, and whatever parses must print
// (to_string, ~w) and pretty-print (to_pretty_string, ~tp) to text that parses back to the same
// term, since both notations are documented to round-trip.
#include <edist/text.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace edist;

namespace {

void check_reads_back(const Term& t, const std::string& text, const char* how) {
    ParseOptions opts;
    opts.max_depth = 100'000;
    auto again = parse(text, opts);
    if (!again) {
        std::fprintf(stderr, "%s output does not parse: %s\n", how, again.error().what());
        std::abort();
    }
    if (!(*again == t)) {
        std::fprintf(stderr, "%s output parses to another term\n", how);
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ParseOptions opts;
    opts.max_depth = 200;
    auto term = parse(text, opts);
    if (!term) return 0;
    check_reads_back(*term, to_string(*term), "to_string");
    check_reads_back(*term, to_pretty_string(*term), "to_pretty_string");
    return 0;
}
