// Command-line parsing shared by every slate program (Boost.Program_options).
#pragma once

#include <optional>

#include <boost/program_options.hpp>

namespace slate {

// Parses argv into vm. Returns an exit status when the program should stop
// now: 0 after printing --help (which `options` must define), 2 after
// printing "<program>: <error> (see --help)" for bad usage. nullopt: go on.
std::optional<int> ParseCommandLine(
    const char* program, int argc, char** argv,
    const boost::program_options::options_description& options,
    const boost::program_options::positional_options_description* positional,
    boost::program_options::variables_map* vm);

}  // namespace slate
