// Small text helpers for human-readable messages.
#pragma once

#include <string>
#include <string_view>

namespace sdb {

// s in double quotes, for a name inside a message or a description: Job "x" failed. Not an escaper:
// SQL, shell and JSON have their own (PQescapeIdentifier, ...). Not named quoted(), which
// argument-dependent lookup would confuse with std::quoted for a std::string argument.
inline std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace sdb
