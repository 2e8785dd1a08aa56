"""`rapport serve` runs the web server, a worker and the scheduler together on one machine."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return response.status, response.read()


@pytest.fixture
def served(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env["RAPPORT_HOME"] = str(tmp_path)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rapport.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if _get(f"{base}/login/")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        os.killpg(process.pid, signal.SIGTERM)
        pytest.fail("rapport serve did not answer within 90 s: "
                    + process.stdout.read().decode(errors="replace")[-2000:])
    yield base, env
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_serve_answers_pages_static_files_and_runs_background_jobs(served):
    base, env = served
    status, body = _get(f"{base}/login/")
    assert status == 200 and b"Log in to Rapport" in body
    status, css = _get(f"{base}/static/web/rapport.css")
    assert status == 200 and b"--brand" in css
    # The scheduler enqueues the periodic purge at start; the worker runs it.
    check = ("from django_tasks_db.models import DBTaskResult; "
             "print(sorted(set(DBTaskResult.objects.values_list('status', flat=True))))")
    deadline = time.monotonic() + 60
    statuses = ""
    while time.monotonic() < deadline:
        statuses = subprocess.run(
            [sys.executable, "-m", "rapport.cli", "shell", "--no-imports", "-c", check],
            env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        if statuses == "['SUCCESSFUL']":
            break
        time.sleep(1)
    assert statuses == "['SUCCESSFUL']"


def _post(base: str, body: bytes, *, chunked: bool) -> tuple[int, dict]:
    """A POST as a client that sends the whole body before it reads the answer."""
    import http.client
    import json

    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer x"}
    if chunked:
        connection.request("POST", "/api/v1/contacts", body=iter([body[i:i + 65536] for i in
                                                                  range(0, len(body), 65536)]),
                           headers=headers, encode_chunked=True)
    else:
        connection.request("POST", "/api/v1/contacts", body=body, headers=headers)
    response = connection.getresponse()
    answer = (response.status, json.loads(response.read()))
    connection.close()
    return answer


def test_an_oversized_body_gets_a_clean_413_with_or_without_a_length(served):
    base, _env = served
    five_megabytes = b'{"first_name": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    for chunked in (False, True):
        status, body = _post(base, five_megabytes, chunked=chunked)
        assert status == 413, chunked
        assert "request body too large" in body["detail"]
    # A small chunked body still reaches the API (and is judged there: no token here).
    status, body = _post(base, b'{"first_name": "Anna"}', chunked=True)
    assert status == 401
