#include "slate/internal/process_info.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace slate::internal {

uint64_t ProcessStartTime(int pid) {
  if (pid <= 0) return 0;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return 0;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: count fields
  // from the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return 0;
  // A zombie has exited; only its parent has not reaped it yet.
  if (p[2] == 'Z' || p[2] == 'X') return 0;
  int field = 2;
  while (*p != '\0' && field < 22) {
    if (*p == ' ') ++field;
    ++p;
  }
  return field == 22 ? std::strtoull(p, nullptr, 10) : 0;
}

bool ProcessAlive(int pid, uint64_t start_time) {
  const uint64_t now = ProcessStartTime(pid);
  return now != 0 && now == start_time;
}

}  // namespace slate::internal
