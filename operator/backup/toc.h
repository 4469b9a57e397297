// A pg_dump archive's table of contents as `pg_restore --list` prints it, reduced to what a restore
// drill compares (docs/api.md, "Restore drills"): the archive of a backup against a fresh archive
// of the database restored from it.
//
// A listing line is "<dumpId>; <catalog oid> <object oid> <TYPE...> <schema> <name...> <owner>".
// Dump ids and oids differ between the two archives, and so does the owner (a drill restores as the
// admin login), so an entry is kept as "<TYPE...> <schema> <name...>". Comment lines (";") and blank
// lines are skipped, and so is "SCHEMA - public": every database has it, and pg_dump lists it only
// when its owner or privileges are not a fresh database's, which a restore does not carry.
//
// Contract: pure, thread-safe.
#pragma once

#include <string>
#include <vector>

namespace sdb::backup {

// The entries of a listing, sorted (a multiset: duplicates kept).
std::vector<std::string> tocEntries(const std::string& listing);

// What differs between two sorted entry lists: "missing after the restore: <entry>" for an entry of
// `backup` that `restored` lacks, "not in the backup: <entry>" for the reverse. At most `limit`
// lines, then "... and N more". Empty when they match.
std::vector<std::string> tocDifferences(const std::vector<std::string>& backup, const std::vector<std::string>& restored,
                                        size_t limit = 10);

}  // namespace sdb::backup
