#include "e2e/kubelet/container_spec.h"

namespace sdb::kubelet {

Json toJson(const ContainerLaunch& l) {
  Json dirs = Json::array(), files = Json::array(), links = Json::array(), mounts = Json::array();
  for (const auto& d : l.dirs) dirs.push_back({{"path", d.path}, {"mode", d.mode}, {"uid", d.uid}, {"gid", d.gid}});
  for (const auto& f : l.files) files.push_back({{"path", f.path}, {"content", f.content}, {"mode", f.mode}});
  for (const auto& s : l.links) links.push_back({{"path", s.path}, {"target", s.target}});
  for (const auto& m : l.mounts) mounts.push_back({{"source", m.source}, {"target", m.target}, {"readOnly", m.readOnly}});
  return {{"mode", l.mode},
          {"execPid", l.execPid},
          {"netnsPath", l.netnsPath},
          {"stagingDir", l.stagingDir},
          {"hostname", l.hostname},
          {"readOnlyRootFilesystem", l.readOnlyRootFilesystem},
          {"dirs", dirs},
          {"files", files},
          {"links", links},
          {"mounts", mounts},
          {"argv", l.argv},
          {"env", l.env},
          {"workingDir", l.workingDir},
          {"uid", l.uid},
          {"gid", l.gid},
          {"supplementalGroups", l.supplementalGroups},
          {"noNewPrivileges", l.noNewPrivileges},
          {"parentPid", l.parentPid}};
}

Result<ContainerLaunch> launchFromJson(const Json& j) {
  ContainerLaunch l;
  try {
    l.mode = j.at("mode").get<std::string>();
    l.execPid = j.at("execPid").get<int64_t>();
    l.netnsPath = j.at("netnsPath").get<std::string>();
    l.stagingDir = j.at("stagingDir").get<std::string>();
    l.hostname = j.at("hostname").get<std::string>();
    l.readOnlyRootFilesystem = j.at("readOnlyRootFilesystem").get<bool>();
    for (const auto& d : j.at("dirs")) {
      l.dirs.push_back({d.at("path").get<std::string>(), d.at("mode").get<uint32_t>(), d.at("uid").get<uint32_t>(),
                        d.at("gid").get<uint32_t>()});
    }
    for (const auto& f : j.at("files")) {
      l.files.push_back({f.at("path").get<std::string>(), f.at("content").get<std::string>(), f.at("mode").get<uint32_t>()});
    }
    for (const auto& s : j.at("links")) l.links.push_back({s.at("path").get<std::string>(), s.at("target").get<std::string>()});
    for (const auto& m : j.at("mounts")) {
      l.mounts.push_back({m.at("source").get<std::string>(), m.at("target").get<std::string>(), m.at("readOnly").get<bool>()});
    }
    l.argv = j.at("argv").get<std::vector<std::string>>();
    l.env = j.at("env").get<std::vector<std::string>>();
    l.workingDir = j.at("workingDir").get<std::string>();
    l.uid = j.at("uid").get<uint32_t>();
    l.gid = j.at("gid").get<uint32_t>();
    l.supplementalGroups = j.at("supplementalGroups").get<std::vector<uint32_t>>();
    l.noNewPrivileges = j.at("noNewPrivileges").get<bool>();
    l.parentPid = j.at("parentPid").get<int64_t>();
  } catch (const std::exception& e) {
    return invalidArgument(std::string("container launch spec: ") + e.what());
  }
  if (l.argv.empty()) return invalidArgument("container launch spec: argv is empty");
  return l;
}

}  // namespace sdb::kubelet
