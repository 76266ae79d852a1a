// SLATE_PROFILED marks a function that scripts/count-instructions.sh counts
// by name (one operation's work under the pool lock, or a bench role). It
// stays out of line, so a link-time-optimised build still has it as one
// function; a call costs a few instructions against the hundreds inside.
#pragma once

#define SLATE_PROFILED [[gnu::noinline]]
