#include "peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "slate/process_setup.h"

namespace slate::bench {
namespace {

// Prints tasks per second. The payloads are made before the clock, as the
// bench's are; a fork-started pool needs no pickling of the function.
constexpr const char* kPoolScript = R"(import multiprocessing as mp, sys, time
def noop(x):
    return x
if __name__ == "__main__":
    workers, tasks = int(sys.argv[1]), int(sys.argv[2])
    payloads = [bytes(64)] * tasks
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(noop, range(workers * 100), chunksize=100)
        start = time.perf_counter()
        out = pool.map(noop, payloads, chunksize=100)
        seconds = time.perf_counter() - start
    assert len(out) == tasks
    print(tasks / seconds)
)";

}  // namespace

std::string PythonForPeers() {
  const std::string system = FindProgram("/usr/bin/python3");
  return system.empty() ? FindProgram("python3") : system;
}

std::optional<double> PythonPoolThroughput(const std::string& python, int workers,
                                           uint64_t tasks) {
  if (python.empty()) return std::nullopt;
  char script[] = "/tmp/slate-bench-peer-XXXXXX";
  const int fd = mkstemp(script);
  if (fd < 0) throw std::runtime_error("cannot write the Python peer's script");
  const size_t len = std::strlen(kPoolScript);
  const bool written = write(fd, kPoolScript, len) == static_cast<ssize_t>(len);
  close(fd);
  std::string out;
  if (written) {
    const std::string cmd = "'" + python + "' " + script + " " + std::to_string(workers) + " " +
                            std::to_string(tasks) + " 2>&1";
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[512];
      while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
      if (pclose(p) != 0) out = "failed: " + out;
    }
  }
  unlink(script);
  char* end = nullptr;
  const double rate = std::strtod(out.c_str(), &end);
  if (!written || end == out.c_str() || rate <= 0)
    throw std::runtime_error("the Python pool peer did not run: " + out.substr(0, 200));
  return rate;
}

}  // namespace slate::bench
