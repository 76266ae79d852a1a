// slate-dump's commands. Each attaches read-only (a read-only mapping, no
// lock), so it works on a pool whose processes all died and never disturbs a
// live group; each returns the process exit status.
#pragma once

#include <string>
#include <vector>

#include "slate/entry.h"
#include "slate/pool.h"

namespace slate::dump {

enum class Format { kTable, kJsonLines };

struct ListOptions {
  Query query;
  Format format = Format::kTable;
  bool follow = false;  // keep printing new matches until the pool goes
};

class DumpCommand {
 public:
  virtual ~DumpCommand() = default;
  virtual const char* name() const = 0;
  virtual int Run(Pool& pool) = 0;
};

// --stats: capacity, segments, tasks by state, agents with liveness.
class StatsCommand : public DumpCommand {
 public:
  explicit StatsCommand(Format format) : format_(format) {}
  const char* name() const override { return "stats"; }
  int Run(Pool& pool) override;

 private:
  Format format_;
};

// --check: the invariant checker; exit 1 listing violations, 0 when clean.
class CheckCommand : public DumpCommand {
 public:
  const char* name() const override { return "check"; }
  int Run(Pool& pool) override;
};

// The default: entries matching the filters, as a table or JSON lines.
class ListCommand : public DumpCommand {
 public:
  explicit ListCommand(ListOptions options) : options_(std::move(options)) {}
  const char* name() const override { return "list"; }
  int Run(Pool& pool) override;

 private:
  void Print(const std::vector<Entry>& entries) const;
  ListOptions options_;
};

}  // namespace slate::dump
