"""The Dockerfile, checked without a Docker engine (there is none here):
hadolint, the build context .dockerignore leaves, the package the builder
stage installs from it, the build-time collectstatic, and the entry point's
commands."""

from __future__ import annotations

import os
import re
import shlex
import stat
import zipfile
from pathlib import Path

from tests.deploy.conftest import REPO, run, tool

DOCKERFILE = (REPO / "Dockerfile").read_text()


def stages() -> dict[str, str]:
    """Stage name -> its instructions."""
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\w+)\s*$", DOCKERFILE, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def instruction_args(text: str, keyword: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    return re.findall(rf"^{keyword}\s+(.+)$", joined, flags=re.M)


def test_hadolint_passes():
    result = run([tool("hadolint"), str(REPO / "Dockerfile")])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_is_not_silent(tmp_path: Path):
    # The control: the same call reports a latest tag and a root user.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nUSER root\nRUN pip install requests\n")
    result = run([tool("hadolint"), str(bad)])
    assert result.returncode == 1
    assert "DL3007" in result.stdout and "DL3002" in result.stdout


def test_the_image_is_built_in_two_stages_without_compilers_at_runtime():
    found = stages()
    assert list(found) == ["builder", "runtime"]
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim", DOCKERFILE, re.M)
    builder, runtime = found["builder"], found["runtime"]
    assert "default-libmysqlclient-dev" in builder and "build-essential" in builder
    for compiler_bit in ("build-essential", "-dev", "gcc", "pkg-config"):
        assert compiler_bit not in runtime, compiler_bit
    assert "libmariadb3" in runtime
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    (user,) = instruction_args(runtime, "USER")
    assert user.split(":")[0] not in ("0", "root")
    assert instruction_args(runtime, "HEALTHCHECK")
    assert instruction_args(runtime, "ENTRYPOINT") == ['["/app/docker/entrypoint.sh"]']
    assert instruction_args(runtime, "CMD") == ['["web"]']
    assert "collectstatic" in runtime


# --- the build context ---------------------------------------------------------


def dockerignore_excluded(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent
    directories decides; `!` re-includes; `**` spans directories."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def build_context() -> list[str]:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    context = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", "node_modules")]
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), REPO)
            if not dockerignore_excluded(relative, patterns):
                context.append(relative)
    return sorted(context)


def test_dockerignore_matcher_follows_docker_rules():
    patterns = ["*", "!onsale/", "**/tests/", "!docker/entrypoint.sh"]
    assert dockerignore_excluded(".env", patterns)
    assert not dockerignore_excluded("onsale/config/urls.py", patterns)
    assert dockerignore_excluded("onsale/platform/tests/test_x.py", patterns)
    assert not dockerignore_excluded("docker/entrypoint.sh", patterns)
    assert dockerignore_excluded("docker/other.sh", patterns)


def test_build_context_has_what_copy_needs_and_nothing_private():
    context = build_context()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, flags=re.M):
        for item in source.split():
            assert any(
                path == item or path.startswith(item.rstrip("/") + "/")
                for path in context
            ), item
    for private in (
        ".env",
        "var/",
        ".venv/",
        ".git/",
        "tests/",
        "k8s/",
        "cloudformation/",
    ):
        assert not any(
            path.startswith(private) or path == private for path in context
        ), private
    assert not any("/tests/" in path or "__pycache__" in path for path in context)


def test_the_package_built_from_the_context_carries_every_app_file(tmp_path: Path):
    """What the builder stage does (`pip install .` in a directory holding the
    build context): every template, Lua script and static file of the apps
    must land in the installed package, or the image fails at run time."""
    context_dir = tmp_path / "context"
    for relative in build_context():
        target = context_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / relative).read_bytes())
    wheels = tmp_path / "wheels"
    result = run(
        [
            str(Path(tool("python"))),
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(wheels),
            str(context_dir),
        ],
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = wheels.glob("onsale-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        relative
        for relative in build_context()
        if relative.startswith("onsale/") and not relative.endswith(".pyc")
    }
    assert expected - packaged == set()
    assert any(name.endswith(".lua") for name in packaged)


def test_build_time_collectstatic_writes_hashed_files(tmp_path: Path):
    # The RUN line's own settings plus the runtime stage's ENV, as in the build.
    runtime = stages()["runtime"]
    env_block = instruction_args(runtime, "ENV")[0]
    env = dict(item.split("=", 1) for item in shlex.split(env_block))
    (collect,) = [
        line for line in instruction_args(runtime, "RUN") if "collectstatic" in line
    ]
    inline = dict(re.findall(r"(\w+)=(\S+)", collect.split("python")[0]))
    assert env["ONSALE_STATIC_MANIFEST"] == "true"
    build_env = {
        "PATH": os.environ["PATH"],
        **{key: value for key, value in env.items() if key != "PATH"},
        **inline,
        "STATIC_ROOT": str(tmp_path / "static"),
        "ONSALE_VAR_DIR": str(tmp_path / "var"),
    }
    result = run(
        [tool("python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=build_env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert list((tmp_path / "static" / "onsale").glob("site.*.css"))


# --- the entry point -----------------------------------------------------------


def shim(directory: Path, name: str) -> None:
    """A stand-in for a program the entry point execs: records its argv."""
    path = directory / name
    path.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "{name}" "$@" > "$SHIM_LOG"\n'
        'echo "$NEW_RELIC_CONFIG_FILE" > "$SHIM_LOG.newrelic"\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def entrypoint(tmp_path: Path, *args: str, **env: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("gunicorn", "celery", "newrelic-admin", "python"):
        shim(bin_dir, name)
    log = tmp_path / "argv"
    result = run(
        ["sh", str(REPO / "docker" / "entrypoint.sh"), *args],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "SHIM_LOG": str(log),
            "ONSALE_VAR_DIR": str(tmp_path / "var"),
            **env,
        },
    )
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_entrypoint_starts_gunicorn_plain_or_under_new_relic(tmp_path: Path):
    config = f"{REPO}/gunicorn.conf.py"
    assert entrypoint(tmp_path) == ["gunicorn", "--config", config]
    assert entrypoint(tmp_path, "web", NEW_RELIC_LICENSE_KEY="abc") == [
        "newrelic-admin",
        "run-program",
        "gunicorn",
        "--config",
        config,
    ]
    # The image's agent settings, unless the deployment names its own file.
    newrelic = tmp_path / "argv.newrelic"
    assert newrelic.read_text() == f"{REPO}/newrelic.ini\n"
    entrypoint(
        tmp_path, NEW_RELIC_LICENSE_KEY="abc", NEW_RELIC_CONFIG_FILE="/etc/nr.ini"
    )
    assert newrelic.read_text() == "/etc/nr.ini\n"
    entrypoint(tmp_path)
    assert newrelic.read_text() == "\n"


def test_entrypoint_runs_worker_beat_migrate_and_manage(tmp_path: Path):
    worker = entrypoint(tmp_path, "worker", CELERY_QUEUES="checkout")
    assert worker[:4] == ["celery", "--app", "onsale", "worker"]
    assert worker[worker.index("--queues") + 1] == "checkout"
    beat = entrypoint(tmp_path, "beat", NEW_RELIC_LICENSE_KEY="abc")
    assert beat[:6] == [
        "newrelic-admin",
        "run-program",
        "celery",
        "--app",
        "onsale",
        "beat",
    ]
    assert beat[beat.index("--schedule") + 1] == f"{tmp_path}/var/celerybeat-schedule"
    assert entrypoint(tmp_path, "migrate") == [
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]
    # With S3 storage the migrate Job also uploads the static files (the
    # shim records the last command).
    assert entrypoint(tmp_path, "migrate", AWS_STORAGE_BUCKET_NAME="b") == [
        "python",
        "manage.py",
        "collectstatic",
        "--noinput",
        "-v",
        "0",
    ]
    assert entrypoint(tmp_path, "manage", "showmigrations") == [
        "python",
        "manage.py",
        "showmigrations",
    ]
