// A damaged jobtape.db: every command says so in one line naming the file
// and `jobtape gc --recover`, writes nothing more to it, and `gc --recover`
// rebuilds the store from the events files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/reliability/reliability_support.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class DamagedStoreTest : public ::testing::Test {
 protected:
  fs::path home() const { return homeDir_.path() / "home"; }
  fs::path db() const { return home() / "jobtape.db"; }
  ProcessResult jobtape(const std::vector<std::string>& args) const {
    return runJobtapeToEnd(home(), args, ProcessOptions{.cwd = project_.path()});
  }
  // Jobs enough for the jobs table to span several pages: 3 failed, the
  // rest succeeded.
  void recordJobs(int count) const {
    for (int i = 0; i < count; ++i) {
      std::string command = "echo job-" + std::to_string(i) + (i < 3 ? "; exit 4" : "");
      ASSERT_EQ(jobtape({"run", "--no-sandbox", "--quiet", "--", "sh", "-c", command}).exitStatus, i < 3 ? 4 : 0);
    }
  }
  // Flips the page-type byte of every b-tree page after the first: any
  // read of a table or an index meets a malformed page.
  void damagePages() const {
    sqlOn(home(), "PRAGMA wal_checkpoint(TRUNCATE)");
    std::string bytes = readFile(db());
    size_t pageSize = std::stoul(sqlOn(home(), "PRAGMA page_size"));
    ASSERT_GT(bytes.size(), 4 * pageSize);
    for (size_t page = pageSize; page < bytes.size(); page += pageSize) bytes[page] ^= 0x5A;
    writeFile(db(), bytes);
    auto check = runProgramToEnd({"/usr/bin/sqlite3", db().string(), "PRAGMA quick_check"});
    ASSERT_THAT(check.out + check.err, HasSubstr("malformed"));
  }
  TempDir project_, homeDir_;
};

TEST_F(DamagedStoreTest, EveryCommandSaysSoInOneLineAndWritesNothing) {
  recordJobs(40);
  damagePages();
  std::string before = readFile(db());
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"job", "list"}, {"job", "show"}, {"build", "list"}, {"gc", "--keep-failed", "0"},
           {"run", "--no-sandbox", "--", "true"}}) {
    auto result = jobtape(args);
    SCOPED_TRACE(args.front() + " " + args[1]);
    EXPECT_EQ(result.exitStatus, 1) << result.out << result.err;
    EXPECT_THAT(result.err, MatchesRegex("jobtape: error: the store .*jobtape\\.db is damaged \\([^\n]*\\); "
                                         "see: jobtape gc --recover[^\n]*\n"));
    EXPECT_EQ(readFile(db()), before) << "written to a damaged database";
  }
  EXPECT_TRUE(fs::exists(home() / "jobtape.db-damaged"));
}

TEST_F(DamagedStoreTest, RecoverRebuildsTheStoreFromTheEventsFiles) {
  recordJobs(40);
  damagePages();
  ASSERT_EQ(jobtape({"job", "list"}).exitStatus, 1);

  auto recover = jobtape({"gc", "--recover"});
  ASSERT_EQ(recover.exitStatus, 0) << recover.err;
  EXPECT_THAT(recover.out, HasSubstr("40 jobs in 40 builds"));
  EXPECT_FALSE(fs::exists(home() / "jobtape.db-damaged"));
  EXPECT_EQ(sqlOn(home(), "PRAGMA quick_check"), "ok\n");

  EXPECT_EQ(sqlOn(home(), "SELECT result, count(*) FROM jobs GROUP BY result ORDER BY result"),
            "failed|3\nsucceeded|37\n");
  EXPECT_EQ(sqlOn(home(), "SELECT count(*) FROM builds WHERE result = 'failed'"), "3\n");
  auto logs = jobtape({"job", "logs", "failed"});
  EXPECT_EQ(logs.exitStatus, 0) << logs.err;
  EXPECT_EQ(logs.out, "job-2\n");
  auto list = jobtape({"job", "list", "--limit", "0"});
  EXPECT_EQ(list.exitStatus, 0) << list.err;
  EXPECT_THAT(list.out, ContainsRegex("job-39"));
  EXPECT_EQ(jobtape({"run", "--no-sandbox", "--", "true"}).exitStatus, 0) << "the store is usable again";
}

}  // namespace
}  // namespace jobtape::testing
