// I/O side of the MongoDB engine over an AdminChannel: read the server into `Observed`, perform a
// `Plan`, and find which stored password a user accepts.
//
// Contract: `observe` only reads (hello, listDatabases, find on the marker collection, usersInfo)
// and makes one trial SCRAM login per existing user of ours with its stored password; it writes
// nothing. `execute` sends one command per action in order (commands.h), stops at the first
// failure with an error naming the action, and treats "user not found" on dropUser as done, so a
// rerun of observe+plan+execute after a failure or crash converges. Not thread-safe per channel.
#pragma once

#include <optional>

#include "operator/engines/mongo/channel.h"
#include "operator/engines/mongo/model.h"

namespace sdb::engines::mongo {

Result<Observed> observe(AdminChannel& channel, const Desired& desired);

// `stopAfter` (tests only): run at most this many actions, then stop as if the process died.
ExecuteReport execute(AdminChannel& channel, const Plan& plan, std::optional<size_t> stopAfter = std::nullopt);

// Index of the first candidate that `user` (in `database`) authenticates with, or NotFound.
Result<size_t> whichPasswordWorks(AdminChannel& channel, const std::string& database, const std::string& user,
                                  const std::vector<std::string>& candidates);

// Reply parsers, exposed for unit tests.
Result<std::vector<std::string>> parseListDatabases(const Json& reply);
bool parseHelloMajority(const Json& reply);
std::optional<Marker> parseMarkerReply(const Json& findReply);
Result<std::map<std::string, ObservedUser>> parseUsersInfo(const Json& reply, const std::string& database);

}  // namespace sdb::engines::mongo
