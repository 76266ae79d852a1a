"""What the three agents share: the pool, and a deterministic stand-in for
the language model, so the example runs offline and its output is exact."""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_PYTHON = os.path.join(HERE, "..", "..", "..", "build", "python")
if os.path.isdir(BUILD_PYTHON):  # run from the source tree
    sys.path.insert(0, os.path.abspath(BUILD_PYTHON))

from slate.kaizen import SharedMemoryPool  # noqa: E402


def pool(name):
    return SharedMemoryPool(name)


class StandInModel:
    """Answers as a model would, from the prompt alone: the same prompt
    gives the same answer."""

    def decompose(self, request, n):
        return [f"Part {i + 1} of {n}: {request}" for i in range(n)]

    def execute(self, task):
        digest = hashlib.sha256(task.encode()).hexdigest()[:8]
        return f"done [{digest}] {task}"

    def synthesize(self, results):
        return f"{len(results)} parts: " + " | ".join(r.split("] ", 1)[0] + "]" for r in results)
