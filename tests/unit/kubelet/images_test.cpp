// The node's image table: what runs, what is refused, and the image's contract values.
#include <gtest/gtest.h>

#include "e2e/kubelet/images.h"

namespace sdb::kubelet {
namespace {

ImageTableOptions options() {
  ImageTableOptions o;
  o.operatorImage = "ghcr.io/servicedb/servicedb-operator";
  o.operatorBinary = "/bin/true";  // any executable
  return o;
}

TEST(ImageTable, ReferencesAreNormalised) {
  EXPECT_EQ(splitImageReference("postgres"), (std::pair<std::string, std::string>{"postgres", "latest"}));
  EXPECT_EQ(splitImageReference("docker.io/library/postgres:15.4@sha256:abc"), (std::pair<std::string, std::string>{"postgres", "15.4"}));
  EXPECT_EQ(splitImageReference("localhost:5000/x/y"), (std::pair<std::string, std::string>{"localhost:5000/x/y", "latest"}));
  EXPECT_EQ(splitImageReference("ghcr.io/servicedb/servicedb-operator:0.1.0"),
            (std::pair<std::string, std::string>{"ghcr.io/servicedb/servicedb-operator", "0.1.0"}));
}

TEST(ImageTable, Postgres15RunsWithTheOfficialContract) {
  if (lookupImage("postgres:15", options()).image == std::nullopt) GTEST_SKIP() << "PostgreSQL 15 is not installed here";
  for (const char* ref : {"postgres:15", "postgres:15.8", "postgres:15-bookworm", "docker.io/library/postgres:15"}) {
    auto l = lookupImage(ref, options());
    ASSERT_TRUE(l.image) << ref << ": " << l.message;
    EXPECT_EQ(l.image->entrypoint, (std::vector<std::string>{"docker-entrypoint.sh"}));
    EXPECT_EQ(l.image->cmd, (std::vector<std::string>{"postgres"}));
    EXPECT_EQ(l.image->stopSignal, SIGINT);
    EXPECT_EQ(l.image->users.at(0).uid, 999u);
  }
  auto pg = *lookupImage("postgres:15", options()).image;
  bool path = false, pgdata = false;
  for (const auto& [k, v] : pg.env) {
    path = path || (k == "PATH" && v.find("/usr/lib/postgresql/15/bin") != std::string::npos);
    pgdata = pgdata || (k == "PGDATA" && v == "/var/lib/postgresql/data");
  }
  EXPECT_TRUE(path && pgdata);
  ASSERT_EQ(pg.files.size(), 1u);
  EXPECT_NE(pg.files[0].content.find("POSTGRES_PASSWORD"), std::string::npos) << "the entrypoint script is compiled in";
}

TEST(ImageTable, OtherMajorsAndUnknownImagesFailWithTheirReason) {
  for (const char* ref : {"postgres:16", "postgres", "postgres:14.2"}) {
    auto l = lookupImage(ref, options());
    EXPECT_FALSE(l.image) << ref;
    EXPECT_EQ(l.reason, "ErrImagePull");
    EXPECT_NE(l.message.find("only PostgreSQL 15 is installed"), std::string::npos) << l.message;
  }
  auto mongo = lookupImage("mongo:7", options());
  EXPECT_FALSE(mongo.image);
  EXPECT_NE(mongo.message.find("there is no mongod on this machine"), std::string::npos) << mongo.message;
  EXPECT_FALSE(lookupImage("redis:6.2", options()).image);
  EXPECT_FALSE(lookupImage("busybox", options()).image);
  auto op = lookupImage("ghcr.io/servicedb/servicedb-operator:0.1.0", options());
  ASSERT_TRUE(op.image) << op.message;
  EXPECT_EQ(op.image->uid, 65532u);
  EXPECT_EQ(op.image->binds.at(0).target, "/usr/local/bin/servicedb-operator");
  auto redis = lookupImage("redis:7.2-alpine", options());
  ASSERT_TRUE(redis.image);
  EXPECT_EQ(redis.image->workingDir, "/data");
}

}  // namespace
}  // namespace sdb::kubelet
