"""Hostile input (issue #10): every bad environment folder ends in one clear error, never a traceback.

Each case edits a copy of the real environments/ (or adds a file to it) and runs the real command
line, `sophia synth --environments environments --out dist`, against a copy of the real dist/.
The run must exit non-zero with exactly the expected text on stderr, name the file (and the line
where there is one), print no traceback and leave dist/ byte-identical.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from sophia.model import loader, yamlsafe

Mutation = Callable[[Path], "int | None"]
MARKER = "PWNED"
"""A file a constructed python/object payload would create next to environments/."""

FOOTER = "error: {n} problem(s) found; dist/ was not changed"


def add(name: str, content: str | bytes | Callable[[Path], str]) -> Mutation:
    """Add (or overwrite) `environments/<name>`; a callable gets the workspace folder."""

    def mutate(env: Path) -> None:
        data = content(env.parent) if callable(content) else content
        target = env / name
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")

    return mutate


def edit(name: str, old: str, new: str) -> Mutation:
    """Replace the first `old` in `environments/<name>` (which must be there) by `new`.

    Returns the line of the first changed line, which the expected text names as `{line}`: other
    engineers edit the real files, so their line numbers are looked up, not written down.
    """

    def mutate(env: Path) -> int:
        target = env / name
        text = target.read_text(encoding="utf-8")
        assert old in text, f"{name} no longer holds {old!r}: update this case"
        same = len(os.path.commonprefix([old, new]))
        target.write_text(text.replace(old, new, 1), encoding="utf-8")
        return text[: text.index(old)].count("\n") + new[:same].count("\n") + 1

    return mutate


def expect(*problems: str) -> str:
    return "\n".join([*problems, FOOTER.format(n=len(problems))]) + "\n"


def _billion_laughs() -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def _os_system(tag: str) -> Callable[[Path], str]:
    return lambda root: f"apiVersion: !!{tag}:os.system ['touch {root / MARKER}']\nkind: Release\n"


HEADER = "apiVersion: sophia.ai/v1alpha1\nkind: Release\nmetadata: {name: big}\n"
LARGE = HEADER + "".join(f"# filler line {i}\n" for i in range(300_000))
BLOCK_MAP_LEVELS = 1500  # 10,000 block-mapping levels need ~50 MB of indentation: the size limit answers first

CASES = [
    # --- not YAML at all, or not text --------------------------------------------------------
    pytest.param(
        add("extra.yaml", "apiVersion: sophia.ai/v1alpha1\nkind: [Release\n"),
        expect("environments/extra.yaml:3: YAML syntax error: did not find expected ',' or ']'"),
        id="yaml-syntax-error",
    ),
    pytest.param(
        add("extra.yaml", "apiVersion: sophia.ai/v1alpha1\nmetadata:\n\tname: x\n"),
        expect("environments/extra.yaml:3: YAML syntax error: found character that cannot start any token"),
        id="yaml-tab-indent",
    ),
    pytest.param(
        add("extra.yaml", ""),
        expect(
            "environments/extra.yaml:1: the file is empty\n"
            "    hint: remove it, or give it apiVersion, kind, metadata and spec"
        ),
        id="empty-file",
    ),
    pytest.param(
        add("extra.yaml", "# only a comment\n---\n"),
        expect(
            "environments/extra.yaml:1: the file is empty\n"
            "    hint: remove it, or give it apiVersion, kind, metadata and spec"
        ),
        id="comment-only-file",
    ),
    pytest.param(
        add("extra.yaml", bytes(range(256)) * 16),
        expect("environments/extra.yaml:2: not UTF-8 text (byte 128: 0x80)"),
        id="binary-garbage",
    ),
    pytest.param(
        add("extra.yaml", "apiVersion: sophia.ai/v1alpha1\nkind: Rel\x00ease\n"),
        expect("environments/extra.yaml:2: binary content (a NUL byte) in a YAML file"),
        id="binary-nul-byte",
    ),
    pytest.param(
        add("extra.yaml", b"apiVersion: sophia.ai/v1alpha1\nkind: Release\nmetadata: {name: caf\xe9}\n"),
        expect("environments/extra.yaml:3: not UTF-8 text (byte 65: 0xe9)"),
        id="non-utf8-latin1",
    ),
    pytest.param(
        add("extra.yaml", "a: 1\n---\nb: 2\n"),
        expect("environments/extra.yaml:2: one definition per file, but this file holds several documents"),
        id="two-documents",
    ),
    # --- resource exhaustion ------------------------------------------------------------------
    pytest.param(
        add("extra.yaml", _billion_laughs()),
        expect(f"environments/extra.yaml:6: document expands to more than {yamlsafe.MAX_NODES} values (an alias bomb?)"),
        id="billion-laughs",
    ),
    pytest.param(
        add("extra.yaml", "[" * 10_000 + "]" * 10_000 + "\n"),
        expect(f"environments/extra.yaml:1: nesting deeper than {yamlsafe.MAX_DEPTH} levels"),
        id="deep-flow-10000",
    ),
    pytest.param(
        add("extra.yaml", "- " * 10_000 + "x\n"),
        expect(f"environments/extra.yaml:1: nesting deeper than {yamlsafe.MAX_DEPTH} levels"),
        id="deep-block-sequence-10000",
    ),
    pytest.param(
        add("extra.yaml", "".join(" " * i + "a:\n" for i in range(BLOCK_MAP_LEVELS)) + " " * BLOCK_MAP_LEVELS + "b\n"),
        expect(f"environments/extra.yaml:{yamlsafe.MAX_DEPTH + 1}: nesting deeper than {yamlsafe.MAX_DEPTH} levels"),
        id="deep-block-mapping-1500",
    ),
    pytest.param(
        add("extra.yaml", LARGE),
        expect(f"environments/extra.yaml: file is larger than the {yamlsafe.MAX_FILE_BYTES}-byte limit"),
        id="large-file-300k-lines",
    ),
    pytest.param(
        # 300,000 short lines fit under the byte limit; the value limit answers instead
        add("extra.yaml", HEADER + "spec:\n  images:\n" + "  - 1\n" * 299_995),
        expect(f"environments/extra.yaml:199996: document expands to more than {yamlsafe.MAX_NODES} values (an alias bomb?)"),
        id="large-list-300k-lines",
    ),
    # --- code execution -----------------------------------------------------------------------
    pytest.param(
        add("extra.yaml", _os_system("python/object/apply")),
        expect(
            "environments/extra.yaml:1: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed "
            "(only plain YAML values are read)"
        ),
        id="python-tag-apply",
    ),
    pytest.param(
        add("extra.yaml", lambda root: f"!!python/object/new:os.system\nargs: ['touch {root / MARKER}']\n"),
        expect(
            "environments/extra.yaml:1: tag 'tag:yaml.org,2002:python/object/new:os.system' is not allowed "
            "(only plain YAML values are read)"
        ),
        id="python-tag-on-mapping",
    ),
    pytest.param(
        add("extra.yaml", "? !!python/name:os.system\n: x\n"),
        expect("environments/extra.yaml:1: tag 'tag:yaml.org,2002:python/name:os.system' is not allowed on a mapping key"),
        id="python-tag-on-key",
    ),
    # --- well-formed YAML, wrong shape ----------------------------------------------------------
    pytest.param(
        edit("production.yaml", "  cluster: sophia-k3s\n", "  cluster: sophia-k3s\n  cluster: other\n"),
        expect("environments/production.yaml:{line}: spec.cluster: duplicate key 'cluster'"),
        id="duplicate-key",
    ),
    pytest.param(
        edit("production.yaml", "kind: Environment\n", "kind: Environment\nkin: x\n"),
        expect("environments/production.yaml:{line}: kin: unknown field 'kin'\n    hint: did you mean 'kind'?"),
        id="unknown-field-top",
    ),
    pytest.param(
        edit("production.yaml", "  cluster: sophia-k3s\n", "  cluster: sophia-k3s\n  clustr: x\n"),
        expect("environments/production.yaml:{line}: spec.clustr: unknown field 'clustr'\n    hint: did you mean 'cluster'?"),
        id="unknown-field-spec",
    ),
    pytest.param(
        edit("catalog.yaml", "      component: frontend\n", "      component: frontend\n      replica: 3\n"),
        expect("environments/catalog.yaml:{line}: spec.services.dashboard.replica: unknown field 'replica'\n"
               "    hint: did you mean 'replicas'?"),
        id="unknown-field-service",
    ),
    pytest.param(
        edit("catalog.yaml", "liveness: {http: {path: /, port: http}}", "liveness: {http: {path: /, port: http}, periodSecond: 5}"),
        expect(
            "environments/catalog.yaml:{line}: spec.services.dashboard.probes.liveness.periodSecond: unknown field 'periodSecond'\n"
            "    hint: did you mean 'periodSeconds'?"
        ),
        id="unknown-field-probe",
    ),
    pytest.param(
        edit("production.yaml", "      replicas: 2\n", "      replics: 2\n"),
        expect("environments/production.yaml:{line}: spec.services.dashboard.replics: unknown field 'replics'"),
        id="unknown-field-override",
    ),
    pytest.param(
        add("production.yaml", "- apiVersion: sophia.ai/v1alpha1\n- kind: Environment\n"),
        expect("environments/production.yaml:1: the top level must be a mapping, not a list"),
        id="root-is-a-list",
    ),
    pytest.param(
        add("production.yaml", "just a string\n"),
        expect("environments/production.yaml:1: the top level must be a mapping, not a string"),
        id="root-is-a-string",
    ),
    pytest.param(
        edit("production.yaml", "      replicas: 2\n", "      replicas: two\n"),
        expect("environments/production.yaml:{line}: spec.services.dashboard.replicas: Input should be a valid integer"),
        id="string-for-number",
    ),
    pytest.param(
        edit("production.yaml", "      replicas: 2\n", '      replicas: "2"\n'),
        expect("environments/production.yaml:{line}: spec.services.dashboard.replicas: Input should be a valid integer"),
        id="quoted-number",
    ),
    pytest.param(
        edit("catalog.yaml", "http: {port: 8080}", "http: {port: eighty}"),
        expect("environments/catalog.yaml:{line}: spec.services.dashboard.ports.http.port: Input should be a valid integer"),
        id="string-for-port",
    ),
    pytest.param(
        edit("production.yaml", "  cluster: sophia-k3s\n", "  cluster: 42\n"),
        expect("environments/production.yaml:{line}: spec.cluster: Input should be a valid string"),
        id="number-for-string",
    ),
    pytest.param(
        edit("production.yaml", "  name: production\n", "  name: Production_1\n"),
        expect(
            "environments/production.yaml:{line}: metadata.name: 'Production_1' is not a valid name "
            "(lowercase letters, digits and '-', starting with a letter, at most 63)"
        ),
        id="invalid-k8s-name",
    ),
    pytest.param(
        edit("production.yaml", "core: sophia-prod-core", "core: Sophia_Prod"),
        expect("environments/production.yaml:{line}: spec.namespaces.core: 'Sophia_Prod' is not a valid Kubernetes "
               "namespace name (DNS-1123 label)"),
        id="invalid-namespace-name",
    ),
    pytest.param(
        edit("catalog.yaml", "    dashboard:\n", "    Dash_Board:\n"),
        expect(
            "environments/catalog.yaml:{line}: spec.services.Dash_Board: 'Dash_Board' is not a valid name "
            "(lowercase letters, digits and '-', starting with a letter, at most 63)"
        ),
        id="invalid-service-name",
    ),
    # --- references to things that do not exist ---------------------------------------------------
    pytest.param(
        edit("catalog.yaml", "{service: redis, env: REDIS_URL}", "{service: rediss, env: REDIS_URL}"),
        expect("environments/catalog.yaml:{line}: spec.services.backend.dependencies[1].service: dependency 'rediss' is not defined\n"
               "    hint: did you mean 'redis'?"),
        id="undefined-service-dependency",
    ),
    pytest.param(
        edit("production.yaml", "    dashboard:\n", "    dashbord:\n"),
        expect("environments/production.yaml:{line}: spec.services.dashbord: service 'dashbord' is not in the catalogue\n"
               "    hint: did you mean 'dashboard'?"),
        id="undefined-service-override",
    ),
    pytest.param(
        edit("development.yaml", "dashboard:\n      placement: {pool: development}", "dashboard:\n      placement: {pool: develop}"),
        expect("environments/development.yaml:{line}: spec.services.dashboard.placement.pool: node pool 'develop' is not defined "
               "in cluster 'sophia-k3s'\n    hint: did you mean 'development'?"),
        id="undefined-node-pool",
    ),
    pytest.param(
        edit("production.yaml", "  cluster: sophia-k3s\n", "  cluster: sophia-k4s\n"),
        expect("environments/production.yaml:{line}: spec.cluster: cluster 'sophia-k4s' is not defined\n"
               "    hint: defined clusters: sophia-k3s"),
        id="undefined-cluster",
    ),
    # --- known bugs: a single mistake is reported several times (see the report of issue #10) -------
    pytest.param(
        edit("production.yaml", "  release: production\n", "  release: prod\n"),
        expect("environments/production.yaml:{line}: spec.release: release 'prod' is not defined\n"
               "    hint: defined releases: development, production"),
        id="undefined-release",
    ),
    pytest.param(
        edit("catalog.yaml", "      component: api\n", "      component: api\n      replica: 3\n"),
        expect("environments/catalog.yaml:{line}: spec.services.backend.replica: unknown field 'replica'\n"
               "    hint: did you mean 'replicas'?"),
        id="invalid-service-cascades-to-dependants",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), CASES)
def test_bad_input_fails_clearly_and_leaves_dist_alone(workspace, sophia_cli, read_tree, mutate, expected):
    before = read_tree(workspace / "dist")
    line = mutate(workspace / "environments")

    run = sophia_cli("synth", "--environments", "environments", "--out", "dist", cwd=workspace)

    assert "Traceback" not in run.stderr
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    assert run.stderr == expected.replace("{line}", str(line))
    assert read_tree(workspace / "dist") == before
    assert not (workspace / MARKER).exists(), "a python/object payload was constructed"


def test_too_many_files(workspace, sophia_cli, read_tree):
    before = read_tree(workspace / "dist")
    have = len(list((workspace / "environments").rglob("*.yaml")))
    for i in range(loader.MAX_FILES + 1 - have):
        (workspace / "environments" / f"extra-{i:03}.yaml").write_text("x: 1\n")

    run = sophia_cli("synth", "--environments", "environments", "--out", "dist", cwd=workspace)

    assert "Traceback" not in run.stderr
    message = f"environments: {loader.MAX_FILES + 1} YAML files, over the limit of {loader.MAX_FILES}"
    assert (run.returncode, run.stderr) == (1, expect(message))
    assert read_tree(workspace / "dist") == before


def test_missing_environments_folder(workspace, sophia_cli, read_tree):
    before = read_tree(workspace / "dist")
    run = sophia_cli("synth", "--environments", "nowhere", "--out", "dist", cwd=workspace)
    assert (run.returncode, run.stderr) == (1, expect("nowhere: the environments folder does not exist or is not a folder"))
    assert read_tree(workspace / "dist") == before


def test_special_files_are_skipped_not_read(workspace, sophia_cli):
    """A FIFO would block a reader forever and /dev/zero never ends; a symlink loop never ends a walk."""
    env = workspace / "environments"
    os.mkfifo(env / "pipe.yaml")
    (env / "zero.yaml").symlink_to("/dev/zero")
    (env / "loop").symlink_to("..")

    run = sophia_cli("synth", "--environments", "environments", "--out", "dist", cwd=workspace)

    assert "Traceback" not in run.stderr
    assert run.returncode == 0, run.stderr


def test_libyaml_parser_is_used():
    """Regression: `yaml.CParser` does not exist, so the reader silently fell back to the pure-Python
    parser and a 300,000-line file took ~12 s to refuse (1.4 s with libyaml)."""
    if not yaml.__with_libyaml__:  # pragma: no cover - PyYAML is pinned with its libyaml wheel
        pytest.skip("PyYAML built without libyaml")
    from yaml._yaml import CParser

    assert yamlsafe._Parser is CParser


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        pytest.param("a: [1\n", "YAML syntax error: did not find expected ',' or ']'", 2, id="syntax"),
        pytest.param("a: 1\na: 2\n", "duplicate key 'a'", 2, id="duplicate"),
        pytest.param(
            "a: !!binary aGk=\n", "tag 'tag:yaml.org,2002:binary' is not allowed (only plain YAML values are read)", 1, id="binary-tag"
        ),
        pytest.param("a: *nope\n", "unknown alias *nope", 1, id="undefined-alias"),
    ],
)
def test_reader_problems_carry_a_line(text, message, line):
    with pytest.raises(yamlsafe.YamlProblem) as info:
        yamlsafe.load_documents(text)
    assert (info.value.message, info.value.line) == (message, line)


def test_value_limit_counts_each_value_once():
    """Regression: a closed mapping or sequence added its whole subtree to the count again, so every
    value counted once per level above it and an ordinary nested file hit the alias-bomb limit."""
    text = "a:\n b:\n  c:\n   d:\n" + "".join(f"    k{i}: v\n" for i in range(1000))
    values = 2 * 1000 + 4 + 5  # keys and values at the bottom, the keys a-d, five mappings
    assert yamlsafe.load_documents(text, max_nodes=values)[0].data["a"]["b"]["c"]["d"]["k999"] == "v"
    with pytest.raises(yamlsafe.YamlProblem, match="expands to more than"):
        yamlsafe.load_documents(text, max_nodes=values - 1)


def test_alias_expansion_is_counted():
    text = "a0: &a0 [lol, lol]\na1: &a1 [*a0, *a0]\n"  # 3 + 7 values, two keys, the root mapping
    assert yamlsafe.load_documents(text, max_nodes=13)[0].data["a1"] == [["lol", "lol"], ["lol", "lol"]]
    with pytest.raises(yamlsafe.YamlProblem, match="expands to more than 12 values"):
        yamlsafe.load_documents(text, max_nodes=12)
