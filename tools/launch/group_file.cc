#include "group_file.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "slate/agent.h"
#include "slate/internal/entry_codec.h"

namespace slate::launch {
namespace {

using nlohmann::json;

constexpr uint32_t kMaxWorkers = 512;
constexpr size_t kMaxCapabilityBytes = 32;

json FromToml(const toml::node& n) {
  if (const auto* t = n.as_table()) {
    json j = json::object();
    for (auto&& [k, v] : *t) j[std::string(k.str())] = FromToml(v);
    return j;
  }
  if (const auto* a = n.as_array()) {
    json j = json::array();
    for (auto&& v : *a) j.push_back(FromToml(v));
    return j;
  }
  if (const auto* s = n.as_string()) return s->get();
  if (const auto* i = n.as_integer()) return i->get();
  if (const auto* f = n.as_floating_point()) return f->get();
  if (const auto* b = n.as_boolean()) return b->get();
  return "(a TOML date or time)";  // no key takes one: refused below, by name
}

// Reads one document's values, naming each by its path in errors.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Status Fail(const std::string& path, const std::string& why) const {
    return {StatusCode::kInvalidArgument, file_ + ": " + path + ": " + why};
  }

  // Every key of `obj` must be one of `known`.
  Status OnlyKeys(const json& obj, const std::string& path,
                  std::initializer_list<const char*> known) const {
    for (const auto& [k, v] : obj.items())
      if (std::none_of(known.begin(), known.end(), [&](const char* n) { return k == n; })) {
        std::string list;
        for (const char* n : known) list += std::string(list.empty() ? "" : ", ") + n;
        return Fail(Join(path, k), "unknown key (known: " + list + ")");
      }
    return Status::Ok();
  }

  Status Count(const json& obj, const std::string& path, const char* key, uint32_t lo,
               uint32_t hi, uint32_t* out) const {
    if (!obj.contains(key)) return Status::Ok();
    const json& v = obj[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
      return Fail(Join(path, key), "must be a whole number from " + std::to_string(lo) + " to " +
                                       std::to_string(hi) + ", not " + v.dump());
    *out = v.get<uint32_t>();
    return Status::Ok();
  }

  Status Text(const json& obj, const std::string& path, const char* key, std::string* out) const {
    if (!obj.contains(key)) return Status::Ok();
    const json& v = obj[key];
    if (!v.is_string() || v.get<std::string>().empty())
      return Fail(Join(path, key), "must be a non-empty string, not " + v.dump());
    *out = v.get<std::string>();
    return Status::Ok();
  }

  Status Flag(const json& obj, const std::string& path, const char* key, bool* out) const {
    if (!obj.contains(key)) return Status::Ok();
    if (!obj[key].is_boolean()) return Fail(Join(path, key), "must be true or false");
    *out = obj[key].get<bool>();
    return Status::Ok();
  }

  Status Capabilities(const json& obj, const std::string& path,
                      std::vector<std::string>* out) const {
    if (!obj.contains("capabilities")) return Status::Ok();
    const json& v = obj["capabilities"];
    const std::string at = Join(path, "capabilities");
    if (!v.is_array() || v.size() > static_cast<size_t>(kMaxCapabilities))
      return Fail(at, "must be a list of at most " + std::to_string(kMaxCapabilities) + " names");
    for (const json& c : v) {
      if (!c.is_string() || !internal::IsValidName(c.get<std::string>(), kMaxCapabilityBytes))
        return Fail(at, c.dump() + " is not a capability: 1 to 32 characters of [A-Za-z0-9._-]");
      out->push_back(c.get<std::string>());
    }
    return Status::Ok();
  }

  Status Workers(const json& obj, const std::string& path, WorkerGroupSpec* out) const {
    if (!obj.is_object()) return Fail(path, "must be a table of count, capabilities, handler ...");
    if (Status s = OnlyKeys(obj, path, {"count", "capabilities", "handler", "exec", "serve",
                                        "python", "shell", "validate"});
        !s.ok())
      return s;
    if (Status s = Count(obj, path, "count", 1, kMaxWorkers, &out->count); !s.ok()) return s;
    if (Status s = Capabilities(obj, path, &out->capabilities); !s.ok()) return s;
    WorkerFlags& f = out->flags;
    for (auto [key, field] : {std::pair{"handler", &f.handler}, std::pair{"exec", &f.exec},
                              std::pair{"serve", &f.serve}, std::pair{"python", &f.python},
                              std::pair{"validate", &f.validate}})
      if (Status s = Text(obj, path, key, field); !s.ok()) return s;
    if (Status s = Flag(obj, path, "shell", &f.shell); !s.ok()) return s;
    const int given = obj.contains("handler") + obj.contains("exec") + obj.contains("serve") +
                      obj.contains("python");
    if (given > 1) return Fail(path, "give one of handler, exec, serve and python");
    if (Status s = CheckWorkerFlags(f); !s.ok()) return Fail(path, s.message());
    return Status::Ok();
  }

  Status Node(const json& obj, const std::string& path, bool top, SupervisorNode* out) const {
    if (!obj.is_object()) return Fail(path, "must be a table");
    if (Status s = top ? OnlyKeys(obj, path, {"supervisors", "workers", "children"})
                       : OnlyKeys(obj, path, {"capability", "decompose", "synthesize",
                                              "supervisors", "workers", "children"});
        !s.ok())
      return s;
    // A team has one supervisor at a time; when it dies the launcher
    // starts another, which resumes the team's sub-requests.
    if (!top && obj.contains("supervisors") && obj["supervisors"] != 1)
      return Fail(Join(path, "supervisors"),
                  "a team has one supervisor at a time (restarted when it dies), not " +
                      obj["supervisors"].dump());
    if (Status s = Count(obj, path, "supervisors", 1, 3, &out->supervisors); !s.ok()) return s;
    if (!top) {
      if (!obj.contains("capability"))
        return Fail(path, "a sub-supervisor needs the capability of the tasks it takes");
      if (Status s = Text(obj, path, "capability", &out->capability); !s.ok()) return s;
      // It names the sub-supervisor's team too.
      if (!internal::IsValidName(out->capability, kMaxTeamNameBytes))
        return Fail(Join(path, "capability"),
                    "1 to " + std::to_string(kMaxTeamNameBytes) + " characters of [A-Za-z0-9._-]");
      for (auto [key, field] : {std::pair{"decompose", &out->decompose},
                                std::pair{"synthesize", &out->synthesize}})
        if (Status s = Text(obj, path, key, field); !s.ok()) return s;
    }
    const bool has_children = obj.contains("children") && obj["children"].is_array() &&
                              !obj["children"].empty();
    if (obj.contains("workers") && !obj["workers"].is_array())
      return Fail(Join(path, "workers"), "must be a list of tables");
    if (!has_children && (!obj.contains("workers") || obj["workers"].empty()))
      return Fail(Join(path, "workers"), "needs at least one group of workers (or children)");
    const json no_workers = json::array();
    const json& workers = obj.contains("workers") ? obj["workers"] : no_workers;
    uint32_t total = 0;
    for (size_t i = 0; i < workers.size(); ++i) {
      WorkerGroupSpec w;
      const std::string at = Join(path, "workers") + "[" + std::to_string(i) + "]";
      if (Status s = Workers(workers[i], at, &w); !s.ok()) return s;
      total += w.count;
      out->workers.push_back(std::move(w));
    }
    if (total > kMaxWorkers)
      return Fail(Join(path, "workers"), std::to_string(total) + " workers; at most " +
                                             std::to_string(kMaxWorkers) + " in a group");
    if (obj.contains("children")) {
      const json& kids = obj["children"];
      if (!kids.is_array()) return Fail(Join(path, "children"), "must be a list of tables");
      for (size_t i = 0; i < kids.size(); ++i) {
        SupervisorNode child;
        const std::string at = Join(path, "children") + "[" + std::to_string(i) + "]";
        if (Status s = Node(kids[i], at, false, &child); !s.ok()) return s;
        for (const auto& sibling : out->children)
          if (sibling.capability == child.capability)
            return Fail(Join(at, "capability"),
                        "'" + child.capability + "' is taken by another sub-supervisor here");
        out->children.push_back(std::move(child));
      }
    }
    return Status::Ok();
  }

 private:
  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  std::string file_;
};

// "top > backend > db > shards": the deepest branch.
std::string DeepestBranch(const SupervisorNode& n) {
  std::string deepest;
  int levels = 0;
  for (const auto& c : n.children)
    if (TreeLevels(c) > levels) {
      levels = TreeLevels(c);
      deepest = DeepestBranch(c);
    }
  const std::string me = n.capability.empty() ? "top" : n.capability;
  return deepest.empty() ? me : me + " > " + deepest;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

int TreeLevels(const SupervisorNode& node) {
  int below = 0;
  for (const auto& c : node.children) below = std::max(below, TreeLevels(c));
  return 1 + below;
}

Result<SupervisorNode> ParseGroupFile(const std::string& path, const std::string& text) {
  json doc;
  if (EndsWith(path, ".toml")) {
    try {
      doc = FromToml(toml::parse(text, path));
    } catch (const toml::parse_error& e) {
      return Status{StatusCode::kInvalidArgument,
                    path + ":" + std::to_string(e.source().begin.line) + ": " +
                        std::string(e.description())};
    }
  } else {
    doc = json::parse(text, nullptr, false);
    if (doc.is_discarded())
      return Status{StatusCode::kInvalidArgument, path + ": not valid JSON (a .toml name reads "
                                                         "it as TOML)"};
  }
  SupervisorNode top;
  Reader reader(path);
  if (Status s = reader.Node(doc, "", true, &top); !s.ok()) {
    if (s.message().rfind(path + ": : ", 0) == 0)  // the document itself
      return Status{s.code(), path + ": " + s.message().substr(path.size() + 4)};
    return s;
  }
  if (const int levels = TreeLevels(top); levels > kMaxTreeLevels)
    return Status{StatusCode::kInvalidArgument,
                  path + ": the tree is " + std::to_string(levels) + " levels of supervisors deep (" +
                      DeepestBranch(top) + "); slate runs at most " +
                      std::to_string(kMaxTreeLevels) +
                      ": each level adds latency and loses information on the way up"};
  std::map<std::string, std::string> teams;  // capability -> where
  uint32_t workers = 0;
  for (const TeamSpec& t : Teams(top)) {
    if (auto [it, fresh] = teams.emplace(t.team, t.path); !fresh)
      return Status{StatusCode::kInvalidArgument,
                    path + ": " + t.path + ".capability: '" + t.team + "' also names " +
                        it->second + "; each sub-supervisor leads a team of its own name"};
    for (const auto& g : t.workers) workers += g.count;
  }
  for (const auto& g : top.workers) workers += g.count;
  if (workers > kMaxWorkers)
    return Status{StatusCode::kInvalidArgument,
                  path + ": " + std::to_string(workers) + " workers in the tree; at most " +
                      std::to_string(kMaxWorkers) + " in a group"};
  return top;
}

std::vector<TeamSpec> Teams(const SupervisorNode& top) {
  std::vector<TeamSpec> out;
  struct Visit {
    const SupervisorNode* node;
    std::string path;
  };
  std::vector<Visit> level = {{&top, ""}};
  while (!level.empty()) {  // breadth first: parents before their children
    std::vector<Visit> next;
    for (const Visit& v : level)
      for (size_t i = 0; i < v.node->children.size(); ++i) {
        const SupervisorNode& c = v.node->children[i];
        const std::string at =
            (v.path.empty() ? "" : v.path + ".") + "children[" + std::to_string(i) + "]";
        out.push_back({c.capability, v.node->capability, c.decompose, c.synthesize, c.workers, at});
        next.push_back({&c, at});
      }
    level = std::move(next);
  }
  return out;
}

std::vector<std::string> TeamSupervisorArgv(const std::string& bin, const TeamSpec& t,
                                            const std::vector<std::string>& tuning) {
  std::vector<std::string> argv = {bin + "/slate-supervisor", "--team", t.team};
  argv.insert(argv.end(), tuning.begin(), tuning.end());
  if (!t.parent.empty()) argv.insert(argv.end(), {"--parent-team", t.parent});
  if (!t.decompose.empty()) argv.insert(argv.end(), {"--decompose", t.decompose});
  if (!t.synthesize.empty()) argv.insert(argv.end(), {"--synthesize", t.synthesize});
  return argv;
}

Result<SupervisorNode> ReadGroupFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status{StatusCode::kNotFound, path + ": cannot open the group file"};
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  return ParseGroupFile(path, text);
}

Status CheckSupervisorArgs(const std::vector<std::string>& args,
                           const std::vector<std::string>& set_by_launch) {
  for (const std::string& a : args) {
    if (a.rfind("--", 0) != 0) continue;
    const std::string name = a.substr(2, a.find('=') - 2);  // to '=', or the end
    if (std::find(set_by_launch.begin(), set_by_launch.end(), name) != set_by_launch.end())
      return Status{StatusCode::kInvalidArgument,
                    "--supervisor-arg '" + a + "': slate-launch passes --" + name +
                        " to slate-supervisor itself (give it to slate-launch, if it has it)"};
  }
  return Status::Ok();
}

Result<std::vector<WorkerGroupSpec>> WorkerGroupsFromFlags(
    uint32_t workers, const std::vector<std::string>& capabilities,
    const std::vector<std::string>& worker_specs, const WorkerFlags& flags) {
  std::vector<WorkerGroupSpec> groups;
  if (workers > 0) groups.push_back({workers, capabilities, flags});
  for (const auto& spec : worker_specs) {
    const auto colon = spec.find(':');
    WorkerGroupSpec g{0, {}, flags};
    const std::string count = spec.substr(0, colon);
    if (count.empty() || count.find_first_not_of("0123456789") != std::string::npos ||
        count.size() > 3)
      return Status{StatusCode::kInvalidArgument,
                    "--worker-group '" + spec + "' is not N:cap1,cap2"};
    g.count = static_cast<uint32_t>(std::stoul(count));
    if (colon != std::string::npos) {
      const std::string caps = spec.substr(colon + 1);
      size_t pos = 0;
      while (pos <= caps.size()) {
        const size_t comma = std::min(caps.find(',', pos), caps.size());
        if (comma > pos) g.capabilities.push_back(caps.substr(pos, comma - pos));
        pos = comma + 1;
      }
    }
    groups.push_back(std::move(g));
  }
  uint32_t total = 0;
  for (const auto& g : groups) total += g.count;
  if (total == 0 || total > 512)
    return Status{StatusCode::kInvalidArgument, "the group needs 1 to 512 workers"};
  return groups;
}

}  // namespace slate::launch
