#include "operator/main/commands.h"

namespace sdb::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run", "run the controller manager", runManager},
  };
  return table;
}

}  // namespace sdb::cli
