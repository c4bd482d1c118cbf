#include "sandbox/init_plan.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "sandbox/init_plan.capnp.h"

namespace jobtape::sandbox {

namespace {

// Far above any real plan (argv and environment are bounded by ARG_MAX,
// 2 MiB by default), far below what could exhaust the init's memory.
constexpr uint64_t kMaxPlanBytes = 64u << 20;

capnp::Data::Reader bytesOf(const std::vector<sock_filter>& program) {
  return {reinterpret_cast<const kj::byte*>(program.data()), program.size() * sizeof(sock_filter)};
}

bool filterFrom(capnp::Data::Reader data, std::vector<sock_filter>& out) {
  if (data.size() % sizeof(sock_filter) != 0) return false;
  out.resize(data.size() / sizeof(sock_filter));
  if (data.size() != 0) std::memcpy(out.data(), data.begin(), data.size());
  return true;
}

}  // namespace

// The one place that sees the plans' insides on both sides of the exec.
class InitPlanCodec {
 public:
  static void encode(const ChildPlan& p, schema::InitPlan::Builder b);
  static bool decode(schema::InitPlan::Reader r, OwnedChildPlan& out, std::string* why);

 private:
  static void encodeMounts(const MountPlan& mounts, schema::InitPlan::Builder b);
  static bool decodeMounts(schema::InitPlan::Reader r, MountPlan& out);
  static void encodeExec(const ExecPlan& exec, schema::Exec::Builder b);
  static void decodeExec(schema::Exec::Reader r, ExecPlan& out);
  static bool decodeRlimits(schema::InitPlan::Reader r, RlimitPlan& out);
};

void InitPlanCodec::encodeMounts(const MountPlan& mounts, schema::InitPlan::Builder b) {
  auto ops = b.initMounts(static_cast<unsigned>(mounts.ops_.size()));
  for (unsigned i = 0; i < ops.size(); ++i) {
    const MountPlan::Op& op = mounts.ops_[i];
    auto o = ops[i];
    o.setKind(static_cast<uint8_t>(op.kind));
    if (op.source != nullptr) o.setSource(op.source);
    if (op.upper != nullptr) o.setUpper(op.upper);
    if (op.work != nullptr) o.setWork(op.work);
    if (op.destination != nullptr) o.setDestination(op.destination);
    o.setReadOnly(op.readOnly);
    o.setRecipeIndex(op.recipeIndex);
  }
}

bool InitPlanCodec::decodeMounts(schema::InitPlan::Reader r, MountPlan& out) {
  constexpr unsigned kLastKind = static_cast<unsigned>(MountPlan::Op::Kind::overlay);
  auto ops = r.getMounts();
  // Every string first: the ops point into them once they stop moving.
  out.strings_.reserve(ops.size() * 4);
  for (auto o : ops) {
    if (o.getKind() > kLastKind || !o.hasDestination() || o.getDestination().size() == 0) return false;
    for (capnp::Text::Reader text : {o.getSource(), o.getUpper(), o.getWork(), o.getDestination()}) {
      if (std::memchr(text.cStr(), '\0', text.size()) != nullptr) return false;
      out.strings_.emplace_back(text.cStr(), text.size());
    }
  }
  size_t next = 0;
  for (auto o : ops) {
    MountPlan::Op op;
    op.kind = static_cast<MountPlan::Op::Kind>(o.getKind());
    op.source = o.hasSource() ? out.strings_[next].c_str() : nullptr;
    op.upper = o.hasUpper() ? out.strings_[next + 1].c_str() : nullptr;
    op.work = o.hasWork() ? out.strings_[next + 2].c_str() : nullptr;
    op.destination = out.strings_[next + 3].c_str();
    op.readOnly = o.getReadOnly();
    op.recipeIndex = o.getRecipeIndex();
    next += 4;
    out.ops_.push_back(op);
  }
  out.allocateSlots();
  return true;
}

void InitPlanCodec::encodeExec(const ExecPlan& exec, schema::Exec::Builder b) {
  auto list = [](const std::vector<std::string>& from, capnp::List<capnp::Text>::Builder to) {
    for (unsigned i = 0; i < to.size(); ++i) to.set(i, from[i]);
  };
  list(exec.argvStrings_, b.initArgv(static_cast<unsigned>(exec.argvStrings_.size())));
  list(exec.envStrings_, b.initEnvironment(static_cast<unsigned>(exec.envStrings_.size())));
  list(exec.candidates_, b.initCandidates(static_cast<unsigned>(exec.candidates_.size())));
  b.setWorkDir(exec.workDir_);
}

void InitPlanCodec::decodeExec(schema::Exec::Reader r, ExecPlan& out) {
  for (auto s : r.getArgv()) out.argvStrings_.emplace_back(s.cStr(), s.size());
  for (auto s : r.getEnvironment()) out.envStrings_.emplace_back(s.cStr(), s.size());
  for (auto s : r.getCandidates()) out.candidates_.emplace_back(s.cStr(), s.size());
  out.workDir_ = r.getWorkDir().cStr();
  for (std::string& s : out.argvStrings_) out.argv_.push_back(s.data());
  out.argv_.push_back(nullptr);
  for (std::string& s : out.envStrings_) out.envp_.push_back(s.data());
  out.envp_.push_back(nullptr);
}

bool InitPlanCodec::decodeRlimits(schema::InitPlan::Reader r, RlimitPlan& out) {
  auto entries = r.getRlimits();
  if (entries.size() > out.entries_.size()) return false;
  for (auto e : entries) {
    out.entries_[out.count_++] = RlimitPlan::Entry{e.getResource(), {e.getSoft(), e.getHard()}};
  }
  return true;
}

void InitPlanCodec::encode(const ChildPlan& p, schema::InitPlan::Builder b) {
  b.setSandboxed(p.sandboxed);
  b.setNetwork(p.network);
  b.setControllingTerminal(p.controllingTerminal);
  b.setSandboxTerminals(p.sandboxTerminals);
  b.setTerminalRows(p.terminalPlan.size.ws_row);
  b.setTerminalColumns(p.terminalPlan.size.ws_col);
  b.setInputOnTerminal(p.terminalPlan.inputOnTerminal);
  b.setTraceExecs(p.traceExecs);
  b.setChannel(p.channel);
  b.setUnshareFlags(p.unshareFlags);
  auto stdio = b.initStdio(3);
  for (unsigned i = 0; i < 3; ++i) stdio.set(i, p.stdio[i]);
  b.setHostname(p.hostname);
  if (p.mounts != nullptr) encodeMounts(*p.mounts, b);
  auto rlimits = b.initRlimits(static_cast<unsigned>(p.rlimits->end() - p.rlimits->begin()));
  unsigned i = 0;
  for (const RlimitPlan::Entry& e : *p.rlimits) {
    rlimits[i].setResource(e.resource);
    rlimits[i].setSoft(e.value.rlim_cur);
    rlimits[i].setHard(e.value.rlim_max);
    ++i;
  }
  encodeExec(*p.exec, b.initExec());
  if (p.seccomp != nullptr) {
    b.setSeccompPolicy(bytesOf(p.seccomp->policy_));
    b.setSeccompNotify(bytesOf(p.seccomp->notify_));
  }
}

bool InitPlanCodec::decode(schema::InitPlan::Reader r, OwnedChildPlan& out, std::string* why) {
  auto failed = [why](const char* what) {
    *why = what;
    return false;
  };
  ChildPlan& p = out.plan;
  p.sandboxed = r.getSandboxed();
  p.network = r.getNetwork();
  p.controllingTerminal = r.getControllingTerminal();
  p.sandboxTerminals = r.getSandboxTerminals();
  p.terminalPlan.size.ws_row = r.getTerminalRows();
  p.terminalPlan.size.ws_col = r.getTerminalColumns();
  p.terminalPlan.inputOnTerminal = r.getInputOnTerminal();
  p.traceExecs = r.getTraceExecs();
  p.channel = r.getChannel();
  p.unshareFlags = r.getUnshareFlags();
  if (r.getStdio().size() != 3) return failed("stdio is not three descriptors");
  for (unsigned i = 0; i < 3; ++i) p.stdio[i] = r.getStdio()[i];
  out.hostname = r.getHostname().cStr();
  p.hostname = out.hostname.c_str();
  if (!decodeMounts(r, out.mounts)) return failed("a mount operation is not one");
  if (!decodeRlimits(r, out.rlimits)) return failed("too many rlimits");
  decodeExec(r.getExec(), out.exec);
  if (out.exec.argvStrings_.empty() || out.exec.candidates_.empty()) return failed("no program to run");
  if (!filterFrom(r.getSeccompPolicy(), out.seccomp.policy_) || !filterFrom(r.getSeccompNotify(), out.seccomp.notify_)) {
    return failed("a seccomp program is not whole instructions");
  }
  if (p.sandboxed && out.seccomp.policy_.empty()) return failed("a sandbox without its seccomp policy");
  p.mounts = &out.mounts;
  p.rlimits = &out.rlimits;
  p.exec = &out.exec;
  p.seccomp = p.sandboxed ? &out.seccomp : nullptr;
  return true;
}

UniqueFd writeInitPlan(const ChildPlan& plan) {
  capnp::MallocMessageBuilder message;
  InitPlanCodec::encode(plan, message.initRoot<schema::InitPlan>());
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  kj::ArrayPtr<const kj::byte> bytes = words.asBytes();
  UniqueFd fd(::memfd_create("jobtape-init-plan", MFD_CLOEXEC));
  if (!fd) throw std::system_error(errno, std::generic_category(), "memfd_create");
  if (!writeAll(fd.get(), {reinterpret_cast<const char*>(bytes.begin()), bytes.size()})) {
    throw std::system_error(errno, std::generic_category(), "write the init plan");
  }
  return fd;
}

bool readInitPlan(int fd, OwnedChildPlan& out, std::string* why) noexcept {
  try {
    struct stat st;
    if (::fstat(fd, &st) < 0) {
      *why = "cannot stat the plan";
      return false;
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size == 0 || size % sizeof(capnp::word) != 0 || size > kMaxPlanBytes) {
      *why = "the plan has a size no plan has";
      return false;
    }
    kj::Array<capnp::word> words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
    size_t done = 0;
    while (done < size) {
      ssize_t got = ::pread(fd, words.asBytes().begin() + done, size - done, static_cast<off_t>(done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        *why = "cannot read the plan";
        return false;
      }
      done += static_cast<size_t>(got);
    }
    capnp::ReaderOptions options;
    options.traversalLimitInWords = size / sizeof(capnp::word) * 2;
    capnp::FlatArrayMessageReader reader(words, options);
    return InitPlanCodec::decode(reader.getRoot<schema::InitPlan>(), out, why);
  } catch (const kj::Exception&) {
    *why = "the plan is not a message";
  } catch (const std::exception&) {
    *why = "the plan does not fit in memory";
  }
  return false;
}

}  // namespace jobtape::sandbox
