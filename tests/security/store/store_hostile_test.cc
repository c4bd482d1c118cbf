// The store is input, not truth: a hostile writer of the store (a job that
// reached the database, another local user, loose permissions) gets nothing
// through it. Each test records a real job with the real binary, then plays
// the attacker on the store it made: rows rewritten with the SQLite C API,
// modes loosened, owner changed. The test fails if the attack achieved what
// it tried: a marker written by a command jobtape should not have run, a
// file outside the store deleted, a refused store used.
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

mode_t modeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

bool present(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

void writeFile(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class HostileStoreTest : public ::testing::Test {
 protected:
  TempDir scratch;
  fs::path home = scratch.path() / "a" / "home";
  fs::path project = scratch.path() / "project";
  fs::path marker = scratch.path() / "marker";

  void SetUp() override {
    fs::create_directories(project);
    fs::create_directories(home.parent_path());
  }

  ProcessResult jobtape(const std::vector<std::string>& args, ProcessOptions options = {}) {
    if (!options.cwd) options.cwd = project;
    return runJobtape(home, args, options);
  }

  // Records a failed job (its state kept) and returns its id.
  std::string recordFailed(const std::vector<std::string>& command = {"sh", "-c", "echo hi > /tmp/left; exit 3"}) {
    std::vector<std::string> args = {"run", "--quiet", "--project", project.string()};
    for (const std::string& bind : buildTreeBinds()) args.push_back(bind);
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    ProcessResult run = jobtape(args);
    EXPECT_NE(run.exitStatus, 0) << run.err;
    return query("SELECT id FROM jobs ORDER BY started_at DESC, id DESC LIMIT 1");
  }

  // The attacker's pen: SQL straight into the store's database.
  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((home / "jobtape.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* error = nullptr;
    int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << " in " << statement;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::string query(const std::string& statement) {
    sqlite3* db = nullptr;
    std::string value;
    if (sqlite3_open_v2((home / "jobtape.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, statement.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(s, 0);
        value = text ? reinterpret_cast<const char*>(text) : "";
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return value;
  }

  static std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

  // Every command that reads the store, each of which must refuse it.
  void expectEveryCommandRefuses(const std::string& line) {
    std::string touch = "touch " + marker.string();
    std::vector<std::vector<std::string>> commands = {
        {"job", "list"},
        {"job", "show", "last"},
        {"job", "logs", "last"},
        {"job", "debug-shell", "last", "--", "sh", "-c", touch},
        {"job", "retry", "last"},
        {"build", "list"},
        {"gc", "--keep-failed", "0"},
        {"run", "--quiet", "--no-sandbox", "--", "sh", "-c", touch},
    };
    for (const auto& args : commands) {
      ProcessResult result = jobtape(args);
      std::string what = shown(args);
      EXPECT_EQ(result.exitStatus, 1) << what << "\n" << result.err;
      EXPECT_EQ(result.err, line + "\n") << what;
      EXPECT_EQ(result.out, "") << what;
    }
    EXPECT_FALSE(present(marker)) << "a command ran through a refused store";
  }

  static std::string shown(const std::vector<std::string>& args) {
    std::string text = "jobtape";
    for (const auto& arg : args) text += " " + arg;
    return text;
  }
};

TEST_F(HostileStoreTest, AStoreMadeUnderUmask000IsPrivate) {
  ProcessResult run = runProgram({"/bin/sh", "-c", "umask 000; exec \"$0\" --home \"$1\" run --quiet -- sh -c 'exit 3'",
                                  jobtapeBinary().string(), home.string()},
                                 ProcessOptions{.cwd = project});
  ASSERT_EQ(run.exitStatus, 3) << run.err;
  std::string id = query("SELECT id FROM jobs");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(modeOf(home), 0700u);
  EXPECT_EQ(modeOf(home / "jobs"), 0700u);
  EXPECT_EQ(modeOf(home / "jobs" / id), 0700u);
  EXPECT_EQ(modeOf(home / "jobs" / id / "state"), 0700u);
  EXPECT_EQ(modeOf(home / "jobs" / id / "events.bin.zst"), 0600u);
  for (const char* file : {"jobtape.db", "jobtape.db-wal", "jobtape.db-shm"}) {
    EXPECT_EQ(modeOf(home / file), 0600u) << file;
  }
}

TEST_F(HostileStoreTest, AHomeOthersCanWriteIsRefusedByEveryCommand) {
  recordFailed();
  ::chmod(home.c_str(), 0777);
  expectEveryCommandRefuses("jobtape: error: the store " + home.string() +
                            " is writable by others (mode 0777); fix it with: chmod 700 " + home.string());
}

TEST_F(HostileStoreTest, ADatabaseOthersCanWriteIsRefusedByEveryCommand) {
  recordFailed();
  ::chmod((home / "jobtape.db").c_str(), 0666);
  fs::path db = home / "jobtape.db";
  expectEveryCommandRefuses("jobtape: error: the database " + db.string() +
                            " is writable by others (mode 0666); fix it with: chmod 600 " + db.string());
}

TEST_F(HostileStoreTest, ADatabaseReplacedByALinkIsRefused) {
  recordFailed();
  fs::path elsewhere = scratch.path() / "other.db";
  fs::rename(home / "jobtape.db", elsewhere);
  fs::create_symlink(elsewhere, home / "jobtape.db");
  ProcessResult list = jobtape({"job", "list"});
  EXPECT_EQ(list.exitStatus, 1);
  EXPECT_THAT(list.err, HasSubstr("is a symbolic link; jobtape does not follow it"));
}

// Root on someone else's store (`--home ~user/...`) must not run what that
// user recorded, with root's rights.
TEST_F(HostileStoreTest, RootIsRefusedTheStoreOfAnotherUser) {
  if (!runningAsRoot()) GTEST_SKIP() << "needs root to give the store to another user";
  recordFailed();
  struct passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  ProcessResult chown = runProgram({"chown", "-R", "nobody", home.string()});
  ASSERT_EQ(chown.exitStatus, 0) << chown.err;
  expectEveryCommandRefuses(fmt::format(
      "jobtape: error: the store {} belongs to uid {} (nobody), not to the caller (uid 0 (root)); a store is used only "
      "by its owner; run jobtape as its owner, or pass --home DIR for a store of your own",
      home.string(), nobody->pw_uid));
}

// gc through a row whose id climbs out of jobs/: the directory it names
// survives, the row goes, and the rest of the sweep is done.
TEST_F(HostileStoreTest, GcDeletesNothingThroughAnIdThatIsNotAUlid) {
  std::string hostile = recordFailed();
  std::string honest = recordFailed();
  // 26 characters, as the schema checks: home/jobs/./././././././././../../../x
  fs::path victim = scratch.path() / "x";
  fs::create_directories(victim);
  writeFile(victim / "precious", "precious");
  sql("UPDATE jobs SET id = '././././././././../../../x', local_path = " + quoted(victim.string()) + " WHERE id = " +
      quoted(hostile));
  ProcessResult gc = jobtape({"gc", "--keep-failed", "0"});
  EXPECT_EQ(gc.exitStatus, 0) << gc.err;
  EXPECT_THAT(gc.err, HasSubstr("is not a ULID"));
  EXPECT_EQ(readFile(victim / "precious"), "precious");
  EXPECT_FALSE(present(home / "jobs" / honest)) << "the honest job's directory is swept all the same";
  EXPECT_EQ(query("SELECT count(*) FROM jobs"), "0");
}

// A row that names a directory outside the home: listings skip it, the
// commands that would use its files refuse, and gc leaves that directory.
TEST_F(HostileStoreTest, ARowNamingADirectoryOutsideTheHomeIsDamaged) {
  std::string id = recordFailed();
  fs::path outside = scratch.path() / "outside";
  fs::create_directories(outside / "state");
  fs::copy_file(home / "jobs" / id / "events.bin.zst", outside / "events.bin.zst");
  writeFile(outside / "precious", "precious");
  sql("UPDATE jobs SET local_path = " + quoted(outside.string()));

  ProcessResult list = jobtape({"job", "list"});
  EXPECT_EQ(list.exitStatus, 0) << list.err;
  EXPECT_THAT(list.err, HasSubstr("jobtape: warning: skipped a damaged job row"));
  EXPECT_THAT(list.out, Not(HasSubstr(id.substr(0, 8))));
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"job", "logs", id}, {"job", "show", id}, {"job", "retry", id},
           {"job", "debug-shell", id, "--", "sh", "-c", "touch " + marker.string()}}) {
    ProcessResult result = jobtape(args);
    EXPECT_EQ(result.exitStatus, 1) << shown(args) << "\n" << result.err;
    EXPECT_THAT(result.err, HasSubstr("is damaged: its directory '" + outside.string() + "' is not")) << shown(args);
  }
  EXPECT_FALSE(present(marker));
  ProcessResult gc = jobtape({"gc", "--keep-failed", "0"});
  EXPECT_EQ(gc.exitStatus, 0) << gc.err;
  EXPECT_EQ(readFile(outside / "precious"), "precious");
}

// A recipe rewritten in the store to bind the root read-write, or to run
// without a sandbox: debug-shell and retry give no more than a run would.
TEST_F(HostileStoreTest, ARecordedRecipeAskingForMoreThanARunIsRefused) {
  std::string id = recordFailed();
  std::string touch = "touch " + marker.string();
  std::string wideBind = R"({"command": "sh", "args": ["-c", ")" + touch +
                         R"("], "mounts": [{"kind": "bind", "source": "/", "destination": "/"}]})";
  sql("UPDATE jobs SET recipe_meta = " + quoted(wideBind));
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"job", "retry", id}, {"job", "debug-shell", id, "--", "sh", "-c", touch}}) {
    ProcessResult result = jobtape(args);
    EXPECT_EQ(result.exitStatus, 1) << shown(args) << "\n" << result.err;
    EXPECT_THAT(result.err, HasSubstr("binds / read-write, more than a run would")) << shown(args);
  }
  EXPECT_FALSE(present(marker));

  std::string storeBind = R"({"command": "sh", "args": ["-c", ")" + touch + R"("], "mounts": [{"kind": "bind", "source": ")" +
                          home.parent_path().string() + R"("}]})";
  sql("UPDATE jobs SET recipe_meta = " + quoted(storeBind));
  ProcessResult retry = jobtape({"job", "retry", id});
  EXPECT_EQ(retry.exitStatus, 1) << retry.err;
  EXPECT_THAT(retry.err, HasSubstr("read-write, more than a run would (the store is never bound)"));

  std::string unsandboxed = R"({"command": "sh", "args": ["-c", ")" + touch + R"("], "sandboxed": false})";
  sql("UPDATE jobs SET recipe_meta = " + quoted(unsandboxed));
  retry = jobtape({"job", "retry", id});
  EXPECT_EQ(retry.exitStatus, 1) << retry.err;
  EXPECT_THAT(retry.err, HasSubstr("was recorded without a sandbox; retry runs it so only when asked"));
  ProcessResult shell = jobtape({"job", "debug-shell", id, "--", "sh", "-c", touch});
  EXPECT_EQ(shell.exitStatus, 1) << shell.err;
  EXPECT_FALSE(present(marker)) << "a recipe from the store ran unsandboxed without --no-sandbox";

  std::string dotted = R"({"command": "sh", "mounts": [{"kind": "roBind", "source": "/usr/../etc"}]})";
  sql("UPDATE jobs SET recipe_meta = " + quoted(dotted));
  retry = jobtape({"job", "retry", id});
  EXPECT_EQ(retry.exitStatus, 1) << retry.err;
  EXPECT_THAT(retry.err, HasSubstr("recipe cannot be read"));
}

// The tree a hostile job leaves in its kept /tmp: deeper than gc's open-file
// limit, directories gc cannot enter, a link out of the home. gc (with 256
// descriptors) removes it all, follows no link, and sweeps the other jobs.
TEST_F(HostileStoreTest, GcRemovesAnyTreeAJobCanLeave) {
  const char* buildRoot = std::getenv("JOBTAPE_BUILD_ROOT");
  ASSERT_NE(buildRoot, nullptr);
  fs::path probe = fs::path(buildRoot) / "tests" / "security" / "store" / "deep_tree_probe";
  fs::path outside = scratch.path() / "outside";
  fs::create_directories(outside / "keep");
  writeFile(outside / "keep" / "precious", "precious");
  std::string hostile = recordFailed({probe.string(), "5000", outside.string()});
  std::string other = recordFailed();
  ProcessResult log = jobtape({"job", "logs", hostile});
  ASSERT_THAT(log.out, HasSubstr("probe: made a tree 5000 deep")) << log.out << log.err;
  fs::path kept = home / "jobs" / hostile / "state" / "tmpfs" / "tmp";
  ASSERT_TRUE(present(kept / "deep" / "d" / "d")) << "the tree is in the job's kept /tmp";
  ASSERT_TRUE(present(kept / "locked" / "none"));

  ProcessResult gc = runProgram({"/bin/sh", "-c", "ulimit -n 256 && exec \"$0\" --home \"$1\" gc --keep-failed 0",
                                 jobtapeBinary().string(), home.string()});
  EXPECT_EQ(gc.exitStatus, 0) << gc.err;
  EXPECT_EQ(gc.err, "");
  EXPECT_THAT(gc.out, HasSubstr("removed 2 jobs"));
  EXPECT_FALSE(present(home / "jobs" / hostile));
  EXPECT_FALSE(present(home / "jobs" / other));
  EXPECT_EQ(readFile(outside / "keep" / "precious"), "precious");
  ProcessResult again = jobtape({"gc", "--keep-failed", "0"});
  EXPECT_EQ(again.exitStatus, 0) << again.err;
  EXPECT_THAT(again.out, Not(HasSubstr("swept"))) << "nothing was left for the next gc";
}

}  // namespace
}  // namespace jobtape::testing
