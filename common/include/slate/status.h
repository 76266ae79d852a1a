// Status and Result<T>: the error currency of the pool library.
//
// Nothing in common/ throws across its public API: every fallible call returns
// a Status or a Result<T>, both [[nodiscard]]. Messages are one line, name the
// pool or object involved, and are meant to be shown to a user as they are.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace slate {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // caller passed something the contract forbids
  kNotFound,         // no such pool, entry, task or agent
  kAlreadyExists,    // pool name or agent name taken
  kPermissionDenied, // region owned by another user, or mode unsafe
  kIncompatible,     // wrong magic, layout version or size
  kPoolFull,         // nothing evictable is left: back off and retry
  kStaleEpoch,       // fencing: the claim was superseded; result refused
  kWrongState,       // task or entry is not in a state that allows this
  kReadOnly,         // a mutation through a read-only attachment
  kTimedOut,         // a wait or snapshot did not finish in time
  kCorrupt,          // the region failed validation
  kIoError,          // an OS call failed
  kStaleTerm,        // fencing: a supervisor's term is over; change refused
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", or "ok".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-ok Status. REQUIRES for value(): ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: as above

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  // On a temporary, by value: `for (auto& e : *pool->Find(q))` must not
  // iterate a vector that died with its Result.
  T value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T operator*() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace slate
