#include "slate/internal/records.h"

#include <msgpack.hpp>

namespace slate::internal {
namespace {

class MapPacker {
 public:
  explicit MapPacker(uint32_t n) : pk_(buf_) { pk_.pack_map(n); }
  MapPacker& Int(const char* k, int64_t v) {
    pk_.pack(k);
    pk_.pack(v);
    return *this;
  }
  MapPacker& Str(const char* k, const std::string& v) {
    pk_.pack(k);
    pk_.pack(v.size() <= kMaxErrorText ? v : v.substr(0, kMaxErrorText));
    return *this;
  }
  // An array of already packed msgpack objects.
  MapPacker& Raw(const char* k, const std::vector<std::vector<uint8_t>>& items) {
    pk_.pack(k);
    pk_.pack_array(static_cast<uint32_t>(items.size()));
    for (const auto& it : items)
      buf_.write(reinterpret_cast<const char*>(it.data()), it.size());
    return *this;
  }
  MapPacker& Strs(const char* k, const std::vector<std::string>& v) {
    pk_.pack(k);
    pk_.pack(v);
    return *this;
  }
  std::vector<uint8_t> Done() const {
    const auto* p = reinterpret_cast<const uint8_t*>(buf_.data());
    return {p, p + buf_.size()};
  }

 private:
  msgpack::sbuffer buf_;
  msgpack::packer<msgpack::sbuffer> pk_;
};

}  // namespace

std::vector<uint8_t> StaleRecord(const char* op, uint64_t task, uint32_t epoch,
                                 uint32_t current_epoch, const char* state,
                                 const std::string& holder,
                                 const std::string& refused) {
  return MapPacker(8)
      .Str("kind", "stale_epoch")
      .Str("op", op)
      .Int("task", static_cast<int64_t>(task))
      .Int("epoch", epoch)
      .Int("current_epoch", current_epoch)
      .Str("state", state)
      .Str("holder", holder)
      .Str("refused", refused)
      .Done();
}

std::vector<uint8_t> StaleTermRecord(uint64_t term, uint64_t current_term,
                                     const std::string& holder,
                                     const std::string& refused) {
  return MapPacker(5)
      .Str("kind", "stale_term")
      .Int("term", static_cast<int64_t>(term))
      .Int("current_term", static_cast<int64_t>(current_term))
      .Str("holder", holder)
      .Str("refused", refused)
      .Done();
}

std::vector<uint8_t> AttemptRecord(const char* kind, uint64_t task, uint32_t attempt,
                                   const std::string& agent, const std::string& error,
                                   int64_t started_ns, int64_t ended_ns) {
  return MapPacker(7)
      .Str("kind", kind)
      .Int("task", static_cast<int64_t>(task))
      .Int("attempt", attempt)
      .Str("agent", agent)
      .Str("error", error)
      .Int("started_ns", started_ns)
      .Int("ended_ns", ended_ns)
      .Done();
}

std::vector<uint8_t> DeadLetterRecord(const char* kind, uint64_t task, uint32_t attempts,
                                      const std::string& last_agent,
                                      const std::string& reason,
                                      const std::vector<std::vector<uint8_t>>& history) {
  MapPacker m(6);
  m.Str("kind", kind)
      .Int("task", static_cast<int64_t>(task))
      .Int("attempts", attempts)
      .Str("last_agent", last_agent)
      .Str("reason", reason)
      .Raw("history", history);
  return m.Done();
}

std::vector<uint8_t> AgentEntryRecord(const std::string& name, int32_t pid,
                                      const std::vector<std::string>& caps) {
  return MapPacker(4)
      .Str("kind", "agent")
      .Str("name", name)
      .Int("pid", pid)
      .Strs("capabilities", caps)
      .Done();
}

}  // namespace slate::internal
