#include "recorder/events/events_codec.h"

#include <capnp/serialize.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>
#include <string>

#include "sandbox/recipe_capnp.h"

namespace jobtape::recorder {
namespace {

capnp::Data::Reader asData(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

std::string fromData(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

void storeLe32(unsigned char* at, uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<unsigned char>(value >> (8 * i));
}

EncodedEvent flatten(capnp::MessageBuilder& builder) {
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(builder);
  size_t words = flat.size();
  return EncodedEvent(kj::mv(flat), words);
}

// A message builder whose first segment is memory we keep afterwards.
// (MallocMessageBuilder zeroes a caller-provided first segment when it is
// destroyed, so it cannot be used to build in place.) Further segments, if
// the estimate was short, are zeroed heap arrays owned here.
class InPlaceBuilder final : public capnp::MessageBuilder {
 public:
  explicit InPlaceBuilder(kj::ArrayPtr<capnp::word> first) : first_(first) {}

  kj::ArrayPtr<capnp::word> allocateSegment(unsigned minimumSize) override {
    if (!firstGiven_ && minimumSize <= first_.size()) {
      firstGiven_ = true;
      return first_;
    }
    firstGiven_ = true;
    const size_t words = std::max<size_t>(minimumSize, 1024);
    kj::Array<capnp::word> extra = kj::heapArray<capnp::word>(words);
    std::memset(extra.begin(), 0, words * sizeof(capnp::word));
    kj::ArrayPtr<capnp::word> view = extra;
    extras_.push_back(kj::mv(extra));
    return view;
  }

 private:
  kj::ArrayPtr<capnp::word> first_;
  bool firstGiven_ = false;
  std::vector<kj::Array<capnp::word>> extras_;
};

// Builds a message of about `payloadWords` words directly behind a one-word
// segment table, so the only copy of the payload is the one `fill` makes.
// Falls back to a plain flat array if the message outgrew the buffer.
template <typename Fill>
EncodedEvent encodeInPlace(size_t payloadWords, Fill&& fill) {
  constexpr size_t kSlackWords = 16;  // root pointer, Event and Output structs
  const size_t capacity = 1 + payloadWords + kSlackWords;
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(capacity);
  std::memset(words.begin(), 0, capacity * sizeof(capnp::word));  // builders need zeroed memory
  InPlaceBuilder builder(words.slice(1, capacity));
  fill(builder.initRoot<schema::Event>());
  auto segments = builder.getSegmentsForOutput();
  if (segments.size() != 1 || segments[0].begin() != words.begin() + 1) return flatten(builder);
  const size_t used = segments[0].size();
  auto* table = reinterpret_cast<unsigned char*>(words.begin());
  storeLe32(table, 0);  // segment count - 1
  storeLe32(table + 4, static_cast<uint32_t>(used));
  return EncodedEvent(kj::mv(words), 1 + used);
}

template <typename Fill>
EncodedEvent encodeSmall(Fill&& fill) {
  capnp::MallocMessageBuilder builder;
  fill(builder.initRoot<schema::Event>());
  return flatten(builder);
}

// A hostile file may hold any 64 bits; the figure saturates instead of
// turning negative.
std::chrono::nanoseconds nanosecondsOf(uint64_t ns) {
  constexpr auto kMax = static_cast<uint64_t>(std::chrono::nanoseconds::max().count());
  return std::chrono::nanoseconds(static_cast<int64_t>(std::min(ns, kMax)));
}

void setRusage(const sandbox::ResourceUsage& from, schema::ResourceUsage::Builder to) {
  to.setUserCpuNs(static_cast<uint64_t>(from.userCpu.count()));
  to.setSystemCpuNs(static_cast<uint64_t>(from.systemCpu.count()));
  to.setMaxRssBytes(from.maxRssBytes);
  to.setMinorFaults(from.minorFaults);
  to.setMajorFaults(from.majorFaults);
  to.setInBlocks(from.inBlocks);
  to.setOutBlocks(from.outBlocks);
  to.setVoluntarySwitches(from.voluntarySwitches);
  to.setInvoluntarySwitches(from.involuntarySwitches);
}

sandbox::ResourceUsage getRusage(schema::ResourceUsage::Reader from) {
  sandbox::ResourceUsage to;
  to.userCpu = nanosecondsOf(from.getUserCpuNs());
  to.systemCpu = nanosecondsOf(from.getSystemCpuNs());
  to.maxRssBytes = from.getMaxRssBytes();
  to.minorFaults = from.getMinorFaults();
  to.majorFaults = from.getMajorFaults();
  to.inBlocks = from.getInBlocks();
  to.outBlocks = from.getOutBlocks();
  to.voluntarySwitches = from.getVoluntarySwitches();
  to.involuntarySwitches = from.getInvoluntarySwitches();
  return to;
}

// One Outcome list (<jobtape/outcome.h>) and the schema's share their
// numbers, checked here for every enumerator, so the codec casts.
#define JOBTAPE_SAME_OUTCOME(ours, theirs)                                                         \
  static_assert(static_cast<uint16_t>(sandbox::Outcome::ours) == static_cast<uint16_t>(schema::Outcome::theirs), \
                "Outcome::" #ours " and schema::Outcome::" #theirs " differ")
JOBTAPE_SAME_OUTCOME(exited, EXITED);
JOBTAPE_SAME_OUTCOME(signaled, SIGNALED);
JOBTAPE_SAME_OUTCOME(timedOut, TIMED_OUT);
JOBTAPE_SAME_OUTCOME(setupFailed, SETUP_FAILED);
JOBTAPE_SAME_OUTCOME(commandNotFound, COMMAND_NOT_FOUND);
JOBTAPE_SAME_OUTCOME(notExecutable, NOT_EXECUTABLE);
JOBTAPE_SAME_OUTCOME(seccompViolation, SECCOMP_VIOLATION);
JOBTAPE_SAME_OUTCOME(cancelled, CANCELLED);
#undef JOBTAPE_SAME_OUTCOME
schema::Outcome toSchema(sandbox::Outcome outcome) { return static_cast<schema::Outcome>(outcome); }

sandbox::Outcome fromSchema(schema::Outcome outcome, int signal) {
  auto value = static_cast<size_t>(outcome);
  if (value < kOutcomeNames.size()) return static_cast<sandbox::Outcome>(value);
  // An outcome from a newer writer: say what the codes say.
  return signal != 0 ? sandbox::Outcome::signaled : sandbox::Outcome::exited;
}

const char* resultName(schema::Result result) {
  switch (result) {
    case schema::Result::SUCCEEDED: return "succeeded";
    case schema::Result::FAILED: return "failed";
    case schema::Result::ABANDONED: return "abandoned";
  }
  return "failed";
}

// Throws before a list's entries are copied (decodeEvent's callers treat any
// exception as damage).
void checkListLength(size_t entries, const char* what) {
  if (entries > kMaxListEntries) {
    throw std::length_error(std::string(what) + " holds " + std::to_string(entries) + " entries, more than " +
                            std::to_string(kMaxListEntries));
  }
}

void checkRecipeLists(schema::Recipe::Reader recipe) {
  checkListLength(recipe.getArgs().size(), "recipe.args");
  checkListLength(recipe.getEnv().size(), "recipe.env");
  checkListLength(recipe.getMounts().size(), "recipe.mounts");
  checkListLength(recipe.getMeta().size(), "recipe.meta");
  checkListLength(recipe.getSecretEnv().size(), "recipe.secretEnv");
}

JobDescription decodeStarted(schema::JobStarted::Reader from) {
  JobDescription to;
  checkRecipeLists(from.getRecipe());
  to.jobId = from.getJobId();
  to.buildId = from.getBuildId();
  to.recipe = sandbox::recipeFromCapnp(from.getRecipe());
  to.recipeHash = from.getRecipeHash();
  to.host = from.getHost();
  to.startedAtUnixNs = from.getStartedAtUnixNs();
  to.sandboxed = from.getSandboxed();
  to.stateDir = from.getStateDir();
  to.kernel = from.getKernel();
  to.callerUid = from.getCallerUid();
  to.callerGid = from.getCallerGid();
  to.terminal = from.getTerminal();
  return to;
}

ExecEvent decodeExec(schema::ProcessExec::Reader from) {
  ExecEvent to;
  to.record.elapsedNs = from.getElapsedNs();
  to.record.pid = from.getPid();
  to.record.ppid = from.getPpid();
  to.record.executable = fromData(from.getExecutable());
  auto argv = from.getArgv();
  checkListLength(argv.size(), "processExec.argv");
  to.record.argv.reserve(argv.size());
  for (auto arg : argv) to.record.argv.push_back(fromData(arg));
  to.record.cwd = fromData(from.getCwd());
  to.spawned = from.getKind() == schema::ProcessExec::Kind::SPAWNED;
  return to;
}

ProcessExitEvent decodeProcessExit(schema::ProcessExited::Reader from) {
  ProcessExitEvent to;
  to.record.elapsedNs = from.getElapsedNs();
  to.record.pid = from.getPid();
  to.record.statusKnown = from.getStatusKnown();
  to.record.exitCode = from.getExitCode();
  to.record.signal = from.getSignal();
  if (from.hasRusage()) to.rusage = getRusage(from.getRusage());
  return to;
}

JobFinishedEvent decodeFinished(schema::JobFinished::Reader from) {
  JobFinishedEvent to;
  sandbox::RunResult& result = to.result;
  result.signal = from.getSignal();
  result.outcome = fromSchema(from.getOutcome(), result.signal);
  result.exitCode = from.getExitCode();
  result.setupStep = from.getSetupStep();
  result.setupErrno = from.getSetupErrno();
  result.violatingSyscall = from.getViolatingSyscall();
  result.message = from.getMessage();
  if (from.hasRusage()) result.rusage = getRusage(from.getRusage());
  result.wallNs = from.getElapsedNs();
  to.resultName = resultName(from.getResult());
  return to;
}

}  // namespace

schema::Result resultOf(const sandbox::RunResult& result) {
  return result.succeeded() ? schema::Result::SUCCEEDED : schema::Result::FAILED;
}

EncodedEvent encodeJobStarted(const JobDescription& description) {
  return encodeSmall([&](schema::Event::Builder event) {
    auto started = event.initJobStarted();
    started.setMagic(kEventsMagic);
    started.setFormatVersion(kEventsFormatVersion);
    started.setJobtapeVersion(JOBTAPE_VERSION);
    started.setJobId(description.jobId);
    started.setBuildId(description.buildId);
    sandbox::recipeToCapnp(description.recipe, started.initRecipe());
    started.setRecipeHash(description.recipeHash);
    started.setHost(description.host);
    started.setStartedAtUnixNs(description.startedAtUnixNs);
    started.setSandboxed(description.sandboxed);
    started.setStateDir(description.stateDir);
    started.setKernel(description.kernel);
    started.setCallerUid(description.callerUid);
    started.setCallerGid(description.callerGid);
    started.setTerminal(description.terminal);
  });
}

EncodedEvent encodeOutput(sandbox::Stream stream, uint64_t elapsedNs,
                          std::span<const char> bytes) {
  const size_t payloadWords = (bytes.size() + sizeof(capnp::word) - 1) / sizeof(capnp::word);
  return encodeInPlace(payloadWords, [&](schema::Event::Builder event) {
    auto output = event.initOutput();
    output.setStream(stream == sandbox::Stream::stdout_ ? schema::Output::Stream::STDOUT
                                                        : schema::Output::Stream::STDERR);
    output.setElapsedNs(elapsedNs);
    auto data = output.initBytes(bytes.size());
    if (!bytes.empty()) std::memcpy(data.begin(), bytes.data(), bytes.size());
  });
}

EncodedEvent encodeExec(const sandbox::ExecRecord& exec, bool spawned) {
  return encodeSmall([&](schema::Event::Builder event) {
    auto out = event.initProcessExec();
    out.setElapsedNs(exec.elapsedNs);
    out.setPid(exec.pid);
    out.setPpid(exec.ppid);
    const size_t kept = std::min(exec.argv.size(), kMaxListEntries);
    auto argv = out.initArgv(static_cast<unsigned>(kept));
    for (size_t i = 0; i < kept; ++i) argv.set(static_cast<unsigned>(i), asData(exec.argv[i]));
    out.setCwd(asData(exec.cwd));
    out.setKind(spawned ? schema::ProcessExec::Kind::SPAWNED : schema::ProcessExec::Kind::EXEC);
    out.setExecutable(asData(exec.executable));
  });
}

EncodedEvent encodeProcessExit(const sandbox::ProcessExitRecord& exit,
                               const sandbox::ResourceUsage* rusage) {
  return encodeSmall([&](schema::Event::Builder event) {
    auto out = event.initProcessExited();
    out.setElapsedNs(exit.elapsedNs);
    out.setPid(exit.pid);
    out.setStatusKnown(exit.statusKnown);
    out.setExitCode(exit.exitCode);
    out.setSignal(exit.signal);
    if (rusage != nullptr) setRusage(*rusage, out.initRusage());
  });
}

EncodedEvent encodeTracingIncomplete(const sandbox::TracingShortfall& shortfall) {
  return encodeSmall([&](schema::Event::Builder event) {
    auto out = event.initTracingIncomplete();
    out.setElapsedNs(shortfall.elapsedNs);
    out.setMissedExecs(shortfall.missedExecs);
    out.setMissedExits(shortfall.missedExits);
    out.setReason(shortfall.reason);
  });
}

EncodedEvent encodeJobFinished(const sandbox::RunResult& result) {
  return encodeSmall([&](schema::Event::Builder event) {
    auto out = event.initJobFinished();
    out.setElapsedNs(result.wallNs);
    out.setResult(resultOf(result));
    out.setOutcome(toSchema(result.outcome));
    out.setExitCode(result.exitCode);
    out.setSignal(result.signal);
    setRusage(result.rusage, out.initRusage());
    out.setSetupStep(result.setupStep);
    out.setSetupErrno(result.setupErrno);
    out.setViolatingSyscall(result.violatingSyscall);
    out.setMessage(result.message);
  });
}

Event decodeEvent(schema::Event::Reader event) {
  Event out;
  switch (event.which()) {
    case schema::Event::JOB_STARTED:
      out.kind = Event::Kind::jobStarted;
      out.started = decodeStarted(event.getJobStarted());
      break;
    case schema::Event::PROCESS_EXEC:
      out.kind = Event::Kind::exec;
      out.exec = decodeExec(event.getProcessExec());
      break;
    case schema::Event::OUTPUT: {
      auto output = event.getOutput();
      out.kind = Event::Kind::output;
      out.output.stream = output.getStream() == schema::Output::Stream::STDOUT
                              ? sandbox::Stream::stdout_
                              : sandbox::Stream::stderr_;
      out.output.elapsedNs = output.getElapsedNs();
      out.output.bytes = fromData(output.getBytes());
      break;
    }
    case schema::Event::PROCESS_EXITED:
      out.kind = Event::Kind::processExit;
      out.processExit = decodeProcessExit(event.getProcessExited());
      break;
    case schema::Event::JOB_FINISHED:
      out.kind = Event::Kind::jobFinished;
      out.finished = decodeFinished(event.getJobFinished());
      break;
    case schema::Event::TRACING_INCOMPLETE: {
      auto from = event.getTracingIncomplete();
      out.kind = Event::Kind::tracingIncomplete;
      out.tracingIncomplete.elapsedNs = from.getElapsedNs();
      out.tracingIncomplete.missedExecs = from.getMissedExecs();
      out.tracingIncomplete.missedExits = from.getMissedExits();
      out.tracingIncomplete.reason = from.getReason();
      break;
    }
    default:
      out.kind = Event::Kind::unknown;  // a member added by a newer writer
      break;
  }
  return out;
}

}  // namespace jobtape::recorder
