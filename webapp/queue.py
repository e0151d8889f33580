"""Durable jobs on Redis (REDIS_URL) with RQ: queueing (`QueuedJobs`, a `webapp.jobs.Background`
the factory hands the services), the task a worker runs (`run_task`) and the worker itself
(`run_worker`, `flask --app wsgi worker`). The edge of the app: only the factory and the CLI
import it, and it alone reaches back to the running app (to find the service a task names)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import Redis

from webapp.backoff import Backoff
from webapp.jobs import Jobs, ShuttingDown, in_background
from webapp.runtime import runtime

log = logging.getLogger("jobs")

QUEUE = "astria-bot"  # the work users paid for: uploads, prompts, albums
OPTIONAL_QUEUE = "astria-bot-optional"  # courtesies that may be dropped: photo checks
# The services whose methods run as jobs, by their name in Services: a job is "<name>.<method>"
# with plain arguments (ids), so any process of the app can run it.
TASK_OWNERS = ("training", "generations", "callbacks", "checks", "shoots", "likes")
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

    def __init__(self, redis: Redis, local: Jobs, optional_queue: int = 32) -> None:
        from rq import Queue

        self.redis = redis
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
