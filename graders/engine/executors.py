"""Where a batch's tasks run: threads on this machine, or a Dask cluster.

Both run the same function, batch_task.grade_task, which starts one grading process per
submission, so the results do not depend on the executor. Tasks are handed out a few at a time
(each carries a submission's bytes), and results come back in the order they finish.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from itertools import islice

from graders.engine.batch_task import STAFF_DETAIL_CHARS, grade_task, outcome
from graders.engine.zygote import Zygote


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LocalExecutor:
    """`workers` grading processes at a time on this machine, each slot with a zygote and a thread."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.description = f"{workers} local worker{'s' if workers != 1 else ''}"

    def run(self, tasks: Iterable[dict]) -> Iterator[dict]:
        """Outcomes as they finish; leaving the loop early stops the grading processes still running."""
        tasks, stop, idle = iter(tasks), threading.Event(), queue.SimpleQueue()

        def slot(task: dict) -> dict:
            # A zygote per slot and assignment, started on first use and reused by the next task.
            zygote = idle.get()
            try:
                if zygote.assignment != task["assignment"]:
                    zygote.close()
                    zygote.assignment = task["assignment"]
                return grade_task(task, stop, zygote)
            finally:
                idle.put(zygote)

        slots = [Zygote("") for _ in range(self.workers)]
        for zygote in slots:
            idle.put(zygote)
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="nngrade-batch") as pool:
                running = {pool.submit(slot, t) for t in islice(tasks, self.workers)}
                try:
                    while running:
                        finished, running = wait(running, return_when=FIRST_COMPLETED)
                        running |= {pool.submit(slot, t) for t in islice(tasks, len(finished))}
                        for future in finished:
                            yield future.result()  # grade_task never raises
                finally:
                    stop.set()  # an interrupted or abandoned loop: stop the grading processes still running
        finally:
            for zygote in slots:
                zygote.close()

    def close(self) -> None:
        """Nothing outlives run(); here for symmetry with DaskExecutor."""

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class DaskExecutor:
    """Tasks on a Dask distributed cluster: an existing scheduler, or a LocalCluster started here.

    Every worker must have nngrade (and the same grader) installed; each outcome carries the
    worker's grader fingerprint, and the batch refuses results graded by a different grader.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        from distributed import Client, LocalCluster  # imported only for Dask runs: it takes a second

        self.cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="30s")
            self.description = f"Dask scheduler {scheduler}"
        else:
            workers = workers or default_workers()
            # One thread per worker process: each task is a grading process of its own, and the
            # dashboard is off so that a busy port never stops a batch.
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
            self.description = f"Dask LocalCluster, {workers} worker{'s' if workers != 1 else ''}"

    def _slots(self) -> int:
        return max(sum(self.client.nthreads().values()), 1)

    def run(self, tasks: Iterable[dict]) -> Iterator[dict]:
        """Outcomes as they finish; a task the cluster lost (a worker died) becomes `crashed`."""
        from distributed import as_completed

        tasks = iter(tasks)
        keys = {}

        def submit(task: dict):
            future = self.client.submit(grade_task, task, pure=False)
            keys[future.key] = task["key"]
            return future

        queue = as_completed([submit(t) for t in islice(tasks, 2 * self._slots())])
        for future in queue:
            for task in islice(tasks, 1):
                queue.add(submit(task))
            try:
                result = future.result()
            except Exception:
                detail = "the Dask cluster could not run this task:\n" + traceback.format_exc()
                result = outcome(keys[future.key], "crashed", message=detail[-STAFF_DETAIL_CHARS:])
            finally:
                future.release()
            yield result

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
