#include "sandbox/init_plan.h"

#include <sys/mman.h>
#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/init_plan.capnp.h"

namespace jobtape::sandbox {
namespace {

// A plan as the runner builds one: every part filled.
struct BuiltPlan {
  BuiltPlan() {
    recipe.command = "make";
    recipe.args = {"-C", "/src", "--", "all"};
    recipe.env = {{"PATH", "/opt/bin:/usr/bin"}, {"LANG", "C.UTF-8"}};
    recipe.workDir = "/src";
    recipe.mounts = {{Mount::Kind::roBind, "/", "/"},
                     {Mount::Kind::tmpfs, "", "/tmp"},
                     {Mount::Kind::homeOverlay, "/root", "/root"}};
    recipe.limits.maxOpenFiles = 512;
    mounts = MountPlan::build(recipe, {}, {}, HomeLayers{"/store/upper", "/store/work"});
    exec = ExecPlan::build(recipe, {{"JOBTAPE_JOB", "01ABC"}});
    rlimits = RlimitPlan::build(recipe.limits, 0);
    seccomp = SeccompProgram::compile({.allowNetwork = false, .traceExecs = true, .denySetid = true});
    plan.sandboxed = true;
    plan.controllingTerminal = 1;
    plan.sandboxTerminals = true;
    plan.terminalPlan.size.ws_row = 40;
    plan.terminalPlan.size.ws_col = 132;
    plan.terminalPlan.inputOnTerminal = true;
    plan.traceExecs = true;
    plan.channel = 9;
    plan.unshareFlags = 0x6c020000;
    plan.stdio[0] = 4;
    plan.stdio[1] = 5;
    plan.stdio[2] = -1;
    plan.hostname = "builder";
    plan.mounts = &mounts;
    plan.rlimits = &rlimits;
    plan.exec = &exec;
    plan.seccomp = &seccomp;
  }
  Recipe recipe;
  MountPlan mounts;
  ExecPlan exec;
  RlimitPlan rlimits;
  SeccompProgram seccomp;
  ChildPlan plan;
};

std::string text(const char* s) { return s == nullptr ? "(none)" : s; }

TEST(InitPlan, EveryPartOfThePlanCrossesTheExec) {
  BuiltPlan built;
  UniqueFd fd = writeInitPlan(built.plan);
  OwnedChildPlan read;
  std::string why;
  ASSERT_TRUE(readInitPlan(fd.get(), read, &why)) << why;
  const ChildPlan& p = read.plan;
  EXPECT_TRUE(p.sandboxed);
  EXPECT_FALSE(p.network);
  EXPECT_EQ(p.controllingTerminal, 1);
  EXPECT_TRUE(p.sandboxTerminals);
  EXPECT_EQ(p.terminalPlan.size.ws_row, 40);
  EXPECT_EQ(p.terminalPlan.size.ws_col, 132);
  EXPECT_TRUE(p.terminalPlan.inputOnTerminal);
  EXPECT_TRUE(p.traceExecs);
  EXPECT_EQ(p.channel, 9);
  EXPECT_EQ(p.unshareFlags, 0x6c020000u);
  EXPECT_EQ(std::vector<int>(p.stdio, p.stdio + 3), (std::vector<int>{4, 5, -1}));
  EXPECT_STREQ(p.hostname, "builder");

  ASSERT_EQ(p.mounts->ops().size(), built.mounts.ops().size());
  for (size_t i = 0; i < built.mounts.ops().size(); ++i) {
    const MountPlan::Op& want = built.mounts.ops()[i];
    const MountPlan::Op& got = p.mounts->ops()[i];
    EXPECT_EQ(got.kind, want.kind) << i;
    EXPECT_EQ(text(got.source), text(want.source)) << i;
    EXPECT_EQ(text(got.upper), text(want.upper)) << i;
    EXPECT_EQ(text(got.work), text(want.work)) << i;
    EXPECT_EQ(text(got.destination), text(want.destination)) << i;
    EXPECT_EQ(got.readOnly, want.readOnly) << i;
    EXPECT_EQ(got.recipeIndex, want.recipeIndex) << i;
  }
  EXPECT_EQ(p.exec->argv(), built.exec.argv());
  EXPECT_EQ(p.exec->environment(), built.exec.environment());
  EXPECT_EQ(p.exec->candidates(), built.exec.candidates());
  EXPECT_STREQ(p.exec->workDir(), "/src");

  std::vector<std::pair<int, rlim_t>> want, got;
  for (const RlimitPlan::Entry& e : built.rlimits) want.emplace_back(e.resource, e.value.rlim_cur);
  for (const RlimitPlan::Entry& e : *p.rlimits) got.emplace_back(e.resource, e.value.rlim_cur);
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(got, want);
  ASSERT_NE(p.seccomp, nullptr);
  EXPECT_TRUE(*p.seccomp == built.seccomp);
  EXPECT_TRUE(p.seccomp->tracesExecs());
}

TEST(InitPlan, ARecordOnlyPlanHasNoSeccompProgram) {
  BuiltPlan built;
  built.plan.sandboxed = false;
  built.plan.seccomp = nullptr;
  MountPlan none;
  built.plan.mounts = &none;
  UniqueFd fd = writeInitPlan(built.plan);
  OwnedChildPlan read;
  std::string why;
  ASSERT_TRUE(readInitPlan(fd.get(), read, &why)) << why;
  EXPECT_FALSE(read.plan.sandboxed);
  EXPECT_EQ(read.plan.seccomp, nullptr);
  EXPECT_TRUE(read.plan.mounts->ops().empty());
}

UniqueFd fileWith(const std::string& bytes) {
  UniqueFd fd(::memfd_create("plan-test", MFD_CLOEXEC));
  EXPECT_TRUE(writeAll(fd.get(), bytes));
  return fd;
}

std::string planBytes(capnp::MallocMessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  return std::string(reinterpret_cast<const char*>(words.asBytes().begin()), words.asBytes().size());
}

// What pid 1 cannot follow ends in a setup error, never in a crash.
TEST(InitPlan, APlanItCannotFollowIsRefusedWithAReason) {
  BuiltPlan built;
  UniqueFd good = writeInitPlan(built.plan);
  std::string bytes(static_cast<size_t>(::lseek(good.get(), 0, SEEK_END)), '\0');
  ASSERT_EQ(::pread(good.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));

  std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"not whole words", bytes.substr(0, bytes.size() - 3)},
      {"cut short", bytes.substr(0, bytes.size() / 2)},
      {"garbage", std::string(4096, '\xff')},
  };
  {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::InitPlan>();
    root.initStdio(3);
    root.initExec().initArgv(1).set(0, "true");
    root.getExec().initCandidates(1).set(0, "/bin/true");
    root.initMounts(1)[0].setKind(200);
    cases.push_back({"unknown mount kind", planBytes(message)});
  }
  {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::InitPlan>();
    root.setSandboxed(true);
    root.initStdio(3);
    root.initExec().initArgv(1).set(0, "true");
    root.getExec().initCandidates(1).set(0, "/bin/true");
    cases.push_back({"sandbox without seccomp", planBytes(message)});
    root.setSeccompPolicy(kj::heapArray<kj::byte>(7));
    cases.push_back({"partial seccomp instruction", planBytes(message)});
  }
  for (const auto& [name, content] : cases) {
    UniqueFd fd = fileWith(content);
    OwnedChildPlan read;
    std::string why;
    EXPECT_FALSE(readInitPlan(fd.get(), read, &why)) << name;
    EXPECT_FALSE(why.empty()) << name;
  }
}

}  // namespace
}  // namespace jobtape::sandbox
