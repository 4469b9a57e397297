#include "operator/backup/key_guard.h"

#include "operator/backup/runner.h"

namespace sdb::backup {

Result<KeyUsage> keyIdsInUse(Destination& dest, const std::string& target) {
  auto ids = completeBackupIds(dest, target);
  if (!ids.ok()) return ids.error().wrap("listing the backups of " + target + " in " + dest.describe());
  KeyUsage usage;
  usage.target = target;
  for (const auto& id : *ids) {
    auto manifest = readManifestUnverified(dest, target, id);
    if (!manifest.ok()) {
      usage.unreadable.push_back(id + ": " + manifest.error().message);
      continue;
    }
    auto keyId = manifest->find("keyId");
    if (keyId == manifest->end() || !keyId->is_string() || keyId->get<std::string>().empty()) {
      usage.unreadable.push_back(id + ": manifest has no keyId");
      continue;
    }
    usage.backupsByKeyId[keyId->get<std::string>()].push_back(id);
  }
  return usage;
}

std::vector<MissingKey> missingKeys(const KeyUsage& usage, const std::set<std::string>& available) {
  std::vector<MissingKey> out;
  for (const auto& [keyId, backups] : usage.backupsByKeyId) {
    if (!available.count(keyId)) out.push_back({keyId, backups});
  }
  return out;
}

std::string describeMissingKey(const MissingKey& missing, const std::string& target, size_t maxIds) {
  std::string ids;
  const size_t shown = std::min(maxIds, missing.backupIds.size());
  for (size_t i = 0; i < shown; ++i) ids += (i ? ", " : "") + missing.backupIds[i];
  if (shown < missing.backupIds.size()) ids += " and " + std::to_string(missing.backupIds.size() - shown) + " more";
  return "key \"" + missing.keyId + "\" is still used by retained backup" + (missing.backupIds.size() == 1 ? " " : "s ") +
         ids + " of " + target + "; put it back into the key Secret";
}

}  // namespace sdb::backup
