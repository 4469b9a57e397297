// servicedb-operator: one binary, several roles (ARCHITECTURE.md §1).
//   run      the controller manager
//   backup / restore / migrate   what Jobs execute
// Exit codes: 0 success, 1 runtime failure, 2 usage error.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "operator/main/commands.h"

namespace {

void printUsage(std::ostream& out) {
  out << "servicedb-operator " << SERVICEDB_VERSION << ": a database per service, kept safe.\n\n"
      << "Usage: servicedb-operator <command> [flags]\n\nCommands:\n";
  for (const auto& c : sdb::cli::commands()) out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << "\n";
  out << "\nGlobal flags:\n  --help      show help (also: <command> --help)\n  --version   print the version\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printUsage(std::cerr);
    return 2;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    printUsage(std::cout);
    return 0;
  }
  if (first == "--version" || first == "version") {
    std::cout << "servicedb-operator " << SERVICEDB_VERSION << "\n";
    return 0;
  }
  for (const auto& c : sdb::cli::commands()) {
    if (c.name == first) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (first.rfind("-", 0) == 0) {
    std::cerr << "servicedb-operator: unknown flag " << first << "\n\n";
  } else {
    std::cerr << "servicedb-operator: unknown command \"" << first << "\"\n\n";
  }
  printUsage(std::cerr);
  return 2;
}
