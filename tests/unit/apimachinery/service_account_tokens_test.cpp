// TokenRequest and ServiceAccount token authentication over the store.
#include <gtest/gtest.h>

#include "e2e/apimachinery/service_account_tokens.h"

namespace sdb::apimachinery {
namespace {

using kube::ApiErrorReason;
namespace res = kube::resources;

class ServiceAccountTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.clock = &clock_;
    store_ = std::move(Store::open(o)).value();
    ASSERT_TRUE(store_->create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
    ASSERT_TRUE(store_->create(res::kServiceAccounts, "a", {{"metadata", {{"name", "robot"}}}}).ok());
    ServiceAccountTokenOptions to;
    to.clock = &clock_;
    tokens_ = std::move(ServiceAccountTokens::open(*store_, to)).value();
  }
  std::string issue(const Json& spec = Json::object()) {
    auto r = tokens_->request("a", "robot", {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}});
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? (*r)["status"]["token"].get<std::string>() : "";
  }
  FakeClock clock_{std::chrono::system_clock::from_time_t(1764040000)};
  std::unique_ptr<Store> store_;
  std::unique_ptr<ServiceAccountTokens> tokens_;
};

TEST_F(ServiceAccountTokensTest, ATokenAuthenticatesAsItsServiceAccountUntilItExpires) {
  const std::string token = issue({{"expirationSeconds", 600}});
  auto user = tokens_->authenticate(token);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->username, "system:serviceaccount:a:robot");
  EXPECT_EQ(user->groups, (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:a", "system:authenticated"}));
  std::string tampered = token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(tokens_->authenticate(tampered).has_value());
  EXPECT_FALSE(tokens_->authenticate("not-a-jwt").has_value());
  clock_.advance(std::chrono::seconds(601));
  EXPECT_FALSE(tokens_->authenticate(token).has_value()) << "expired";
}

TEST_F(ServiceAccountTokensTest, DeletingTheServiceAccountOrTheBoundPodRevokes) {
  ASSERT_TRUE(store_->create(res::kPods, "a", {{"metadata", {{"name", "p"}}}, {"spec", Json::object()}}).ok());
  const std::string bound = issue({{"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "p"}}}});
  const std::string plain = issue();
  EXPECT_TRUE(tokens_->authenticate(bound).has_value());
  ASSERT_TRUE(store_->remove(res::kPods, "a", "p").ok());
  EXPECT_FALSE(tokens_->authenticate(bound).has_value()) << "the pod is gone";
  EXPECT_TRUE(tokens_->authenticate(plain).has_value());
  ASSERT_TRUE(store_->remove(res::kServiceAccounts, "a", "robot").ok());
  ASSERT_TRUE(store_->create(res::kServiceAccounts, "a", {{"metadata", {{"name", "robot"}}}}).ok());
  EXPECT_FALSE(tokens_->authenticate(plain).has_value()) << "a recreated ServiceAccount has a new uid";
}

TEST_F(ServiceAccountTokensTest, BadRequestsAreRefusedWithTheirField) {
  auto missing = tokens_->request("a", "ghost", Json::object());
  EXPECT_EQ(missing.error().reason, ApiErrorReason::kNotFound);
  auto tooShort = tokens_->request("a", "robot", {{"spec", {{"expirationSeconds", 60}}}});
  ASSERT_FALSE(tooShort.ok());
  EXPECT_EQ(tooShort.error().reason, ApiErrorReason::kInvalid);
  EXPECT_EQ(tooShort.error().causes[0].field, "spec.expirationSeconds");
  auto noPod = tokens_->request("a", "robot", {{"spec", {{"boundObjectRef", {{"kind", "Pod"}, {"name", "nope"}}}}}});
  EXPECT_EQ(noPod.error().reason, ApiErrorReason::kNotFound);
  auto ok = tokens_->request("a", "robot", Json::object());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["spec"]["expirationSeconds"], 3600);
  EXPECT_EQ((*ok)["status"]["expirationTimestamp"], formatRfc3339(clock_.now() + std::chrono::seconds(3600)));
}

}  // namespace
}  // namespace sdb::apimachinery
