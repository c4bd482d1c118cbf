// Probe run inside `jobtape run`: it tries to get a secret variable's value
// into the record. It writes the value whole and in two pieces with a pause
// between them (so the pieces land in two output chunks), on stdout and on
// stderr, and execs itself with the value as an argument (a traced exec's
// argv). Then it says whether it saw the value the test expects.
//
//   secret_probe leak VAR EXPECTED_FILE [ignored...]
//   secret_probe argv VALUE            (the exec'd child: does nothing)
//
// Exit 0: VAR holds the contents of EXPECTED_FILE; 1: it holds something
// else; 3: VAR is not set.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

void writeAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void leak(int fd, const std::string& label, const std::string& value) {
  writeAll(fd, label + " whole: " + value + "\n");
  size_t half = value.size() / 2;
  writeAll(fd, label + " split: " + value.substr(0, half));
  ::usleep(300 * 1000);  // the reader has taken the first piece by now
  writeAll(fd, value.substr(half) + "\n");
}

void execWithValue(const char* self, const std::string& value) {
  pid_t child = ::fork();
  if (child == 0) {
    ::execl(self, self, "argv", value.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (child > 0) ::waitpid(child, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "argv") == 0) return 0;
  if (argc < 4 || std::strcmp(argv[1], "leak") != 0) {
    std::fprintf(stderr, "usage: secret_probe leak VAR EXPECTED_FILE\n");
    return 2;
  }
  const char* value = std::getenv(argv[2]);
  std::ifstream in(argv[3]);
  std::stringstream expected;
  expected << in.rdbuf();
  if (value == nullptr) {
    std::printf("probe: %s is not set\n", argv[2]);
    return 3;
  }
  leak(STDOUT_FILENO, "stdout", value);
  leak(STDERR_FILENO, "stderr", value);
  execWithValue(argv[0], value);
  bool same = expected.str() == value;
  std::printf("probe: %s %s\n", argv[2], same ? "has the expected value" : "differs from the expected value");
  return same ? 0 : 1;
}
