"""slate: a shared-memory blackboard for supervisor/worker process groups.

A worker in a few lines::

    import slate

    def shout(task):
        return {"text": task.payload["text"].upper()}

    slate.serve(shout, pool="work", capabilities=["shout"])

and a client::

    doc = slate.submit("work", "request.jsonl", priority=50)

The native part is slate._slate, built from this tree by CMake with
pybind11; with the build at build/, PYTHONPATH=build/python finds it.
"""
from ._slate import Error, Task, serve, submit

__all__ = ["Error", "Task", "serve", "submit"]
