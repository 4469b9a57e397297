#include "operator/runtime/conditions.h"

#include "operator/core/clock.h"

namespace sdb::runtime {

namespace {
Json* findConditionJson(Json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (auto& c : status["conditions"]) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

Json withoutTransitionTimes(const Json& status) {
  Json copy = status;
  if (copy.is_object() && copy.contains("conditions") && copy["conditions"].is_array()) {
    for (auto& c : copy["conditions"]) {
      if (c.is_object()) c.erase("lastTransitionTime");
    }
  }
  return copy;
}
}  // namespace

bool setCondition(Json& status, const Condition& condition, std::chrono::system_clock::time_point now) {
  if (!status.is_object()) status = Json::object();
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = Json::array();
  Json next = {{"type", condition.type},
               {"status", condition.status},
               {"reason", condition.reason},
               {"message", condition.message},
               {"observedGeneration", condition.observedGeneration}};
  Json* existing = findConditionJson(status, condition.type);
  if (!existing) {
    next["lastTransitionTime"] = formatRfc3339(now);
    status["conditions"].push_back(std::move(next));
    return true;
  }
  bool flipped = existing->value("status", "") != condition.status;
  next["lastTransitionTime"] =
      flipped || !existing->contains("lastTransitionTime") ? Json(formatRfc3339(now)) : (*existing)["lastTransitionTime"];
  if (*existing == next) return false;
  *existing = std::move(next);
  return true;
}

std::optional<Condition> findCondition(const Json& status, const std::string& type) {
  Json* c = findConditionJson(const_cast<Json&>(status), type);
  if (!c) return std::nullopt;
  Condition out;
  out.type = type;
  out.status = c->value("status", "");
  out.reason = c->value("reason", "");
  out.message = c->value("message", "");
  if (c->contains("observedGeneration") && (*c)["observedGeneration"].is_number_integer()) {
    out.observedGeneration = (*c)["observedGeneration"].get<int64_t>();
  }
  return out;
}

bool isConditionTrue(const Json& status, const std::string& type) {
  auto c = findCondition(status, type);
  return c && c->status == "True";
}

bool removeCondition(Json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) return false;
  auto& arr = status["conditions"];
  for (size_t i = 0; i < arr.size(); ++i) {
    if (arr[i].is_object() && arr[i].value("type", "") == type) {
      arr.erase(i);
      return true;
    }
  }
  return false;
}

bool statusSemanticallyEqual(const Json& a, const Json& b) {
  auto na = a.is_null() ? Json::object() : a;
  auto nb = b.is_null() ? Json::object() : b;
  return withoutTransitionTimes(na) == withoutTransitionTimes(nb);
}

}  // namespace sdb::runtime
