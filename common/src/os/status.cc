#include "slate/status.h"

namespace slate {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kPermissionDenied: return "permission denied";
    case StatusCode::kIncompatible: return "incompatible";
    case StatusCode::kPoolFull: return "pool full";
    case StatusCode::kStaleEpoch: return "stale epoch";
    case StatusCode::kStaleTerm: return "stale term";
    case StatusCode::kWrongState: return "wrong state";
    case StatusCode::kReadOnly: return "read-only";
    case StatusCode::kTimedOut: return "timed out";
    case StatusCode::kCorrupt: return "corrupt";
    case StatusCode::kIoError: return "i/o error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace slate
