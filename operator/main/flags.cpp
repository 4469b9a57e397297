#include "operator/main/flags.h"

#include <charconv>
#include <sstream>

namespace sdb::cli {

void FlagSet::addString(const std::string& name, std::string* target, const std::string& help) {
  flags_.push_back({name, help, *target, false, [target](const std::string& v) -> Status {
                      *target = v;
                      return okStatus();
                    }});
}

void FlagSet::addStringList(const std::string& name, std::vector<std::string>* target, const std::string& help) {
  flags_.push_back({name, help, "", false, [target](const std::string& v) -> Status {
                      target->clear();
                      std::stringstream ss(v);
                      std::string item;
                      while (std::getline(ss, item, ',')) {
                        if (!item.empty()) target->push_back(item);
                      }
                      return okStatus();
                    }});
}

void FlagSet::addBool(const std::string& name, bool* target, const std::string& help) {
  flags_.push_back({name, help, *target ? "true" : "false", true, [name, target](const std::string& v) -> Status {
                      if (v == "true" || v == "1") {
                        *target = true;
                      } else if (v == "false" || v == "0") {
                        *target = false;
                      } else {
                        return invalidArgument("--" + name + ": invalid boolean \"" + v + "\" (want true or false)");
                      }
                      return okStatus();
                    }});
}

void FlagSet::addInt(const std::string& name, int* target, const std::string& help) {
  flags_.push_back({name, help, std::to_string(*target), false, [name, target](const std::string& v) -> Status {
                      int out = 0;
                      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
                      if (ec != std::errc() || ptr != v.data() + v.size()) {
                        return invalidArgument("--" + name + ": invalid integer \"" + v + "\"");
                      }
                      *target = out;
                      return okStatus();
                    }});
}

const FlagSet::Flag* FlagSet::find(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status FlagSet::parse(const std::vector<std::string>& args, std::vector<std::string>* positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      if (!positional) return invalidArgument(command_ + ": unexpected argument \"" + arg + "\"");
      positional->push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool hasValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    const Flag* flag = find(name);
    if (!flag) return invalidArgument(command_ + ": unknown flag --" + name + " (see --help)");
    if (!hasValue) {
      if (flag->isBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return invalidArgument(command_ + ": flag --" + name + " needs a value");
      }
    }
    SDB_TRY(flag->set(value));
  }
  return okStatus();
}

std::string FlagSet::usage() const {
  std::ostringstream out;
  out << "Flags of '" << command_ << "':\n";
  for (const auto& f : flags_) {
    out << "  --" << f.name << (f.isBool ? "" : " VALUE") << "\n      " << f.help;
    if (!f.defaultText.empty()) out << " (default: " << f.defaultText << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace sdb::cli
