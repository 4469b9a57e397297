// The command set of a service's ACL user, reviewed command by command against redis-server 7.0.
//
// Contract: pure data and functions, thread-safe. Every command and subcommand the server knows
// has one row in the table:
//  - kKeyed: allowed; the server checks every key argument against ~<prefix>* (the command has key
//    specs, which the review checks);
//  - kChannels: allowed; the server checks every channel argument against &<prefix>*;
//  - kAllowed: allowed without keys, for the reason given (PING, MULTI, CLIENT SETNAME, ...);
//  - kDenied: denied, for the reason given (SCAN, KEYS, FLUSHALL, CONFIG, INFO, MONITOR, ...).
// The user's rules are "-@all" plus one "+name" per allowed row, so a command the table does not
// know (a newer server) is denied. `reviewCommandTable` compares the table with a server's
// COMMAND INFO and names every command the table does not classify, so a Redis upgrade fails the
// sweep test (tests/integration/redis/command_sweep_test.cpp) until someone reviews it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sdb::engines::redis {

enum class Verdict { kKeyed, kChannels, kAllowed, kDenied };

struct CommandRule {
  std::string_view name;  // lowercase, "container|sub" for subcommands
  Verdict verdict;
  std::string_view reason;  // required for kAllowed and kDenied
};

std::span<const CommandRule> commandTable();
const CommandRule* findCommand(std::string_view name);

// "-@all", then "+<name>" for every allowed row ("+command" covers COMMAND's subcommands).
std::vector<std::string> serviceUserCommandRules();

// What COMMAND INFO says about one command or subcommand.
struct ServerCommand {
  std::string name;  // lowercase, "container|sub" for subcommands
  int arity = 0;
  size_t keySpecs = 0;
  bool hasSubcommands = false;
};

// Problems that make the table unfit for this server: unreviewed commands, keyed rows without key
// specs, rows the server does not know, missing reasons. Empty means reviewed.
std::vector<std::string> reviewCommandTable(const std::vector<ServerCommand>& server);

}  // namespace sdb::engines::redis
