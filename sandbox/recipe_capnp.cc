#include "sandbox/recipe_capnp.h"

namespace jobtape::sandbox {
namespace {

schema::Mount::Kind toSchema(Mount::Kind kind) {
  switch (kind) {
    case Mount::Kind::bind: return schema::Mount::Kind::BIND;
    case Mount::Kind::roBind: return schema::Mount::Kind::RO_BIND;
    case Mount::Kind::tmpfs: return schema::Mount::Kind::TMPFS;
    case Mount::Kind::homeOverlay: return schema::Mount::Kind::HOME_OVERLAY;
  }
  return schema::Mount::Kind::RO_BIND;
}

Mount::Kind fromSchema(schema::Mount::Kind kind) {
  switch (kind) {
    case schema::Mount::Kind::BIND: return Mount::Kind::bind;
    case schema::Mount::Kind::RO_BIND: return Mount::Kind::roBind;
    case schema::Mount::Kind::TMPFS: return Mount::Kind::tmpfs;
    case schema::Mount::Kind::HOME_OVERLAY: return Mount::Kind::homeOverlay;
  }
  // An enumerant from a newer writer: the safe reading is read-only.
  return Mount::Kind::roBind;
}

void envToCapnp(const std::vector<EnvVar>& vars, capnp::List<schema::EnvVar>::Builder list) {
  for (size_t i = 0; i < vars.size(); ++i) {
    list[i].setName(vars[i].name);
    list[i].setValue(vars[i].value);
  }
}

std::vector<EnvVar> envFromCapnp(capnp::List<schema::EnvVar>::Reader list) {
  std::vector<EnvVar> vars;
  vars.reserve(list.size());
  for (auto var : list) vars.push_back({std::string(var.getName()), std::string(var.getValue())});
  return vars;
}

}  // namespace

void recipeToCapnp(const Recipe& recipe, schema::Recipe::Builder builder) {
  builder.setCommand(recipe.command);
  auto args = builder.initArgs(recipe.args.size());
  for (size_t i = 0; i < recipe.args.size(); ++i) {
    args.set(i, capnp::Text::Reader(recipe.args[i].data(), recipe.args[i].size()));
  }
  envToCapnp(recipe.env, builder.initEnv(recipe.env.size()));
  builder.setWorkDir(recipe.workDir);
  auto mounts = builder.initMounts(recipe.mounts.size());
  for (size_t i = 0; i < recipe.mounts.size(); ++i) {
    mounts[i].setKind(toSchema(recipe.mounts[i].kind));
    mounts[i].setSource(recipe.mounts[i].source);
    mounts[i].setDestination(recipe.mounts[i].destination);
  }
  builder.setNetwork(recipe.network);
  builder.setHostname(recipe.hostname);
  auto limits = builder.initLimits();
  limits.setTimeoutMs(recipe.limits.timeoutMs);
  limits.setMemoryBytes(recipe.limits.memoryBytes);
  limits.setMaxOpenFiles(recipe.limits.maxOpenFiles);
  limits.setMaxProcesses(recipe.limits.maxProcesses);
  limits.setCpuSeconds(recipe.limits.cpuSeconds);
  limits.setMaxFileBytes(recipe.limits.maxFileBytes);
  limits.setKillGraceMs(recipe.limits.killGraceMs);
  builder.setUid(recipe.uid);
  builder.setGid(recipe.gid);
  builder.setName(recipe.name);
  envToCapnp(recipe.meta, builder.initMeta(recipe.meta.size()));
  builder.setSandboxed(recipe.sandboxed);
  // Left unset when empty: the canonical form, and so the hash, of a recipe
  // without secretEnv stays what it was before the field existed.
  if (recipe.secretEnv.empty()) return;
  auto secretEnv = builder.initSecretEnv(recipe.secretEnv.size());
  for (size_t i = 0; i < recipe.secretEnv.size(); ++i) {
    secretEnv.set(i, capnp::Text::Reader(recipe.secretEnv[i].data(), recipe.secretEnv[i].size()));
  }
}

Recipe recipeFromCapnp(schema::Recipe::Reader reader) {
  Recipe recipe;
  recipe.command = reader.getCommand();
  for (auto arg : reader.getArgs()) recipe.args.emplace_back(arg.begin(), arg.end());
  recipe.env = envFromCapnp(reader.getEnv());
  recipe.workDir = reader.getWorkDir();
  for (auto mount : reader.getMounts()) {
    recipe.mounts.push_back({fromSchema(mount.getKind()), std::string(mount.getSource()),
                             std::string(mount.getDestination())});
  }
  recipe.network = reader.getNetwork();
  recipe.hostname = reader.getHostname();
  auto limits = reader.getLimits();
  recipe.limits.timeoutMs = limits.getTimeoutMs();
  recipe.limits.memoryBytes = limits.getMemoryBytes();
  recipe.limits.maxOpenFiles = limits.getMaxOpenFiles();
  recipe.limits.maxProcesses = limits.getMaxProcesses();
  recipe.limits.cpuSeconds = limits.getCpuSeconds();
  recipe.limits.maxFileBytes = limits.getMaxFileBytes();
  recipe.limits.killGraceMs = limits.getKillGraceMs();
  recipe.uid = reader.getUid();
  recipe.gid = reader.getGid();
  recipe.name = reader.getName();
  recipe.meta = envFromCapnp(reader.getMeta());
  recipe.sandboxed = reader.getSandboxed();
  for (auto name : reader.getSecretEnv()) recipe.secretEnv.emplace_back(name.begin(), name.end());
  return recipe;
}

}  // namespace jobtape::sandbox
