"""Package.swift, the Dockerfile and docker-compose.yml agree (no server, no Docker engine).

SwiftPM loads every target Package.swift declares, test and fuzz targets included, even to
build one product: a target directory missing from the image's build stage fails `swift build`
there. These tests read the three files as text and fail when
- a target's directory (its `path:`, or `Sources/<name>`, `Tests/<name>` for test targets,
  `Plugins/<name>` for plugins) is not copied into the build stage where `swift build` runs
  (a COPY of a parent directory covers it), or is excluded by .dockerignore;
- the build stage copies a path that does not exist;
- the image runs as root, lacks the data and keys volumes, or builds something else than the
  release `portcullis` product;
- the compose file defines its own health check for the service built from the Dockerfile
  (it inherits the image's HEALTHCHECK: one definition).
"""
from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Target kinds and the folder their directory defaults to (SwiftPM's predefined directories).
TARGET_KINDS = {
    "target": "Sources", "executableTarget": "Sources", "systemLibrary": "Sources", "macro": "Sources",
    "testTarget": "Tests", "plugin": "Plugins",
}


# ---------------------------------------------------------------- Package.swift

def _skip_string(text: str, i: int) -> int:
    """Index just past the Swift string literal starting at text[i] (`"…"` or `\"\"\"…\"\"\"`)."""
    if text.startswith('"""', i):
        end = text.find('"""', i + 3)
        if end < 0:
            raise ValueError("unterminated multi-line string in Package.swift")
        return end + 3
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    raise ValueError("unterminated string in Package.swift")


def _strip_comments(text: str) -> str:
    """Package.swift without // and /* */ comments (string literals kept intact)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == '"':
            end = _skip_string(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _call_arguments(text: str, open_paren: int) -> str:
    """The text between the parenthesis at `open_paren` and its match."""
    depth, i = 0, open_paren
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return text[open_paren + 1:i]
        i += 1
    raise ValueError("unbalanced parentheses in Package.swift")


def _top_level_argument(arguments: str, label: str) -> str | None:
    """The expression of `label:` at nesting depth 0 of a call's arguments, or None."""
    depth, i, start = 0, 0, 0
    pieces = []
    while i < len(arguments):
        c = arguments[i]
        if c == '"':
            i = _skip_string(arguments, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            pieces.append(arguments[start:i])
            start = i + 1
        i += 1
    pieces.append(arguments[start:])
    for piece in pieces:
        match = re.match(rf"\s*{label}\s*:\s*(.*)\s*$", piece, re.S)
        if match:
            return match.group(1).strip()
    return None


def _string_literal(expression: str, what: str) -> str:
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', expression)
    if not match:
        raise ValueError(f"{what} is not a string literal ({expression!r}): this test cannot follow it")
    return match.group(1)


@dataclass
class Target:
    kind: str
    name: str
    directory: str  # relative to the package root, no trailing slash


def package_targets(package_swift: str) -> list[Target]:
    """Every target Package.swift declares (the calls directly inside `targets: [ … ]`, so a
    `.target(name:condition:)` reference in a dependency list is not one), with the directory
    SwiftPM reads it from."""
    text = _strip_comments(package_swift)
    package = re.search(r"\bPackage\s*\(", text)
    if not package:
        raise ValueError("no Package( … ) in Package.swift")
    expression = _top_level_argument(_call_arguments(text, package.end() - 1), "targets")
    if expression is None or not expression.startswith("["):
        raise ValueError("Package.swift has no literal `targets: [ … ]`: this test cannot follow it")
    inner = expression[1:expression.rindex("]")]
    targets, depth, i = [], 0, 0
    while i < len(inner):
        c = inner[i]
        if c == '"':
            i = _skip_string(inner, i)
            continue
        if depth == 0:
            call = re.match(r"\.(" + "|".join(TARGET_KINDS) + r"|binaryTarget)\s*\(", inner[i:])
            if call:
                kind = call.group(1)
                arguments = _call_arguments(inner, i + call.end() - 1)
                name = _string_literal(_top_level_argument(arguments, "name") or "", f".{kind} name")
                path = _top_level_argument(arguments, "path")
                if kind == "binaryTarget":
                    if path is not None:  # a local artifact; one with `url:` is downloaded, not copied
                        targets.append(Target(kind, name, posixpath.normpath(_string_literal(path, f"path of {name}"))))
                    i += 1
                    continue
                directory = _string_literal(path, f"path of target {name}") if path is not None else f"{TARGET_KINDS[kind]}/{name}"
                targets.append(Target(kind, name, posixpath.normpath(directory)))
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    if not targets:
        raise ValueError("no target found in Package.swift")
    return targets


# ---------------------------------------------------------------- Dockerfile

@dataclass
class Copy:
    sources: list[str]
    destination: str  # absolute, resolved against the WORKDIR at that line
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    copies: list[Copy] = field(default_factory=list)
    runs: list[tuple[str, str]] = field(default_factory=list)  # (workdir, command)
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)


def dockerfile_instructions(dockerfile: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with continuations joined and comments dropped."""
    result, buffer, first = [], "", 0
    for number, line in enumerate(dockerfile.splitlines(), 1):
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # a comment line inside a continuation
        if not buffer:
            first = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        instruction, _, arguments = buffer.partition(" ")
        result.append((first, instruction.upper(), arguments.strip()))
        buffer = ""
    if buffer:
        instruction, _, arguments = buffer.partition(" ")
        result.append((first, instruction.upper(), arguments.strip()))
    return result


def _words(arguments: str) -> list[str]:
    """JSON-array (exec) form or whitespace-separated words."""
    if arguments.startswith("["):
        return json.loads(arguments)
    return shlex.split(arguments)


def dockerfile_stages(dockerfile: str) -> list[Stage]:
    stages: list[Stage] = []
    workdir = "/"
    for line, instruction, arguments in dockerfile_instructions(dockerfile):
        if instruction == "FROM":
            words = arguments.split()
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(base=words[0], name=name))
            workdir = "/"
            continue
        if not stages:
            continue  # ARG before the first FROM
        stage = stages[-1]
        stage.instructions.append((instruction, arguments))
        if instruction == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, arguments.strip()))
        elif instruction in ("COPY", "ADD"):
            words = _words(arguments)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            if any(f.startswith("--from") for f in flags) or len(paths) < 2:
                continue  # from another stage or image, not from the build context
            destination = paths[-1]
            resolved = posixpath.normpath(posixpath.join(workdir, destination))
            if destination.endswith("/") or destination in (".", "./"):
                resolved += "/"  # a directory destination: a file source keeps its name in it
            stage.copies.append(Copy([posixpath.normpath(s) for s in paths[:-1]], resolved, line))
        elif instruction == "RUN":
            stage.runs.append((workdir, arguments))
    return stages


def swift_build_stage(stages: list[Stage]) -> tuple[Stage, str]:
    """The stage whose RUN invokes `swift build`, and the directory it runs in."""
    for stage in stages:
        for workdir, command in stage.runs:
            if re.search(r"\bswift\s+build\b", command):
                return stage, workdir
    raise AssertionError("no stage of the Dockerfile runs `swift build`")


def _placed_at(copy: Copy, source: str) -> str:
    """Where the content of directory `source` (one of copy.sources) lands in the image."""
    if len(copy.sources) > 1 or copy.destination.endswith("/"):
        # Several sources, or a directory destination: a directory's *contents* go into it.
        return copy.destination.rstrip("/") or "/"
    return copy.destination


def disagreements(package_swift: str, dockerfile: str, dockerignore: str = "", root: Path | None = None) -> list[str]:
    """Every way the Dockerfile's build stage fails to hold what Package.swift declares; [] if none."""
    problems = []
    stage, package_root = swift_build_stage(dockerfile_stages(dockerfile))
    copies = stage.copies

    def copied_to_package_root(relative: str, is_file: bool) -> bool:
        for copy in copies:
            for source in copy.sources:
                if source == ".":
                    if _placed_at(copy, source) == package_root:
                        return True
                    continue
                if is_file and source == relative:
                    destination = copy.destination
                    if destination.endswith("/"):
                        destination = destination + posixpath.basename(source)
                    if posixpath.normpath(destination) == posixpath.join(package_root, relative):
                        return True
                    continue
                if relative == source or relative.startswith(source + "/"):
                    if _placed_at(copy, source) == posixpath.join(package_root, source):
                        return True
        return False

    if not copied_to_package_root("Package.swift", is_file=True):
        problems.append(f"Package.swift is not copied to {package_root}, where `swift build` runs")
    ignored = [p.strip().rstrip("/") for p in dockerignore.splitlines() if p.strip() and not p.strip().startswith(("#", "!"))]
    for target in package_targets(package_swift):
        if not copied_to_package_root(target.directory, is_file=False):
            problems.append(f"target {target.name!r} ({target.kind}) lives in {target.directory}/, "
                            f"which no COPY puts into {package_root} in the build stage")
        parts = target.directory.split("/")
        for pattern in ignored:
            if any(fnmatch.fnmatchcase("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)):
                problems.append(f"target {target.name!r}: {target.directory}/ is excluded by .dockerignore pattern {pattern!r}")
    if root is not None:
        for copy in copies:
            for source in copy.sources:
                if not any(root.glob(source)) and not (root / source).exists():
                    problems.append(f"line {copy.line}: COPY {source} names a path that does not exist")
    return problems


# ---------------------------------------------------------------- the repository's files

def read(name: str) -> str:
    return (ROOT / name).read_text()


def test_every_package_target_directory_is_copied_into_the_docker_build_stage():
    ignore = ROOT / ".dockerignore"
    problems = disagreements(read("Package.swift"), read("Dockerfile"), ignore.read_text() if ignore.exists() else "", ROOT)
    assert problems == [], "Dockerfile and Package.swift disagree:\n" + "\n".join(problems)


def test_the_package_parser_finds_every_kind_of_target_and_its_directory():
    targets = {t.name: t for t in package_targets(read("Package.swift"))}
    # The ones that broke the image: explicit paths outside Sources/ and Tests/.
    assert targets["fuzz-jws"].directory == "Fuzz/fuzz-jws"
    assert targets["PortcullisFuzzTargets"].directory == "Fuzz/Targets"
    assert targets["policy-bench"].directory == "Benchmarks/policy-bench"
    assert targets["PortcullisCryptoTests"].directory == "Tests/PortcullisCryptoTests"
    assert targets["COpenSSL"].directory == "Sources/COpenSSL"
    assert targets["portcullis"].directory == "Sources/portcullis"
    # Every declared target directory exists (so the default-path rules match SwiftPM's).
    for target in targets.values():
        assert (ROOT / target.directory).is_dir(), f"{target.name}: {target.directory} does not exist"


PACKAGE = '''// swift-tools-version:6.2
import PackageDescription
let package = Package(
    name: "demo",
    targets: [
        .target(name: "Core", dependencies: [.target(name: "Helper", condition: .when(platforms: [.linux]))]),
        .target(name: "Helper"),
        // .target(name: "Commented", path: "Nowhere"),
        .executableTarget(name: "fuzz-jws", dependencies: ["Core"], path: "Fuzz/fuzz-jws"),
        .executableTarget(name: "bench", path: "Benchmarks/bench"),
        .testTarget(name: "CoreTests", dependencies: ["Core"]),
        .testTarget(name: "StoreConformance", path: "Tests/StoreConformance"),
    ]
)
'''

DOCKERFILE = '''FROM swift:6.3-bookworm AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
{fuzz}COPY ["Benchmarks", "./Benchmarks"]
RUN swift build -c release --product demo \\
    && cp "$(swift build -c release --show-bin-path)/demo" /demo

FROM debian:bookworm-slim
COPY --from=build /demo /usr/local/bin/demo
'''


def test_parsing_a_sample_package_finds_declarations_not_references_or_comments():
    targets = {t.name: t.directory for t in package_targets(PACKAGE)}
    assert targets == {"Core": "Sources/Core", "Helper": "Sources/Helper", "fuzz-jws": "Fuzz/fuzz-jws",
                       "bench": "Benchmarks/bench", "CoreTests": "Tests/CoreTests",
                       "StoreConformance": "Tests/StoreConformance"}


def test_a_dockerfile_without_fuzz_is_reported():
    problems = disagreements(PACKAGE, DOCKERFILE.format(fuzz=""))
    assert len(problems) == 1, problems
    assert "'fuzz-jws'" in problems[0] and "Fuzz/fuzz-jws/" in problems[0]


def test_a_dockerfile_with_every_directory_passes_and_a_parent_copy_covers_its_children():
    assert disagreements(PACKAGE, DOCKERFILE.format(fuzz="COPY Fuzz ./Fuzz\n")) == []
    assert disagreements(PACKAGE, DOCKERFILE.format(fuzz="COPY Fuzz/fuzz-jws ./Fuzz/fuzz-jws\n")) == []
    whole = "FROM swift:6.3 AS build\nWORKDIR /src\nCOPY . .\nRUN swift build --product demo\n"
    assert disagreements(PACKAGE, whole) == []


def test_a_copy_to_the_wrong_place_is_reported():
    # `COPY Fuzz ./` spills Fuzz's contents into /src: SwiftPM would not find /src/Fuzz/fuzz-jws.
    problems = disagreements(PACKAGE, DOCKERFILE.format(fuzz="COPY Fuzz ./\n"))
    assert [p for p in problems if "fuzz-jws" in p], problems
    # The package copied elsewhere than where `swift build` runs.
    moved = DOCKERFILE.format(fuzz="COPY Fuzz ./Fuzz\n").replace("COPY Package.swift ./", "COPY Package.swift /tmp/")
    assert any("Package.swift is not copied" in p for p in disagreements(PACKAGE, moved))


def test_a_dockerignore_excluding_a_target_directory_is_reported():
    problems = disagreements(PACKAGE, DOCKERFILE.format(fuzz="COPY Fuzz ./Fuzz\n"), ".build\nBenchmarks/\n")
    assert any("'bench'" in p and ".dockerignore" in p for p in problems), problems


# ---------------------------------------------------------------- the image and compose

def final_stage() -> Stage:
    return dockerfile_stages(read("Dockerfile"))[-1]


def instruction_values(stage: Stage, name: str) -> list[str]:
    return [arguments for instruction, arguments in stage.instructions if instruction == name]


def test_the_image_builds_the_release_product_and_runs_as_a_non_root_user_with_data_and_keys_volumes():
    stage, _ = swift_build_stage(dockerfile_stages(read("Dockerfile")))
    assert any(re.search(r"swift build\b.*-c release\b.*--product portcullis\b", command) for _, command in stage.runs)
    runtime = final_stage()
    users = instruction_values(runtime, "USER")
    assert users, "the runtime stage has no USER: it would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    volumes = [v for arguments in instruction_values(runtime, "VOLUME") for v in _words(arguments)]
    environment = " ".join(instruction_values(runtime, "ENV"))
    database = re.search(r"PORTCULLIS_DB=(\S+)", environment).group(1)
    keys = re.search(r"PORTCULLIS_KEYS=(\S+)", environment).group(1)
    assert posixpath.dirname(database) in volumes, f"the database directory is not a VOLUME: {volumes}"
    assert keys in volumes, f"the keys directory is not a VOLUME: {volumes}"


def portcullis_services(compose: dict) -> dict:
    """Compose services built from this repository's Dockerfile."""
    found = {}
    for name, service in (compose.get("services") or {}).items():
        build = service.get("build")
        if build is None:
            continue
        context, dockerfile = (build, "Dockerfile") if isinstance(build, str) else (build.get("context", "."), build.get("dockerfile", "Dockerfile"))
        if (ROOT / context / dockerfile).resolve() == (ROOT / "Dockerfile").resolve():
            found[name] = service
    return found


def test_one_healthcheck_the_dockerfile_defines_and_compose_inherits():
    healthchecks = instruction_values(final_stage(), "HEALTHCHECK")
    assert len(healthchecks) == 1 and "CMD" in healthchecks[0], healthchecks
    compose = yaml.safe_load(read("docker-compose.yml"))
    services = portcullis_services(compose)
    assert services, "docker-compose.yml builds no service from the Dockerfile"
    for name, service in services.items():
        assert "healthcheck" not in service, (
            f"service {name!r} defines its own healthcheck: remove it, the image's HEALTHCHECK applies")


def test_compose_mounts_its_volumes_where_the_image_declares_them():
    volumes = [v for arguments in instruction_values(final_stage(), "VOLUME") for v in _words(arguments)]
    compose = yaml.safe_load(read("docker-compose.yml"))
    for name, service in portcullis_services(compose).items():
        mounted = set()
        for volume in service.get("volumes", []):
            target = volume.split(":")[1] if isinstance(volume, str) else volume.get("target")
            mounted.add(target)
        missing = [v for v in volumes if v not in mounted]
        assert not missing, f"service {name!r} leaves image volumes anonymous: {missing}"


@pytest.mark.parametrize("path", ["Dockerfile", "docker-compose.yml", ".dockerignore"])
def test_the_packaging_files_exist(path):
    assert (ROOT / path).is_file()
