"""slate: a shared-memory blackboard for supervisor/worker process groups.

A worker in a few lines::

    import slate

    def shout(task):
        return {"text": task.payload["text"].upper()}

    slate.serve(shout, pool="work", capabilities=["shout"])

and a client::

    doc = slate.submit("work", "request.jsonl", priority=50)
    for item in slate.results("work", slate.submit("work", "more.jsonl", wait=False)):
        print(item["index"], item["status"])

or, staying attached to the pool across requests::

    with slate.Client("work") as client:
        doc = client.submit("request.jsonl")

The native part is slate._slate, built from this tree by CMake with
pybind11; with the build at build/, PYTHONPATH=build/python finds it.
"""
from ._slate import (AgentRef, Client, Error, Pool, ResultStream, Task, results, serve,
                     submit)

__all__ = ["AgentRef", "Client", "Error", "Pool", "ResultStream", "Task", "results", "serve",
           "submit"]
