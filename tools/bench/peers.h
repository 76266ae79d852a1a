// What users would reach for instead, measured in the same run (--peers):
//  - PythonPoolThroughput: Python's multiprocessing.Pool with W processes
//    mapping a no-op over N 64-byte payloads, chunks of 100, timed inside
//    Python from the map's start to its last result (the pool made and
//    warmed first). Nothing when no python3 is found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace slate::bench {

// The interpreter the peers run on: /usr/bin/python3 (the system's, which
// the package is built for), else python3 from PATH; "" when neither.
std::string PythonForPeers();

std::optional<double> PythonPoolThroughput(const std::string& python, int workers,
                                           uint64_t tasks);

}  // namespace slate::bench
