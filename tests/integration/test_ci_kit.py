"""The CI kit of examples/ci-kit runs as written (issue 22 item 9, finding 10). No lab.

The team's repositories are laid out as a GitLab group (or a GitHub organisation) holds them, as
bare git repositories: network-source-of-truth (nornir.yaml, inventory/, policy.yaml), backups
(Oxidized's output), change-types (examples/netchange-ntp) and change-requests (the CI files and
changes/). Git's ``url.<base>.insteadOf`` turns the addresses the CI files build
(``https://gitlab-ci-token:<job token>@<GitLab host>/netops/…``, ``https://x-access-token:<token>@
github.com/<owner>/…``) into those repositories, so the files' own defaults are what runs, pip's
git URLs included. netchange comes from the wheel ``make dist`` builds: the variable
``NETCHANGE_SOURCE`` a team sets in its CI settings names it, and the job's own pip line installs
it in a clean venv (one per session, standing for the image's Python; its dependencies come from
the package index as the runner's would).

Each file is read as YAML and its job run as the CI system runs it. GitLab: the runner fetches the
merge request's head alone (``GIT_DEPTH`` honoured), the variables are the predefined ones, then
the file's (one level of expansion, as GitLab does), then the project's; ``before_script`` and
``script`` run in one bash with ``set -eo pipefail``. GitHub: ``actions/checkout`` is played as it
checks out a pull request (its merge into the base, ``fetch-depth`` honoured), ``${{ }}``
expressions are substituted from the contexts, each ``run`` step runs in
``bash --noprofile --norc -eo pipefail`` in its working directory, and a failed step skips the
next ones but those marked ``if: always()``. The artifact upload is the runner's and is not played.

The history: main holds a medium request merged after its validation (CHG-2026-0201) and a minor
one (0203); one merge request adds a minor request (0202) and deletes 0203, another adds a medium
request (0204); main then moves on (0201 edited), so only a diff against the merge base sees each
merge request's own requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KIT = REPO / "examples" / "ci-kit"
TYPES = REPO / "examples" / "netchange-ntp"
GITLAB_HOST = "gitlab.netops.test"
JOB_TOKEN = "job-token-0123456789"
GITHUB_OWNER = "netops"
GITHUB_TOKEN = "read-token-0123456789"
MINOR, MEDIUM = "mr-ntp-doso", "mr-ntp-source-doso"
"""The merge requests' branches: MINOR adds CHG-2026-0202 and deletes 0203, MEDIUM adds 0204."""

_GIT_ID = {"GIT_AUTHOR_NAME": "kit", "GIT_AUTHOR_EMAIL": "kit@netops.test", "GIT_COMMITTER_NAME": "kit",
           "GIT_COMMITTER_EMAIL": "kit@netops.test"}


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """git for the test's own set-up (no user or system configuration: no signing, no hooks)."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **_GIT_ID, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                               **(env or {})})
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def _listed(folder: Path) -> list[Path]:
    """The files of ``folder`` git would commit (tracked, or new and not ignored): no build output."""
    names = _git(REPO, "ls-files", "--cached", "--others", "--exclude-standard", "-z", str(folder.relative_to(REPO)))
    return [REPO / name for name in names.split("\0") if name and (REPO / name).is_file()]


def _copy(files: list[Path], root: Path, target: Path, skip: Callable[[Path], bool] = lambda _p: False) -> None:
    for path in files:
        relative = path.relative_to(root)
        if not skip(relative):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)


def _publish(work: Path, bare: Path, message: str) -> None:
    """Commit everything in ``work`` on main and push it to the bare repository ``bare``."""
    _git(work.parent, "init", "-q", "-b", "main", str(work))
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", message)
    bare.parent.mkdir(parents=True, exist_ok=True)
    _git(bare.parent, "init", "-q", "--bare", "-b", "main", str(bare))
    _git(work, "push", "-q", str(bare), "main")


@dataclass
class Kit:
    root: Path
    wheel: Path
    venv: Path
    remote: Path
    gitconfig: Path
    timings: dict[str, float] = field(default_factory=dict)


def _build_wheel(dist: Path) -> Path:
    """``make dist``, as a team builds the wheel it installs from (twine check included)."""
    done = subprocess.run(["make", "-s", "dist", f"DIST_DIR={dist}"], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("PASSED") == 2, done.stdout[-2000:]  # twine check, the wheel and the sdist
    wheels, sdists = sorted(dist.glob("netchange-*.whl")), sorted(dist.glob("netchange-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    return wheels[0]


def _layout(root: Path) -> Path:
    """The team's four repositories, bare, under ``root/remote/netops``; returns that folder."""
    remote = root / "remote" / "netops"
    work = root / "work"
    for name in ("network-source-of-truth", "backups"):
        _copy(_listed(KIT / name), KIT / name, work / name)
        _publish(work / name, remote / f"{name}.git", f"{name}: as the team keeps it")
    _copy(_listed(TYPES), TYPES, work / "change-types")
    _publish(work / "change-types", remote / "change-types.git", "netchange-ntp 1.0.0")

    requests = KIT / "change-requests"
    later = {"changes/CHG-2026-0202.yaml", "changes/CHG-2026-0204.yaml"}
    repo = work / "change-requests"
    _copy(_listed(requests), requests, repo, skip=lambda p: p.as_posix() in later)
    _publish(repo, remote / "change-requests.git", "CI, CHG-2026-0201 (validated: medium procedure), CHG-2026-0203")
    # The minor merge request: a request added, a done one deleted, the README touched.
    _git(repo, "checkout", "-q", "-b", MINOR)
    shutil.copy2(requests / "changes" / "CHG-2026-0202.yaml", repo / "changes")
    (repo / "changes" / "CHG-2026-0203.yaml").unlink()
    (repo / "README.md").write_text((repo / "README.md").read_text(encoding="utf-8") + "\nDOSO: two NTP servers.\n",
                                    encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "CHG-2026-0202: second NTP server at DOSO; CHG-2026-0203 done")
    # The medium merge request, from the same main.
    _git(repo, "checkout", "-q", "-b", MEDIUM, "main")
    shutil.copy2(requests / "changes" / "CHG-2026-0204.yaml", repo / "changes")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "CHG-2026-0204: NTP from the loopback at DOSO")
    # main moves on: the medium request merged before is edited there. A diff against main's tip
    # (two dots) would take it for each merge request's own.
    _git(repo, "checkout", "-q", "main")
    with (repo / "changes" / "CHG-2026-0201.yaml").open("a", encoding="utf-8") as f:
        f.write("estimated_duration: PT30M\n")
    _git(repo, "commit", "-q", "-am", "CHG-2026-0201: estimated duration")
    bare = remote / "change-requests.git"
    _git(repo, "push", "-q", str(bare), "main", MINOR, MEDIUM)
    # What GitLab and GitHub keep for each merge request: its head, and (GitHub) its merge into main.
    for number, branch in enumerate((MINOR, MEDIUM), start=1):
        _git(repo, "push", "-q", str(bare), f"{branch}:refs/merge-requests/{number}/head")
        _git(repo, "checkout", "-q", "--detach", "main")
        _git(repo, "merge", "-q", "--no-ff", "-m", f"Merge {branch} into main", branch)
        _git(repo, "push", "-q", str(bare), f"HEAD:refs/pull/{number}/merge")
    return remote


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    root = tmp_path_factory.mktemp("ci-kit")
    timings: dict[str, float] = {}

    def dist() -> Path:
        t0 = time.perf_counter()
        wheel = _build_wheel(root / "dist")
        timings["make dist"] = time.perf_counter() - t0
        return wheel

    # `make dist` (in the repository) runs while the venv and the repositories are made (in root):
    # neither reads what the other writes.
    with ThreadPoolExecutor(max_workers=1) as pool:
        built = pool.submit(dist)
        t0 = time.perf_counter()
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        timings["venv"] = time.perf_counter() - t0
        remote = _layout(root)
        wheel = built.result()
    gitconfig = root / "gitconfig"
    base = remote.as_uri() + "/"
    gitconfig.write_text(
        f'[url "{base}"]\n'
        f"\tinsteadOf = https://gitlab-ci-token:{JOB_TOKEN}@{GITLAB_HOST}/netops/\n"
        f"\tinsteadOf = https://x-access-token:{GITHUB_TOKEN}@github.com/{GITHUB_OWNER}/\n"
        "[advice]\n\tdetachedHead = false\n", encoding="utf-8")
    return Kit(root, wheel, venv, remote, gitconfig, timings)


def _base_env(kit: Kit, home: Path) -> dict[str, str]:
    """A runner's environment: the image's Python (the session's clean venv) first on PATH; the
    machine's pip settings stand for the image's; git's address rewriting is the test's."""
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": f"{kit.venv / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": str(home), "LANG": "C.UTF-8", "GIT_CONFIG_GLOBAL": str(kit.gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_") and k != "PIP_REQUIRE_VIRTUALENV"})
    return env


def _glob(pattern: str) -> re.Pattern[str]:
    """GitLab's ``changes:`` and GitHub's ``paths:`` globs: ``**`` crosses folders, ``*`` does not."""
    out = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(out + r"\Z")


def _changed(kit: Kit, project: str, branch: str) -> list[str]:
    """The files a merge request of ``branch`` into main changes (what GitLab's ``changes:`` and
    GitHub's ``paths:`` are matched against)."""
    return _git(kit.remote / f"{project}.git", "diff", "--name-only", f"main...{branch}").splitlines()


def _source(project: str) -> Path:
    """Where the example keeps ``project``'s files."""
    return TYPES if project == "change-types" else KIT / project


@dataclass
class Run:
    code: int
    workspace: Path
    log: str
    summary: str = ""

    def reports(self) -> dict[str, Path]:
        return {p.name: p for p in (self.workspace / "reports").iterdir()}

    def planned(self) -> set[str]:
        return {name.removesuffix(".json") for name in self.reports() if name.endswith(".json")}


# --- GitLab -------------------------------------------------------------------------------------

_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _expand_once(value: Any, env: dict[str, str]) -> str:
    """GitLab's expansion of a variable defined in the file: the variables known before it, once."""
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), str(value))


_RULE = re.compile(r'\A\$(\w+) == (?:"([^"]*)"|\$(\w+))\Z')


def _rule_holds(rule: dict[str, Any], env: dict[str, str], changed: list[str]) -> bool:
    """A ``rules:`` entry of the forms the kit uses: ``$A == "x"`` or ``$A == $B``, and ``changes``."""
    if "if" in rule:
        m = _RULE.match(rule["if"])
        assert m, f"a rule this test cannot evaluate: {rule['if']}"
        if env.get(m.group(1)) != (m.group(2) if m.group(3) is None else env.get(m.group(3))):
            return False
    return "changes" not in rule or any(_glob(p).match(path) for p in rule["changes"] for path in changed)


def _gitlab(kit: Kit, project: str, job_name: str, ref: str, event: dict[str, str], tag: str) -> Run:
    """The job ``job_name`` of ``project``'s .gitlab-ci.yml, on the pipeline ``event`` describes
    (the predefined variables of a merge request or a branch pipeline), checked out at ``ref``."""
    ci = yaml.safe_load((_source(project) / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    job = ci[job_name]
    image = job.get("image", ci.get("image"))
    assert image == "python:3.11", image  # the full image: it has git; -slim has none

    ws = kit.root / f"gitlab-{tag}" / "builds" / "netops" / project
    env = _base_env(kit, kit.root / f"gitlab-{tag}" / "home")
    env |= {"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": str(ws), "CI_PROJECT_PATH": f"netops/{project}",
            "CI_SERVER_HOST": GITLAB_HOST, "CI_SERVER_URL": f"https://{GITLAB_HOST}", "CI_JOB_TOKEN": JOB_TOKEN,
            "CI_DEFAULT_BRANCH": "main", **event}
    for scope in (ci.get("variables", {}), job.get("variables", {})):
        for name, value in scope.items():
            env[name] = _expand_once(value, env)
    env["NETCHANGE_SOURCE"] = str(kit.wheel)  # the project's CI/CD variable, above the file's
    changed = _changed(kit, project, event["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"]) \
        if "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME" in event else []
    assert any(_rule_holds(rule, env, changed) for rule in job["rules"]), "the job would not run"
    # The runner's checkout: the pipeline's ref alone (a merge request's head, or the branch).
    ws.mkdir(parents=True)
    _git(ws, "init", "-q")
    _git(ws, "remote", "add", "origin", f"https://gitlab-ci-token:{JOB_TOKEN}@{GITLAB_HOST}/netops/{project}.git")
    depth = [] if env.get("GIT_DEPTH", "20") == "0" else [f"--depth={env.get('GIT_DEPTH', '20')}"]
    _git(ws, "fetch", "-q", *depth, "origin", f"+{ref}:refs/remotes/origin/{ref}",
         env={"GIT_CONFIG_GLOBAL": str(kit.gitconfig)})
    _git(ws, "checkout", "-q", "--detach", f"refs/remotes/origin/{ref}")
    env["CI_COMMIT_SHA"] = _git(ws, "rev-parse", "HEAD")

    lines = [*job.get("before_script", []), *job["script"]]
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", "set -eo pipefail\n" + "\n".join(lines)], cwd=ws,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, check=False)
    return Run(done.returncode, ws, done.stdout + done.stderr)


def _merge_request(kit: Kit, branch: str, iid: int) -> Run:
    event = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": str(iid),
             "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
    return _gitlab(kit, "change-requests", "netchange-plan", f"refs/merge-requests/{iid}/head", event, f"mr{iid}")


# --- GitHub -------------------------------------------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(\w+)\.(\w+)\s*\}\}")


def _evaluate(text: Any, contexts: dict[str, dict[str, str]]) -> str:
    """``${{ context.name }}`` as GitHub substitutes it (a missing secret or variable is empty);
    any other expression is one this test does not know how to play, and fails it."""
    out = _EXPR.sub(lambda m: contexts[m.group(1)].get(m.group(2), ""), str(text))
    assert "${{" not in out, f"an expression the test cannot evaluate: {text}"
    return out


def _checkout(kit: Kit, project: str, ws: Path, ref: str, options: dict[str, Any]) -> None:
    """actions/checkout: ``ref`` (a pull request's merge into its base, or a pushed branch),
    ``fetch-depth`` commits of it (default 1; 0: everything, every branch as origin/<branch>)."""
    ws.mkdir(parents=True)
    _git(ws, "init", "-q")
    _git(ws, "remote", "add", "origin", str(kit.remote / f"{project}.git"))
    depth = int(options.get("fetch-depth", 1))
    if depth == 0:
        _git(ws, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
    local = ref.replace("refs/heads/", "refs/remotes/origin/").replace("refs/pull/", "refs/remotes/pull/")
    _git(ws, "fetch", "-q", *([f"--depth={depth}"] if depth else []), "origin", f"+{ref}:{local}")
    _git(ws, "checkout", "-q", "--force", local)


def _github(kit: Kit, project: str, workflow: str, job_name: str, ref: str, event: dict[str, str], tag: str) -> Run:
    """The job ``job_name`` of ``project``'s workflow, on the event ``event`` describes
    (``GITHUB_EVENT_NAME``, and ``GITHUB_BASE_REF``/``GITHUB_HEAD_REF`` for a pull request)."""
    wf = yaml.safe_load((_source(project) / ".github" / "workflows" / workflow).read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as true
    trigger = on[event["GITHUB_EVENT_NAME"]] or {}
    if "paths" in trigger:
        changed = _changed(kit, project, event["GITHUB_HEAD_REF"])
        assert any(_glob(p).match(path) for p in trigger["paths"] for path in changed), "the workflow would not run"
    job = wf["jobs"][job_name]
    assert job["runs-on"] == "ubuntu-latest"  # git is on the runner
    assert wf["defaults"]["run"]["shell"] == "bash"

    ws = kit.root / f"github-{tag}" / "work" / project / project
    temp = kit.root / f"github-{tag}" / "temp"
    temp.mkdir(parents=True)
    summary = temp / "step_summary.md"
    summary.touch()
    contexts = {"secrets": {"NETOPS_READ_TOKEN": GITHUB_TOKEN}, "vars": {"NETCHANGE_SOURCE": str(kit.wheel)},
                "github": {"repository_owner": GITHUB_OWNER, "workspace": str(ws)}}
    env = _base_env(kit, kit.root / f"github-{tag}" / "home")
    env |= {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(ws),
            "GITHUB_REPOSITORY": f"{GITHUB_OWNER}/{project}", "GITHUB_REPOSITORY_OWNER": GITHUB_OWNER,
            "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(temp), **event}
    for scope in (wf.get("env", {}), job.get("env", {})):
        env |= {name: _evaluate(value, contexts) for name, value in scope.items()}

    failed: int | None = None
    log = ""
    for index, step in enumerate(job["steps"]):
        if "uses" in step:
            action, options = step["uses"].split("@")[0], step.get("with", {})
            if action == "actions/checkout":
                _checkout(kit, project, ws, ref, options)
            elif action == "actions/setup-python":
                assert str(options["python-version"]) == f"{sys.version_info.major}.{sys.version_info.minor}"
            else:
                assert action == "actions/upload-artifact" and step.get("if") == "always()", step
            continue
        if failed is not None and step.get("if") != "always()":
            continue
        script = temp / f"step-{index}.sh"
        script.write_text(_evaluate(step["run"], contexts), encoding="utf-8")
        cwd = ws / step.get("working-directory", ".")
        step_env = env | {name: _evaluate(value, contexts) for name, value in step.get("env", {}).items()}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=step_env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, check=False)
        log += f"--- {step.get('name', index)}: exit {done.returncode}\n{done.stdout}{done.stderr}"
        if done.returncode and failed is None:
            failed = done.returncode
    return Run(failed or 0, ws, log, summary.read_text(encoding="utf-8"))


def _pull_request(kit: Kit, branch: str, number: int) -> Run:
    event = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": branch}
    return _github(kit, "change-requests", "plan.yml", "plan", f"refs/pull/{number}/merge", event, f"pr{number}")


# --- the jobs -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(kit: Kit) -> dict[tuple[str, str], Run]:
    """The change requests' jobs, each CI file's for each merge request, run once for the module."""
    done: dict[tuple[str, str], Run] = {}
    for system, play in (("gitlab", _merge_request), ("github", _pull_request)):
        for number, branch in enumerate((MINOR, MEDIUM), start=1):
            t0 = time.perf_counter()
            done[system, branch] = play(kit, branch, number)
            kit.timings[f"{system} {branch}"] = time.perf_counter() - t0
    print("\nCI kit timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in kit.timings.items()))
    return done


@pytest.mark.parametrize("system", ["gitlab", "github"])
def test_a_minor_request_passes_though_a_medium_one_is_in_changes(runs: dict[tuple[str, str], Run],
                                                                  system: str) -> None:
    run = runs[system, MINOR]
    assert run.code == 0, run.log[-6000:]
    # Planned: the request the merge request added. Not the one it deleted, not the medium one
    # main holds (and edited after the branch was cut), which the old loop planned for everyone.
    assert (run.workspace / "changes" / "CHG-2026-0201.yaml").exists()
    touched = (run.workspace / "reports" / "touched.txt").read_text(encoding="utf-8")
    assert touched.split() == ["changes/CHG-2026-0202.yaml"]
    assert run.planned() == {"CHG-2026-0202"}
    assert set(run.reports()) == {"touched.txt", "CHG-2026-0202.json", "CHG-2026-0202.xml", "CHG-2026-0202.md"}
    plan = json.loads(run.reports()["CHG-2026-0202.json"].read_text(encoding="utf-8"))
    assert plan["category"] == "minor" and plan["verdict"]["reason"] == "ok"
    assert [(h["name"], h["diff"].strip()) for h in plan["hosts"]] == [("doso-sw-acc-01", "+ntp server 10.0.64.2")]
    assert plan["offline"] is not None and plan["recorded"] is False
    assert "+ext." in plan["rules_version"]  # the team's change-types distribution judged it too
    junit = ET.parse(run.reports()["CHG-2026-0202.xml"]).getroot()
    assert junit.iter("testcase") and not list(junit.iter("failure")) and not list(junit.iter("error"))
    assert "MINOR" in run.reports()["CHG-2026-0202.md"].read_text(encoding="utf-8")
    if system == "github":
        assert "MINOR" in run.summary and "CHG-2026-0202" in run.summary and "CHG-2026-0201" not in run.summary


@pytest.mark.parametrize("system", ["gitlab", "github"])
def test_a_medium_request_blocks_its_own_merge_request(runs: dict[tuple[str, str], Run], system: str) -> None:
    run = runs[system, MEDIUM]
    assert run.code == 4, run.log[-6000:]  # the gate: the medium procedure, not a merge on its own
    assert run.planned() == {"CHG-2026-0204"}
    plan = json.loads(run.reports()["CHG-2026-0204.json"].read_text(encoding="utf-8"))
    assert plan["category"] == "medium" and plan["verdict"]["reason"] == "gate"
    assert [(h["name"], h["diff"].strip()) for h in plan["hosts"]] == [("doso-sw-acc-01", "+ntp source Loopback0")]
    junit = ET.parse(run.reports()["CHG-2026-0204.xml"]).getroot()
    assert any("medium" in (f.get("message") or "") + (f.text or "") for f in junit.iter("failure"))
    assert "MEDIUM" in run.reports()["CHG-2026-0204.md"].read_text(encoding="utf-8")
    if system == "github":
        assert "CHG-2026-0204" in run.summary


def test_the_package_is_ready_for_the_public_index(kit: Kit) -> None:
    """``make dist`` built it and ``twine check --strict`` passed (the fixture); the metadata the
    index shows is complete, and the wheel carries the license text and the README."""
    import zipfile

    with zipfile.ZipFile(kit.wheel) as wheel:
        names = wheel.namelist()
        meta = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for header in ("License-Expression: Apache-2.0", "Requires-Python: >=3.11", "Classifier: Typing :: Typed",
                   "Description-Content-Type: text/markdown", "Author: netchange contributors"):
        assert header in meta, header
    assert "# netchange" in meta  # the README is the long description


@pytest.mark.parametrize("system", ["gitlab", "github"])
def test_the_change_types_repository_tests_its_distribution(kit: Kit, system: str) -> None:
    """The change types' CI job, on main: netchange from the wheel, the distribution's own tests
    with netchange's pytest plugin, its type listed through the entry point."""
    t0 = time.perf_counter()
    if system == "gitlab":
        event = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"}
        run = _gitlab(kit, "change-types", "change-types-test", "refs/heads/main", event, "types")
    else:
        event = {"GITHUB_EVENT_NAME": "push"}
        run = _github(kit, "change-types", "test.yml", "test", "refs/heads/main", event, "types")
    print(f"\nchange-types {system}: {time.perf_counter() - t0:.1f} s")
    assert run.code == 0, run.log[-6000:]
    assert re.search(r"^\d+ passed", run.log, re.MULTILINE), run.log[-3000:]
    assert "ntp_server" in run.log and "netchange-ntp 1.0.0" in run.log
