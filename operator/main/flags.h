// A small command-line flag parser for the subcommands of servicedb-operator.
//
// Contract: register flags bound to fields of an options struct, then parse(). Accepts
// `--name=value`, `--name value` and, for booleans, `--name` / `--name=false`. Unknown flags, missing
// values and malformed numbers are errors naming the flag; callers exit 2 on them (usage errors).
// Not thread-safe; used once by main.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::cli {

class FlagSet {
 public:
  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  void addString(const std::string& name, std::string* target, const std::string& help);
  void addStringList(const std::string& name, std::vector<std::string>* target, const std::string& help);
  void addBool(const std::string& name, bool* target, const std::string& help);
  void addInt(const std::string& name, int* target, const std::string& help);

  // Parses args (without the program and subcommand names). Positional arguments are returned in
  // `positional`. `--help` sets helpRequested().
  Status parse(const std::vector<std::string>& args, std::vector<std::string>* positional = nullptr);
  bool helpRequested() const { return help_; }
  std::string usage() const;

 private:
  struct Flag {
    std::string name, help, defaultText;
    bool isBool = false;
    std::function<Status(const std::string&)> set;
  };
  const Flag* find(const std::string& name) const;
  std::string command_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace sdb::cli
