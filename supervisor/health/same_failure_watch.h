// Fail fast: a request whose tasks every worker fails the same way stops
// at once, instead of each task being retried on each worker through the
// circuit breakers' cool-downs (twenty tasks of a broken command took
// minutes to end, every one with the same error).
//
// "The same way": one error text on two or more distinct tasks of the
// request, before any task of it succeeded, and every live worker that
// can take them failed them, each on two or more tasks, or on one with a
// task that then failed its retry too. An error every worker met just
// once at the same moment (a blip) is retried. A different error, or a
// success, disarms the watch for the rest of the request.
//
// In memory only: a replacement supervisor watches afresh (stopping is
// then only later). The decision, once taken, is in the request's record
// (RequestRecord::failed_fast) before anything is cancelled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "slate/task.h"

namespace slate::supervisor {

class SameFailureWatch {
 public:
  // Notes one failed attempt (the task's `attempt`-th) of a task of the
  // request. True when the failures so far are one error on two or more
  // tasks: time to ask Convinced() of the workers that could take them.
  bool Note(TaskId task, uint32_t attempt, const std::string& worker, const std::string& error);
  // Whether `able`, every live worker that can take the tasks, failed them
  // as the header says. REQUIRES: Note() returned true.
  bool Convinced(const std::set<std::string>& able) const;
  void Disarm() { disarmed_ = true; }

  const std::string& error() const { return error_; }
  size_t tasks() const { return tasks_.size(); }

 private:
  bool disarmed_ = false;
  std::string error_;  // the first failure's
  std::set<TaskId> tasks_;
  std::map<std::string, std::set<TaskId>> by_worker_;
  bool retried_ = false;  // a task failed a second attempt with error_
};

}  // namespace slate::supervisor
