"""Synth benchmark (issue #9): prints figures with their targets; never a test.

    .venv/bin/python benchmarks/bench.py [--sizes 1000,4000,16000] [--profile FILE]

For synthetic platforms of about 1,000, 4,000 and 16,000 output objects (services x environments,
every workload kind and feature) and for the real environments/, it measures:

* wall time of `sophia synth` (subprocess) and of `cdk8s synth` (node_modules/.bin/cdk8s, in a temp copy of the
  project layout: main.py + cdk8s.yaml copied, sophia/ and node_modules/ symlinked);
* objects per second;
* peak memory of the whole process tree (Python and both node processes), sampled from /proc every 20 ms
  (summed RSS; a short peak between samples can be missed);
* `sophia validate` (schema + policy) time on the output;
* the floor: dumping the same objects with PyYAML's CSafeDumper, one file each, in this process;
  and the ratio synth / floor.

Every figure is printed with its target and PASS/FAIL. `--profile FILE` also runs pyinstrument
over an in-process compile of the 4,000-object platform and writes its text report to FILE.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
CRDS = Path(os.environ.get("SOPHIA_CRDS") or REPO.parent / "shared" / "crds")
ENV = {
    **os.environ,
    "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK8S_CHECK_UPGRADE": "false",
    "PYTHONDONTWRITEBYTECODE": "1",
    "SOPHIA_CRDS": str(CRDS),
}
MIB = 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")

TARGETS = {
    "real_cdk8s": 2.0,
    "real_sophia": 1.5,
    "floor_ratio_4000": 3.0,
    "scale_16000_over_4000": 4.4,
    "peak_mib": 300.0,
    "validate_per_1000": 1.3,
    "pr_check": 5.0,
}

# --- a synthetic platform -------------------------------------------------------------------------

API = "sophia.ai/v1alpha1"
KINDS = ("web", "worker", "stateful", "cronjob", "web")
APPS = ("core", "data", "jobs", "edge")


def _service(i: int, names: list[str]) -> dict[str, Any]:
    kind = KINDS[i % len(KINDS)]
    name = names[i]
    svc: dict[str, Any] = {
        "type": kind,
        "application": APPS[i % len(APPS)],
        "description": f"synthetic {kind} {i}",
        "image": {"repository": f"example/{name}"},
        "env": {"LOG_LEVEL": "info", "SHARD": str(i)},
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
        "placement": {"pool": "general"},
    }
    if kind != "cronjob":
        svc["ports"] = {"http": {"port": 8080}, "metrics": {"port": 9090}}
        svc["probes"] = {
            "startup": {"http": {"path": "/healthz", "port": "http"}, "failureThreshold": 30},
            "liveness": {"tcp": {"port": "http"}},
            "readiness": {"exec": ["/bin/ready"]},
        }
    if kind == "web":
        svc["autoscaling"] = {"minReplicas": 1, "maxReplicas": 2}
        svc["expose"] = {"host": name}
    elif kind != "cronjob":
        svc["replicas"] = 1
    if kind == "stateful":
        svc["volumes"] = {"data": {"mountPath": "/data", "size": "1Gi"}}
    if kind == "cronjob":
        svc["schedule"] = "*/15 * * * *"
    if i % 3 == 0:
        svc["secrets"] = {"DB_PASSWORD": {"key": "postgres.password"}}
    if i % 4 == 1:
        svc["egress"] = [{"name": "partner", "reason": "calls the partner API"}]
    if i % 10 == 9:
        svc["gpu"] = {"models": ["A100"], "count": 1}
        svc["placement"] = {"pool": "gpu"}
    deps = [names[j] for j in (i - 1, i - 2) if j >= 0 and KINDS[j % len(KINDS)] != "cronjob"]
    if deps:
        svc["dependencies"] = [{"service": d} for d in deps]
    return svc


def _real_addons() -> dict[str, Any]:
    """The real Cluster's add-on pins (and monitoring), so that `sophia validate` checks the synthetic
    platforms' custom resources against the same CRDs."""
    spec = yaml.safe_load((REPO / "environments/clusters/sophia-k3s.yaml").read_text())["spec"]
    return {key: spec[key] for key in ("addons", "monitoring", "esc") if key in spec}


def generate(root: Path, services: int, environments: int) -> Path:
    """Write an environments folder of `services` x `environments` under `root`; return it."""
    env_dir = root / "environments"
    names = [f"svc-{i:04d}" for i in range(services)]
    big = {"cpu": "100000", "memory": "1000000Gi"}
    docs: dict[str, Any] = {
        "catalog.yaml": {
            "apiVersion": API, "kind": "ServiceCatalog", "metadata": {"name": "bench"},
            "spec": {"services": {n: _service(i, names) for i, n in enumerate(names)}},
        },
        "clusters/bench.yaml": {
            "apiVersion": API, "kind": "Cluster", "metadata": {"name": "bench"},
            "spec": {"nodePools": {
                "general": {"labels": {"sophia.ai/pool": "general"}, "capacity": big, "nodes": 10},
                "gpu": {
                    "labels": {"sophia.ai/pool": "gpu"}, "capacity": big, "nodes": 100,
                    "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
                    "gpu": {"model": "A100", "count": 8, "memoryGiB": 40}, "generalWorkloads": False,
                },
            }, **_real_addons()},
        },
    }
    for e in range(environments):
        env = f"env{e}"
        docs[f"releases/{env}.yaml"] = {
            "apiVersion": API, "kind": "Release", "metadata": {"name": env},
            "spec": {"images": {n: {"tag": f"2025.07.{e:02d}"} for n in names}},
        }
        docs[f"{env}.yaml"] = {
            "apiVersion": API, "kind": "Environment", "metadata": {"name": env},
            "spec": {
                "release": env, "cluster": "bench",
                "source": {"repoURL": "https://github.com/example/deploy.git", "targetRevision": "main", "path": "dist"},
                "namespaces": {a: f"{env}-{a}" for a in APPS},
                "domain": f"{env}.example.org",
                "tls": {"email": "ops@example.org"},
                "esc": {"organization": "example", "environment": env},
                "services": {names[0]: {"replicas": 2} if KINDS[0] != "web" else {"env": {"LOG_LEVEL": "debug"}}},
            },
        }
    for rel, doc in docs.items():
        path = env_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return env_dir


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    peak_mib: float
    returncode: int
    stderr: str


def _tree_rss(root_pid: int) -> int:
    """Summed RSS (bytes) of `root_pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(cmd: list[str], cwd: Path) -> Run:
    """Run `cmd`, sampling the RSS of its process tree every 20 ms."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else ""
    return Run(seconds, peak / MIB, proc.returncode, err)


def project(root: Path, environments: Path) -> Path:
    """A temp copy of the project layout that `cdk8s synth` can run in, over `environments`."""
    proj = root / "project"
    proj.mkdir(parents=True)
    for name in ("main.py", "cdk8s.yaml", "package.json"):
        shutil.copy(REPO / name, proj / name)
    for name in ("sophia", "node_modules"):
        (proj / name).symlink_to(REPO / name)
    shutil.copytree(environments, proj / "environments")
    return proj


_aside = itertools.count()
ASIDE = Path(tempfile.gettempdir(), f"sophia-bench-aside-{os.getpid()}")
"""Where `set_aside` puts folders (same filesystem as the work folder); deleted when the benchmark ends."""


def set_aside(path: Path) -> None:
    """Move an output folder out of the way instead of deleting it.

    Every run starts without an output folder, as a first synth does. Deleting thousands of files
    between runs would make ext4 slow at creating the next run's files (it skips recently freed
    inodes one by one: perf shows `recently_deleted`), so the figures would measure this
    benchmark's own clean-up; the folders are deleted once, when the benchmark ends.
    """
    if path.exists():
        ASIDE.mkdir(exist_ok=True)
        os.rename(path, ASIDE / str(next(_aside)))


def floor_seconds(out: Path) -> tuple[float, int]:
    """(seconds, objects): dump every object of `out` again with CSafeDumper, one file each."""
    objects: list[object] = []
    for path in sorted(out.rglob("*.yaml")):
        objects.extend(d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d is not None)
    target = Path(tempfile.mkdtemp(prefix="bench-floor-", dir=out.parent))
    try:
        start = time.perf_counter()
        for i, obj in enumerate(objects):
            with open(target / f"{i:06d}.yaml", "w") as f:
                yaml.dump(obj, f, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False)
        return time.perf_counter() - start, len(objects)
    finally:
        set_aside(target)


def count_objects(out: Path) -> tuple[int, int]:
    """(objects, files) in an output folder."""
    files = sorted(out.rglob("*.yaml"))
    docs = sum(1 for p in files for d in yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader) if d is not None)
    return docs, len(files)


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"


def line(label: str, value: float, unit: str, target: float | None = None, target_text: str = "") -> None:
    shown = f"{value:8.2f} {unit:<6}"
    if target is None:
        print(f"  {label:<44}{shown}")
    else:
        print(f"  {label:<44}{shown} target <= {target_text or f'{target:g} {unit}'}  {verdict(value, target)}")


# --- the runs -------------------------------------------------------------------------------------


def machine_state(folder: Path) -> None:
    """Two probes printed before the figures, so that runs on a busier machine can be told apart.

    The file probe has measured from 0.06 to 1 ms per file on the same machine within an hour
    (ext4 gets slow at creating files after many deletions), and the real platform's synth moved
    from 1.2 to 2.2 s with the machine's state: read its figures beside these two.
    """
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    loop = time.perf_counter() - start
    folders = [folder / f"d{i}" for i in range(40)]
    for path in folders:
        path.mkdir(parents=True)
    start = time.perf_counter()
    for i in range(480):
        (folders[i % 40] / f"f{i}.yaml").write_bytes(b"x" * 1500)
    create = (time.perf_counter() - start) / 480 * 1000
    set_aside(folder)
    print("\n== machine state (no targets)")
    line("python loop, 10 million additions", loop, "s")
    line("creating a 1.5 KB file (480 in 40 folders)", create, "ms")


def measure_median(cmd: list[str], cwd: Path, repeat: int, before: Callable[[], None] | None = None) -> Run:
    """The run of median time among `repeat` runs (peak memory: the largest seen); prints the spread."""
    runs: list[Run] = []
    for _ in range(repeat):
        if before is not None:
            before()
        run = measure(cmd, cwd)
        if run.returncode != 0:
            return run
        runs.append(run)
    ordered = sorted(runs, key=lambda r: r.seconds)
    middle = ordered[len(ordered) // 2]
    if repeat > 1:
        print(f"  ({Path(cmd[0]).name} {cmd[1]}: {repeat} runs, {ordered[0].seconds:.2f}-{ordered[-1].seconds:.2f} s, median shown)")
    return Run(middle.seconds, max(r.peak_mib for r in runs), middle.returncode, middle.stderr)


def bench_platform(label: str, environments: Path, work: Path, *, real: bool = False, repeat: int = 1) -> dict[str, float]:
    print(f"\n== {label}")
    proj = project(work, environments)

    def fresh() -> None:
        set_aside(proj / "dist")

    sophia = measure_median([str(BIN / "sophia"), "synth", "--environments", "environments", "--out", "dist"], proj, repeat, fresh)
    if sophia.returncode != 0:
        print(sophia.stderr[-3000:])
        raise SystemExit(f"sophia synth failed on {label}")
    objects, files = count_objects(proj / "dist")
    cdk8s = measure_median([str(proj / "node_modules/.bin/cdk8s"), "synth", "--no-check-upgrade"], proj, repeat, fresh)
    if cdk8s.returncode != 0:
        print(cdk8s.stderr[-3000:])
        raise SystemExit(f"cdk8s synth failed on {label}")
    validate = measure_median([str(BIN / "sophia"), "validate", "dist", "--repo-root", str(proj)], proj, repeat)
    floor, floor_objects = floor_seconds(proj / "dist")
    print(f"  {objects} objects in {files} files")
    line("sophia synth (subprocess)", sophia.seconds, "s", TARGETS["real_sophia"] if real else None)
    line("cdk8s synth (pinned cdk8s-cli)", cdk8s.seconds, "s", TARGETS["real_cdk8s"] if real else None)
    line("objects per second (sophia synth)", objects / sophia.seconds, "obj/s")
    line("peak memory, sophia synth (tree RSS)", sophia.peak_mib, "MiB", TARGETS["peak_mib"])
    line("peak memory, cdk8s synth (tree RSS)", cdk8s.peak_mib, "MiB", TARGETS["peak_mib"])
    per_1000 = validate.seconds / files * 1000
    line(f"sophia validate ({'ok' if validate.returncode == 0 else 'FINDINGS'})", validate.seconds, "s")
    line("  per 1,000 files", per_1000, "s", TARGETS["validate_per_1000"])
    line(f"floor: CSafeDumper, {floor_objects} files", floor, "s")
    line("ratio sophia synth / floor", sophia.seconds / floor, "x")
    return {"objects": objects, "sophia": sophia.seconds, "cdk8s": cdk8s.seconds, "floor": floor}


def pr_check(work: Path, repeat: int) -> float:
    """synth + freshness + schema + policy on the real platform, as CI runs them (median total of `repeat`)."""
    proj = project(work, REPO / "environments")
    steps = [
        [str(BIN / "sophia"), "synth", "--environments", "environments", "--out", "dist"],
        [str(BIN / "sophia"), "check", "--environments", "environments", "--out", "dist"],
        [str(BIN / "sophia"), "validate", "dist", "--repo-root", str(proj)],
    ]
    totals: list[tuple[float, list[Run]]] = []
    for _ in range(repeat):
        set_aside(proj / "dist")
        runs = [measure(cmd, proj) for cmd in steps]
        totals.append((sum(r.seconds for r in runs), runs))
    totals.sort(key=lambda t: t[0])
    total, runs = totals[len(totals) // 2]
    for cmd, run in zip(steps, runs, strict=True):
        print(f"  {'sophia ' + cmd[1]:<44}{run.seconds:8.2f} s      exit {run.returncode}")
    if repeat > 1:
        print(f"  ({repeat} runs, totals {totals[0][0]:.2f}-{totals[-1][0]:.2f} s, median shown)")
    return total


def profile(work: Path, services: int, environments: int, out_file: Path) -> None:
    from pyinstrument import Profiler

    from sophia.pipeline import compile_tree

    env_dir = generate(work / "profile", services, environments)
    compile_tree(REPO / "environments")  # start the jsii runtime outside the profile
    profiler = Profiler(interval=0.001)
    profiler.start()
    compile_tree(env_dir)
    profiler.stop()
    out_file.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    print(f"\nprofile of the in-process compile of {services} services x {environments} environments: {out_file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,4000,16000", help="approximate object counts of the synthetic platforms")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument report of the 4,000-object compile here")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each real-platform figure (the median is shown)")
    args = parser.parse_args()

    # calibrate: objects per (service x environment) of the generator
    work = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    try:
        print(f"sophia benchmark: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, work folder {work}")
        machine_state(work / "probe")
        envs = 4
        sizes = [int(s) for s in args.sizes.split(",")]
        results: dict[int, dict[str, float]] = {}
        probe = generate(work / "calibrate", 20, envs)
        from sophia.pipeline import compile_tree

        sample = sum(1 for p, t in compile_tree(probe).items() if p.endswith(".yaml")
                     for d in yaml.load_all(t, Loader=yaml.CSafeLoader) if d is not None)
        per_service = sample / 20
        # The real platform first: its targets are absolute, and the synthetic runs below create and
        # delete tens of thousands of files. For a while after that, ext4 skips recently freed
        # inodes one by one when creating a file (`recently_deleted`, seen with perf), and a
        # first synth of 489 files took 0.4 s longer: a figure of this benchmark's own aftermath.
        bench_platform("real platform (environments/)", REPO / "environments", work / "real", real=True, repeat=args.repeat)
        print("\n== full PR check on the real platform (synth + freshness + schema + policy)")
        line("total", pr_check(work / "pr", args.repeat), "s", TARGETS["pr_check"])
        for size in sizes:
            services = max(2, round(size / per_service))
            env_dir = generate(work / f"gen-{size}", services, envs)
            results[size] = bench_platform(f"synthetic ~{size} objects ({services} services x {envs} environments)",
                                           env_dir, work / f"run-{size}")

        print("\n== targets across runs")
        if 4000 in results:
            r = results[4000]
            line("4,000 objects: sophia synth / floor", r["sophia"] / r["floor"], "x", TARGETS["floor_ratio_4000"])
        if 4000 in results and 16000 in results:
            ratio = results[16000]["sophia"] / results[4000]["sophia"]
            line("16,000 time / 4,000 time (sophia synth)", ratio, "x", TARGETS["scale_16000_over_4000"])
            ratio = results[16000]["cdk8s"] / results[4000]["cdk8s"]
            line("16,000 time / 4,000 time (cdk8s synth)", ratio, "x", TARGETS["scale_16000_over_4000"])
        if args.profile:
            services = max(2, round(4000 / per_service))
            profile(work, services, envs, args.profile)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ASIDE, ignore_errors=True)


if __name__ == "__main__":
    main()
