"""A background task runs end to end on both queue backends, in real worker processes."""

import os
import pathlib

import pytest

from rapport.core.tests.processes import home_env, rapport, shell

ENQUEUE = (
    "from rapport.core.tasks import heartbeat; r = heartbeat.enqueue(note='{note}'); print(r.id)"
)
RESULT = (
    "from rapport.core.tasks import heartbeat; r = heartbeat.get_result('{id}'); "
    "print(r.status, r.return_value if r.is_finished else None)"
)


def _shell(code, env):
    return shell(code, env)[-1]


@pytest.fixture
def home(tmp_path: pathlib.Path):
    return home_env(tmp_path)


def _round_trip(env, worker_args):
    task_id = _shell(ENQUEUE.format(note="e2e"), env)
    before = _shell(RESULT.format(id=task_id), env)
    rapport(["worker", *worker_args], env)
    after = _shell(RESULT.format(id=task_id), env)
    return before, after


def test_database_backend_worker_runs_the_task(home):
    before, after = _round_trip(home, ["--max-tasks", "1"])
    assert before == "READY None"
    assert after == "SUCCESSFUL ok e2e"


def test_rq_backend_worker_runs_the_task(home):
    redis_url = os.environ.get("RAPPORT_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("set RAPPORT_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run on RQ")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {**home, "REDIS_URL": redis_url}
    before, after = _round_trip(env, ["--burst"])
    assert before.split()[0] in ("READY", "QUEUED")
    assert after == "SUCCESSFUL ok e2e"
