"""The pages in docs/ agree with the code they describe.

- docs/API.md's endpoint table lists exactly the operations of the served openapi.yaml;
- docs/CLI.md is what the binary's --help prints today (scripts/cli_reference.py --check), and
  that check does fail on a changed help line, a new and a removed subcommand;
- docs/CONFIGURATION.md's table lists exactly the settings `portcullis config` prints, with the
  file keys and defaults the binary accepts.
"""
import json
import os
import re
import stat
import subprocess
import sys

import pytest
import yaml

from conftest import BIN, ROOT

DOCS = os.path.join(ROOT, "docs")
OPENAPI = os.path.join(ROOT, "Sources", "PortcullisServer", "openapi.yaml")
CLI_REFERENCE = os.path.join(ROOT, "scripts", "cli_reference.py")
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def read(name):
    with open(os.path.join(DOCS, name), encoding="utf-8") as f:
        return f.read()


# API.md


def test_api_table_matches_openapi():
    with open(OPENAPI, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    served = {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in HTTP_METHODS}
    row = re.compile(r"^\|\s*`([A-Z]+)`\s*\|\s*`([^`]+)`\s*\|")
    documented = [m.groups() for m in map(row.match, read("API.md").splitlines()) if m]
    assert len(documented) == len(set(documented)), "docs/API.md lists an operation twice"
    assert served - set(documented) == set(), "in openapi.yaml but not in docs/API.md's table"
    assert set(documented) - served == set(), "in docs/API.md's table but not in openapi.yaml"


def test_api_page_links_the_served_description():
    text = read("API.md")
    assert "](../Sources/PortcullisServer/openapi.yaml)" in text
    assert "/openapi.yaml" in text


# CLI.md


def check_cli_reference(binary):
    return subprocess.run([sys.executable, CLI_REFERENCE, "--binary", binary, "--check", os.path.join(DOCS, "CLI.md")],
                          capture_output=True, text=True, timeout=120)


def test_cli_reference_is_current():
    result = check_cli_reference(BIN)
    assert result.returncode == 0, result.stdout + result.stderr


def wrapper(tmp_path, body):
    """An executable that runs the real binary, then lets `body` rewrite its help output.

    `body` sees `args` (the arguments, without the program name) and `out` (the real output)
    and must leave the text to print in `out`.
    """
    path = tmp_path / "portcullis"
    path.write_text(
        f"#!{sys.executable}\n"
        "import subprocess, sys\n"
        "args = sys.argv[1:]\n"
        f"real = subprocess.run([{BIN!r}, *args], capture_output=True, text=True)\n"
        "out = real.stdout\n"
        f"{body}\n"
        "sys.stdout.write(out)\n"
        "sys.stderr.write(real.stderr)\n"
        "sys.exit(real.returncode)\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_cli_reference_check_catches_a_changed_help_line(tmp_path):
    binary = wrapper(tmp_path, (
        "if args == ['keys', 'rotate', '--help']:\n"
        "    assert 'OVERVIEW: ' in out\n"
        "    out = out.replace('OVERVIEW: ', 'OVERVIEW: (changed) ', 1)"))
    result = check_cli_reference(binary)
    assert result.returncode == 1
    assert "\n+OVERVIEW: (changed) " in result.stdout
    assert "make cli-reference" in result.stderr


def test_cli_reference_check_catches_a_new_subcommand(tmp_path):
    binary = wrapper(tmp_path, (
        "if args == ['keys', '--help']:\n"
        "    assert '\\nSUBCOMMANDS:\\n' in out\n"
        "    out = out.replace('\\nSUBCOMMANDS:\\n', '\\nSUBCOMMANDS:\\n  export                  Export the public keys.\\n', 1)\n"
        "elif args == ['keys', 'export', '--help']:\n"
        "    out = 'OVERVIEW: Export the public keys.\\n\\nUSAGE: portcullis keys export\\n'\n"
        "    real = subprocess.CompletedProcess(args, 0, out, '')"))
    result = check_cli_reference(binary)
    assert result.returncode == 1
    assert "\n+## portcullis keys export\n" in result.stdout
    assert "make cli-reference" in result.stderr


def test_cli_reference_check_catches_a_removed_subcommand(tmp_path):
    binary = wrapper(tmp_path, (
        "if args == ['keys', '--help']:\n"
        "    lines = out.split('\\n')\n"
        "    assert any(line.startswith('  retire ') for line in lines)\n"
        "    out = '\\n'.join(line for line in lines if not line.startswith('  retire '))"))
    result = check_cli_reference(binary)
    assert result.returncode == 1
    assert "\n-## portcullis keys retire\n" in result.stdout
    assert "make cli-reference" in result.stderr


def test_cli_reference_is_deterministic(tmp_path):
    """Two runs under different terminal widths write the same page."""
    pages = []
    for columns in ("40", "250"):
        out = tmp_path / f"cli-{columns}.md"
        env = dict(os.environ, COLUMNS=columns)
        subprocess.run([sys.executable, CLI_REFERENCE, "--binary", BIN, "--write", str(out)], env=env, check=True,
                       capture_output=True, timeout=120)
        pages.append(out.read_text())
    assert pages[0] == pages[1]


# CONFIGURATION.md


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}


def run_config(tmp_path, *args):
    result = subprocess.run([BIN, "config", "--json", *args], env=clean_env(), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return {s["key"]: s for s in json.loads(result.stdout)}


def documented_settings():
    """{PORTCULLIS_NAME: (file key, default)} from the settings table of CONFIGURATION.md.

    A settings row starts `| `PORTCULLIS_NAME` | `file-key` | flag | `default` | …`.
    """
    row = re.compile(r"^\|\s*`(PORTCULLIS_[A-Z0-9_]+)`\s*\|\s*`([a-z0-9_-]+)`\s*\|[^|]*\|\s*`([^`]*)`")
    found = {}
    for line in read("CONFIGURATION.md").splitlines():
        m = row.match(line)
        if m:
            assert m.group(1) not in found, f"{m.group(1)} is listed twice"
            found[m.group(1)] = (m.group(2), m.group(3))
    return found


def test_configuration_table_lists_every_setting(tmp_path):
    known = set(run_config(tmp_path))
    documented = set(documented_settings())
    assert known - documented == set(), "`portcullis config` prints settings docs/CONFIGURATION.md does not list"
    assert documented - known == set(), "docs/CONFIGURATION.md lists settings the binary does not know"


def test_configuration_defaults_and_file_keys(tmp_path):
    """Every documented default is the binary's default, and every file key sets its setting."""
    defaults = run_config(tmp_path)
    documented = documented_settings()
    for name, (_, default) in documented.items():
        assert defaults[name]["value"] == default, f"{name}: the doc says {default!r}, the binary {defaults[name]['value']!r}"
        assert defaults[name]["source"] == "defaults"
    config = tmp_path / "portcullis.conf"
    config.write_text("".join(f"{key} = {default}\n" for key, default in documented.values()))
    from_file = run_config(tmp_path, "--config", str(config))
    for name in documented:
        assert from_file[name]["source"] == "file", f"{name}: file key {documented[name][0]!r} did not set it"
