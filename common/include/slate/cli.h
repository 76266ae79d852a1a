// Command-line parsing shared by every slate program (Boost.Program_options).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

#include <boost/program_options.hpp>

namespace slate {

// Parses argv into vm. Returns an exit status when the program should stop
// now: 0 after printing --help (which `options` must define), 2 after
// printing "<program>: <error> (see --help)" for bad usage (including a
// negative value for an unsigned option, and a bad --pool name). nullopt: go on.
std::optional<int> ParseCommandLine(
    const char* program, int argc, char** argv,
    const boost::program_options::options_description& options,
    const boost::program_options::positional_options_description* positional,
    boost::program_options::variables_map* vm);

// A numeric option's allowed range, inclusive.
struct OptionRange {
  const char* option;  // without the dashes
  uint64_t min;
  uint64_t max;
};

// Checks each named option that vm holds (of any unsigned or int type)
// against its range. Returns 2 after printing "<program>: --<option> must be
// in [min, max] (got v) (see --help)" for the first one out of range.
std::optional<int> CheckRanges(const char* program,
                               const boost::program_options::variables_map& vm,
                               std::initializer_list<OptionRange> ranges);

}  // namespace slate
