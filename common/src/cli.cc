#include "slate/cli.h"

#include <iostream>

namespace slate {

namespace po = boost::program_options;

std::optional<int> ParseCommandLine(const char* program, int argc, char** argv,
                                    const po::options_description& options,
                                    const po::positional_options_description* positional,
                                    po::variables_map* vm) {
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(options);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), *vm);
    po::notify(*vm);
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << " (see --help)\n";
    return 2;
  }
  if (vm->count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  return std::nullopt;
}

}  // namespace slate
