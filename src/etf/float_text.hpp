// Floats as Erlang writes them (io_lib:format("~w"), float_to_list(F, [short])).
#pragma once

#include <string>

namespace edist::detail {

// Appends the shortest text that reads back as `d`, choosing between fixed and exponent
// notation as Erlang does. `d` must be finite.
void append_erlang_float(std::string& out, double d);

} // namespace edist::detail
