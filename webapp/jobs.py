"""Background work: an in-process thread pool, or RQ on Redis when REDIS_URL is set.

Durable state lives in the store, so a job lost with its process is found again by the sweeper
(`Services.resume`) and carried on. A job that raises is logged (on RQ, also kept in RQ's failed
list); the work it claimed is put back for the sweep (`webapp.services.work.AstriaWork.claimed`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextvars import ContextVar
from typing import Protocol

log = logging.getLogger("jobs")

# True while a background job or sweep runs: such code may wait (e.g. for Telegram's
# retry_after), where a request must answer at once.
in_background: ContextVar[bool] = ContextVar("in_background", default=False)


class Background(Protocol):
    """What the services need of background work: `Jobs` (a thread pool) or `QueuedJobs` (RQ)."""

    @property
    def stopping(self) -> bool:
        """True once the process takes no new work."""

    def submit(self, name: str, fn: Callable, *args) -> object:
        """Run fn(*args) in the background (with RQ, fn must be a service method)."""

    def submit_optional(self, name: str, fn: Callable, *args) -> object | None:
        """Run work that may be dropped; None when it was."""

    def wait_idle(self, timeout: float = 30.0, here_only: bool = False) -> bool:
        """Wait until no job is running; True when idle. here_only: this process's own jobs
        only (what waits in Redis is kept there for the workers, whatever this process does)."""

    def shutdown(self) -> None:
        """Stop taking work."""


class ShuttingDown(RuntimeError):
    """The process is stopping and takes no new background work (answer 503: try later)."""


class Jobs:
    """Runs callables off the request thread and keeps track of what is still running.

    Work that matters (uploads, prompts, albums) has the main pool. Courtesies that may be
    dropped (the check of a chat photo) have a small pool of their own with a bounded queue, so
    a slow Astria or a crowd sending photos never delays the work users paid for."""

    def __init__(self, workers: int = 4, optional_workers: int = 2, optional_queue: int = 32):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._optional = ThreadPoolExecutor(optional_workers, thread_name_prefix="optional")
        self._optional_queue = optional_queue
        self._running: set[Future] = set()
        self._optional_running = 0
        self._lock = threading.Lock()
        self.stopping = False  # set by shutdown(): no new work is taken

    def submit(self, name: str, fn: Callable, *args) -> Future:
        """Run fn(*args) in the background; an exception is logged, never lost silently."""
        return self._submit(self._pool, name, fn, args)

    def submit_optional(self, name: str, fn: Callable, *args) -> Future | None:
        """Run fn(*args) on the pool of work that may be dropped; None (logged) when that
        pool already has its fill waiting."""
        with self._lock:
            if self._optional_running >= self._optional_queue:
                log.warning(
                    "job %s dropped: %s optional jobs waiting", name, self._optional_running
                )
                return None
            self._optional_running += 1
        try:
            future = self._submit(self._optional, name, fn, args)
        except ShuttingDown:
            with self._lock:
                self._optional_running -= 1
            raise
        future.add_done_callback(self._optional_done)
        return future

    def _submit(self, pool: ThreadPoolExecutor, name: str, fn: Callable, args: tuple) -> Future:
        try:
            future = pool.submit(self._run, name, fn, args)
        except RuntimeError:  # the pool is shut down: the process is stopping
            raise ShuttingDown(f"not starting {name}: the process is stopping") from None
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future

    def _optional_done(self, _future: Future) -> None:
        with self._lock:
            self._optional_running -= 1

    @staticmethod
    def _run(name: str, fn: Callable, args: tuple) -> None:
        in_background.set(True)
        try:
            fn(*args)
        except Exception:
            log.exception("job %s failed", name)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._running.discard(future)

    def wait_idle(self, timeout: float = 30.0, here_only: bool = False) -> bool:
        """Wait until no job is running (jobs may start others; all of them run here); True
        when idle."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                with self._lock:
                    running = list(self._running)
                if not running:
                    return True
                wait(running, timeout=0.5)
            return False
        finally:
            timer.cancel()

    def shutdown(self) -> None:
        """Stop taking work and let running jobs finish."""
        self.stopping = True
        self._optional.shutdown(wait=False, cancel_futures=True)  # may be dropped: not waited for
        self._pool.shutdown(wait=True, cancel_futures=False)


class Heartbeat:
    """Keeps a claim in the store alive while its job runs: `renew()` every `every` seconds on
    a thread of its own, from the `with` block's start until its end or `stop()`. A process that
    dies stops renewing, so its claim runs out within one lease and the sweep takes the work
    over, however long the job itself may take."""

    def __init__(self, renew: Callable[[], None], every: float, name: str) -> None:
        self._renew = renew
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease {name}", daemon=True)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def start(self) -> Heartbeat:
        """Begin renewing (without `with`: until `stop()`)."""
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._renew()
            except Exception as exc:  # the store is down now: the next beat tries again
                log.warning("%s: claim not renewed (%s)", self._thread.name, type(exc).__name__)

    def stop(self) -> None:
        """Renew no more; returns once no renewal is under way (the claim may be rewritten)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


class Sweeper:
    """Calls `fn` every `interval` seconds on a daemon thread, so stuck work gets picked up."""

    def __init__(self, interval: float, fn: Callable[[], None]) -> None:
        self._interval = interval
        self._fn = fn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)

    def start(self) -> None:
        """Begin sweeping."""
        self._thread.start()

    def _loop(self) -> None:
        in_background.set(True)
        while not self._stop.wait(self._interval):
            try:
                self._fn()
            except Exception:
                log.exception("sweep failed")

    def stop(self) -> None:
        """Stop sweeping."""
        self._stop.set()


# Durable jobs on Redis ------------------------------------------------------------------------

QUEUE = "astria-bot"  # the work users paid for: uploads, prompts, albums
OPTIONAL_QUEUE = "astria-bot-optional"  # courtesies that may be dropped: photo checks
# The services whose methods run as jobs, by their name in Services: a job is "<name>.<method>"
# with plain arguments (ids), so any process of the app can run it.
TASK_OWNERS = ("training", "generations", "callbacks", "checks")
# Well past a job's longest honest run (an upload of 4 photos through Astria's retries; an
# album held by a 429 is not waited for). Past it RQ stops the job (an exception in the job);
# its work is tried again like any job that raised. Jobs renew their claim meanwhile.
JOB_TIMEOUT = 15 * 60
FAILURE_TTL = 7 * 24 * 3600  # failed jobs are kept a week for operators to read (rq info)
# A finished job's record expires after a minute. (Not 0: RQ then deletes it at once, and after
# a worker was killed -9 its clean-up could find the record already gone and log a traceback
# for a job that had succeeded, seen once in CI.)
RESULT_TTL = 60
WORKER_TTL = 60  # RQ's worker heartbeat: it waits for a job 45 s at a time (this minus 15)
# A worker's Redis calls time out after this: longer than its wait for a job, so a Redis that
# accepts connections but never answers is noticed within a minute, not never.
WORKER_SOCKET_TIMEOUT = WORKER_TTL + 5


def run_task(task: str, *args) -> None:
    """What an RQ worker runs: the service method `task` ("training.upload") of this process's
    app with `args`. Every such method is idempotent: it claims its work in the store first.
    It needs the app (`flask --app wsgi worker`); a bare `rq worker` cannot run it."""
    from webapp.runtime import runtime

    owner, _, method = task.partition(".")
    in_background.set(True)
    getattr(getattr(runtime().services, owner), method)(*args)


class QueuedJobs:
    """Jobs on RQ (REDIS_URL): they outlive the process that queued them and are run by
    `flask --app wsgi worker`. A job names a service method and its ids, never objects or
    photo bytes. RQ does not retry a job: its work is claimed in the store, and a job that
    raised or died leaves that claim to run out, for the sweep to queue it again (the same
    retry as without Redis; see `webapp.services.work.AstriaWork.claimed`). When Redis cannot
    take a job, it runs in this process instead (logged): a request is never refused for it,
    and the store's claims keep a job from running twice."""

    def __init__(self, redis_url: str, local: Jobs, optional_queue: int = 32) -> None:
        from redis import Redis
        from rq import Queue

        from webapp.backoff import Backoff
        from webapp.settings import REDIS_TIMEOUTS

        self.redis = Redis.from_url(redis_url, **REDIS_TIMEOUTS)
        self.redis_backoff = Backoff()  # Redis did not answer: jobs run here for a while
        self.queue = Queue(QUEUE, connection=self.redis)
        self.optional = Queue(OPTIONAL_QUEUE, connection=self.redis)
        self.local = local
        self._optional_limit = optional_queue
        self._owners: dict[int, str] = {}

    @property
    def stopping(self) -> bool:
        return self.local.stopping

    def bind(self, services) -> None:
        """Learn which service is which (once, when the services are built)."""
        self._owners = {id(getattr(services, name)): name for name in TASK_OWNERS}

    def _task(self, fn: Callable) -> str:
        owner = self._owners.get(id(getattr(fn, "__self__", None)))
        if owner is None:
            raise TypeError(f"{fn!r} is not a method of a service: it cannot be queued")
        return f"{owner}.{fn.__name__}"

    def _enqueue(self, queue, name: str, fn: Callable, args: tuple):
        from redis.exceptions import RedisError
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        task = self._task(fn)
        if not self.redis_backoff.up():
            return None
        # A job on one piece of work (ids only) has a name of its own: while one waits in the
        # queue, the sweeps of every process add no other (no pile-up while no worker runs).
        # One that started may be a killed worker's: then another is queued beside it.
        job_id = None
        if args and all(isinstance(a, int) for a in args):
            job_id = "-".join([task.replace(".", "_"), *map(str, args)])
        try:
            if job_id is not None:
                try:
                    waiting = Job.fetch(job_id, connection=self.redis)
                except NoSuchJobError:
                    waiting = None
                status = waiting.get_status() if waiting is not None else None
                # queued, and truly in the queue (a worker killed as it took a job leaves it
                # "queued" but out of the list)
                if status == JobStatus.QUEUED and self.redis.lpos(queue.key, job_id) is not None:
                    return waiting
                if status in (JobStatus.QUEUED, JobStatus.STARTED):
                    job_id = None  # that one may be a dead worker's: this one runs beside it
            return queue.enqueue(
                run_task,
                task,
                *args,
                job_id=job_id,
                description=name,
                job_timeout=JOB_TIMEOUT,
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
            )
        except RedisError as exc:
            if self.redis_backoff.failed():
                log.warning(
                    "Redis did not take job %s (%s): jobs run in this process for %ss",
                    name,
                    type(exc).__name__,
                    self.redis_backoff.seconds,
                )
            return None

    def submit(self, name: str, fn: Callable, *args):
        """Queue fn(*args) for a worker (fn a service method, args plain values)."""
        if self.local.stopping:
            raise ShuttingDown(f"not starting {name}: the process is stopping")
        job = self._enqueue(self.queue, name, fn, args)
        return self.local.submit(name, fn, *args) if job is None else job

    def submit_optional(self, name: str, fn: Callable, *args):
        """Queue work that may be dropped; None (logged) when its queue is full or Redis down."""
        from redis.exceptions import RedisError

        if not self.redis_backoff.up():  # a courtesy is not worth a thread here while Redis is down
            log.info("job %s dropped: Redis did not answer a moment ago", name)
            return None
        try:
            waiting = self.optional.count
        except RedisError as exc:
            self.redis_backoff.failed()
            log.warning("job %s dropped: Redis did not answer (%s)", name, type(exc).__name__)
            return None
        if waiting >= self._optional_limit:
            log.warning("job %s dropped: %s optional jobs waiting", name, waiting)
            return None
        return self._enqueue(self.optional, name, fn, args)

    def wait_idle(self, timeout: float = 30.0, here_only: bool = False) -> bool:
        """Wait until no job is queued or running here or on the workers (here_only: here; a
        job a killed worker held stays "started" in Redis for minutes); True when idle."""
        from rq.registry import StartedJobRegistry

        if here_only:
            return self.local.wait_idle(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = any(
                q.count or StartedJobRegistry(queue=q).count for q in (self.queue, self.optional)
            )
            if not busy and self.local.wait_idle(0.1):
                return True
            time.sleep(0.1)
        return False

    def shutdown(self) -> None:
        """Stop taking work; what is queued waits in Redis for the workers."""
        self.local.shutdown()


def _reconnecting(record: logging.LogRecord) -> bool:
    """RQ logs each failed reconnection as an error; a Redis that comes back by itself is a
    warning (an error would page the operator every second of a restart)."""
    if record.levelno == logging.ERROR and "could not connect to Redis" in record.getMessage():
        record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


QUEUES = {"all": (QUEUE, OPTIONAL_QUEUE), "paid": (QUEUE,), "checks": (OPTIONAL_QUEUE,)}
REDIS_WAIT = 5.0  # seconds between tries while Redis does not answer


def run_worker(redis_url: str, burst: bool = False, queues: str = "all") -> None:
    """Run an RQ worker for this app's `queues` ("all": the paid work first, then photo checks;
    "paid" or "checks" alone) in this process: one job at a time, in the process's app (no fork
    per job: the app, its connections and its Telegram outbox are made once). Run several for
    more at once. While Redis does not answer, it waits and tries again (a burst run stops)."""
    from redis import Redis
    from redis.exceptions import ConnectionError, TimeoutError
    from rq import Queue, SimpleWorker

    connection = Redis.from_url(
        redis_url, socket_connect_timeout=2, socket_timeout=WORKER_SOCKET_TIMEOUT
    )
    logging.getLogger("rq.worker").addFilter(_reconnecting)
    names = QUEUES[queues]
    while True:
        try:
            worker = SimpleWorker(
                [Queue(name, connection=connection) for name in names],
                connection=connection,
                worker_ttl=WORKER_TTL,
            )
            # no scheduler: nothing is queued for later (the sweep does every retry)
            worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
            return
        except (ConnectionError, TimeoutError) as exc:
            if burst:
                raise
            log.warning("Redis does not answer (%s); trying again in %ss", type(exc).__name__,
                        REDIS_WAIT)  # fmt: skip
            time.sleep(REDIS_WAIT)
