// The key guard: a policy key may leave the key Secret only when no retained backup still needs it.
// Without its key a backup can never be read again, so removing a key that retained backups use must
// never pass silently (issue 13; docs/backup-format.md, "Removing a key").
//
// keyIdsInUse reads the keyId of every complete backup's manifest under a target: manifests only,
// never a stream, so it costs one small read per retained backup. Manifests are read unauthenticated
// (their MAC needs the data key): the guard protects against mistakes, not against someone who can
// already edit or delete the backups themselves.
//
// Contract: keyIdsInUse does I/O through the Destination (one runner at a time, as destination.h
// says); the other functions are pure. Key material never passes through here, only key ids.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "operator/backup/destination.h"

namespace sdb::backup {

struct KeyUsage {
  std::string target;                                   // "<namespace>/<name>"
  std::map<std::string, std::vector<std::string>> backupsByKeyId;  // key id -> backup ids, oldest first
  // Complete backups whose manifest could not be read or names no key id: "<id>: <reason>". The
  // guard cannot vouch for them, and says so.
  std::vector<std::string> unreadable;
};

// The key ids that the retained (complete) backups of `target` were encrypted with.
Result<KeyUsage> keyIdsInUse(Destination& destination, const std::string& target);

struct MissingKey {
  std::string keyId;
  std::vector<std::string> backupIds;
};

// The key ids in use that are not in `available`, in key id order.
std::vector<MissingKey> missingKeys(const KeyUsage& usage, const std::set<std::string>& available);

// `key "k-2025" is still used by retained backups b1, b2 of shop/orders; put it back into the key
// Secret`. Lists at most `maxIds` backup ids, then "and N more".
std::string describeMissingKey(const MissingKey& missing, const std::string& target, size_t maxIds = 10);

}  // namespace sdb::backup
