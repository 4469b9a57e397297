#include <gtest/gtest.h>

#include "operator/main/flags.h"

namespace sdb::cli {
namespace {

struct Opts {
  std::string kubeconfig;
  std::vector<std::string> namespaces;
  bool leaderElect = true;
  int workers = 2;
};

FlagSet makeFlags(Opts* o) {
  FlagSet f("run");
  f.addString("kubeconfig", &o->kubeconfig, "path");
  f.addStringList("watch-namespaces", &o->namespaces, "list");
  f.addBool("leader-elect", &o->leaderElect, "lease");
  f.addInt("workers", &o->workers, "n");
  return f;
}

TEST(Flags, ParsesEveryForm) {
  Opts o;
  auto f = makeFlags(&o);
  ASSERT_TRUE(f.parse({"--kubeconfig", "/k", "--watch-namespaces=a,b", "--leader-elect=false", "--workers=4"}).ok());
  EXPECT_EQ(o.kubeconfig, "/k");
  EXPECT_EQ(o.namespaces, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(o.leaderElect);
  EXPECT_EQ(o.workers, 4);
}

TEST(Flags, ErrorsNameTheFlag) {
  Opts o;
  auto f = makeFlags(&o);
  auto unknown = f.parse({"--nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "run: unknown flag --nope (see --help)");
  auto missing = makeFlags(&o).parse({"--kubeconfig"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "run: flag --kubeconfig needs a value");
  auto badInt = makeFlags(&o).parse({"--workers=two"});
  ASSERT_FALSE(badInt.ok());
  EXPECT_EQ(badInt.error().message, "--workers: invalid integer \"two\"");
  auto badBool = makeFlags(&o).parse({"--leader-elect=maybe"});
  ASSERT_FALSE(badBool.ok());
  EXPECT_NE(badBool.error().message.find("--leader-elect"), std::string::npos);
}

TEST(Flags, PositionalOnlyWhenAccepted) {
  Opts o;
  auto f = makeFlags(&o);
  EXPECT_FALSE(f.parse({"extra"}).ok());
  std::vector<std::string> pos;
  ASSERT_TRUE(makeFlags(&o).parse({"extra", "--workers", "3"}, &pos).ok());
  EXPECT_EQ(pos, (std::vector<std::string>{"extra"}));
}

}  // namespace
}  // namespace sdb::cli
