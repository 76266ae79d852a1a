#include "slate/cli.h"

#include <iostream>
#include <string>
#include <vector>

#include "slate/pool_options.h"

namespace slate {

namespace po = boost::program_options;

namespace {

// Boost converts "-1" to an unsigned option as 2^32-1 without complaint.
// Refuses a negative value for any option whose target type is unsigned.
template <typename T>
bool IsA(const po::value_semantic* s) {
  return dynamic_cast<const po::typed_value<T>*>(s) != nullptr;
}

void RefuseNegativeUnsigned(const po::options_description& options,
                            const po::parsed_options& parsed) {
  for (const po::option& opt : parsed.options) {
    if (opt.string_key.empty()) continue;
    const po::option_description* d = options.find_nothrow(opt.string_key, false);
    if (d == nullptr) continue;
    const po::value_semantic* s = d->semantic().get();
    const bool is_unsigned = IsA<unsigned short>(s) || IsA<unsigned>(s) ||
                             IsA<unsigned long>(s) || IsA<unsigned long long>(s) ||
                             IsA<std::vector<unsigned>>(s);
    if (!is_unsigned) continue;
    for (const std::string& v : opt.value) {
      const size_t first = v.find_first_not_of(" \t");
      if (first != std::string::npos && v[first] == '-')
        throw po::error("the argument ('" + v + "') for option '--" + opt.string_key +
                        "' must not be negative");
    }
  }
}

}  // namespace

std::optional<int> ParseCommandLine(const char* program, int argc, char** argv,
                                    const po::options_description& options,
                                    const po::positional_options_description* positional,
                                    po::variables_map* vm) {
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(options);
    if (positional != nullptr) parser.positional(*positional);
    const po::parsed_options parsed = parser.run();
    RefuseNegativeUnsigned(options, parsed);
    po::store(parsed, *vm);
    po::notify(*vm);
    std::string why;
    if (vm->count("pool") && !IsValidPoolName((*vm)["pool"].as<std::string>(), &why))
      throw po::error(why);
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

std::optional<int> CheckRanges(const char* program, const po::variables_map& vm,
                               std::initializer_list<OptionRange> ranges) {
  for (const OptionRange& r : ranges) {
    if (!vm.count(r.option)) continue;
    const boost::any& v = vm[r.option].value();
    long double x = 0;
    if (const auto* u32 = boost::any_cast<uint32_t>(&v)) x = *u32;
    else if (const auto* u64 = boost::any_cast<uint64_t>(&v)) x = static_cast<long double>(*u64);
    else if (const auto* i = boost::any_cast<int>(&v)) x = *i;
    else if (const auto* i64 = boost::any_cast<int64_t>(&v)) x = static_cast<long double>(*i64);
    else if (const auto* u16 = boost::any_cast<uint16_t>(&v)) x = *u16;
    else continue;
    if (x < static_cast<long double>(r.min) || x > static_cast<long double>(r.max)) {
      std::cerr << program << ": --" << r.option << " must be in [" << r.min << ", " << r.max
                << "] (got " << static_cast<long long>(x) << ") (see --help)\n";
      return 2;
    }
  }
  return std::nullopt;
}

}  // namespace slate
