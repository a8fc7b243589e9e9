// What a user of an installed edist writes first: build a term, encode it, decode it, print it.
// README.md shows this file; the install test compiles it with CMake and with pkg-config.
#include <edist/etf.hpp>
#include <edist/term.hpp>
#include <edist/text.hpp>

#include <iostream>

int main() {
    using namespace edist::literals;

    edist::Term reply = edist::tuple("ok"_a, edist::map({{"name"_a, edist::binary("edist")},
                                                         {"ports"_a, edist::list(4369, 9100)}}));
    std::vector<std::uint8_t> bytes = edist::etf::encode(reply); // term_to_binary

    edist::Result<edist::Term> back = edist::etf::decode(bytes); // binary_to_term
    if (!back) {
        std::cerr << "decode failed: " << back.error().what() << "\n";
        return 1;
    }
    std::cout << edist::to_string(*back) << " in " << bytes.size() << " bytes\n";
    return *back == reply ? 0 : 1;
}
