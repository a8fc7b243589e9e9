// Helpers shared by gen_server's server half, its client half and the supervisor.
#pragma once

#include "services/blocking.hpp"

#include <edist/node.hpp>
#include <edist/process.hpp>
#include <edist/term.hpp>

#include <exception>
#include <string_view>

namespace edist::gen_server::detail {

// The exit reason of a callback that threw (call only while handling the exception).
Term exception_reason(std::exception_ptr e);

bool is_tagged(const Term& t, std::string_view tag, std::size_t arity);
bool is_down_for(const Term& t, const Term& ref);

using services::run_blocking;

} // namespace edist::gen_server::detail
