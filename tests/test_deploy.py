"""deploy/: install.sh (dry run, a real install into a temporary prefix, an upgrade over it), the systemd units
(systemd-analyze verify after the install fills them in), and the settings edit the first install makes."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import stat
import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest

from journal.journal import Journal
from tests.conftest import DAY_FILE, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None,
                                reason="deploy/install.sh is a bash script for Linux servers")
CODE = ["bot.py", "requirements.txt", "README.md", "secrets.example.toml", "settings.toml", "ict", "journal", "runtime",
        "trade", "dashboard", "examples", "deploy"]
UNITS = ["ict-bot.service", "ict-bot-backup.service", "ict-bot-backup.timer", "ict-dashboard.service"]
SKIP_SYSTEM = ["--no-packages", "--no-user", "--no-systemd", "--no-pip"]


def _state_paths():
    spec = importlib.util.spec_from_file_location("state_paths", ROOT / "deploy" / "state_paths.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def clone(tmp_path):
    """A copy of the repository as a clone would hold it (one small candle file in data/)."""
    source = tmp_path / "clone"
    source.mkdir()
    for item in CODE:
        if (ROOT / item).is_dir():
            shutil.copytree(ROOT / item, source / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / item, source / item)
    (source / "data").mkdir()
    shutil.copy2(DAY_FILE, source / "data" / DAY_FILE.name)
    return source


def _install(clone, prefix, *options):
    command = ["bash", str(clone / "deploy" / "install.sh"), "--prefix", str(prefix), "--unit-dir",
               str(prefix.parent / "units"), "--python", sys.executable, *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _tree(folder):
    """Every path under `folder` with its mode, size, mtime and content digest."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        found[str(path.relative_to(folder))] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return found


def test_install_dry_run_prints_every_step_and_touches_nothing(tmp_path, clone):
    options = [] if shutil.which("dpkg-query") else ["--no-packages"]
    before = _tree(tmp_path)
    result = _install(clone, tmp_path / "opt", "--dry-run", *options)
    assert result.returncode == 0, result.stderr
    assert _tree(tmp_path) == before
    for words in ("would: create " + str(tmp_path / "opt"), "would: copy the code", "would: create virtual environment",
                  "would: install or update the Python packages", "would: create the state folder",
                  "would: copy settings.toml", "would: create " + str(tmp_path / "opt" / "secrets.toml"),
                  "would: write " + str(tmp_path / "units" / "ict-bot.service"), "would: systemctl enable ict-bot",
                  "sudo systemctl start ict-bot", "nothing was changed"):
        assert words in result.stdout
    assert "==>" not in result.stdout  # no step was taken


def test_install_dry_run_over_an_install_touches_nothing_and_keeps_the_files(tmp_path, clone):
    assert _install(clone, tmp_path / "opt", *SKIP_SYSTEM).returncode == 0
    before = _tree(tmp_path)
    result = _install(clone, tmp_path / "opt", "--dry-run", *SKIP_SYSTEM)
    assert result.returncode == 0, result.stderr
    assert _tree(tmp_path) == before
    assert f"kept {tmp_path / 'opt' / 'settings.toml'}" in result.stdout
    assert f"kept {tmp_path / 'opt' / 'secrets.toml'}" in result.stdout


def test_install_lays_out_code_venv_private_secrets_and_state_paths(tmp_path, clone):
    prefix = tmp_path / "opt"
    result = _install(clone, prefix, *SKIP_SYSTEM)
    assert result.returncode == 0, result.stderr
    assert (prefix / "bot.py").read_bytes() == (clone / "bot.py").read_bytes()
    assert (prefix / "venv" / "bin" / "python").exists()
    assert (prefix / "var").is_dir()
    assert stat.S_IMODE((prefix / "secrets.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE((prefix / "settings.toml").stat().st_mode) == 0o660   # the bot writes a dashboard risk change back
    assert tomllib.loads((prefix / "secrets.toml").read_text()) == {"api_key": "", "api_secret": "",
                                                                   "telegram": {"token": "", "chat_id": ""}}
    bot = tomllib.loads((prefix / "settings.toml").read_text())["bot"]
    assert (bot["journal"], bot["log_file"]) == ("var/journal.db", "var/log.txt")
    assert list((prefix / "runtime").glob("__pycache__/*.pyc"))  # compiled: the service cannot write there
    unit = (tmp_path / "units" / "ict-bot.service").read_text()
    assert f"ExecStart={prefix}/venv/bin/python {prefix}/bot.py --settings {prefix}/settings.toml" in unit
    assert f"ReadWritePaths={prefix}/var {prefix}/settings.toml" in unit and f"User={_me()}" in unit
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=60", "Restart=on-failure", "RestartPreventExitStatus=2",
                 "TimeoutStopSec=90", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes"):
        assert line in unit.splitlines()
    for name in UNITS:
        assert "@PREFIX@" not in (tmp_path / "units" / name).read_text()
        assert "@USER@" not in (tmp_path / "units" / name).read_text()
    assert "sudo systemctl start ict-bot" in result.stdout


def test_install_adds_the_dashboard_unit_as_the_bots_user_with_its_hardening(tmp_path, clone):
    prefix = tmp_path / "opt"
    dry = _install(clone, prefix, "--dry-run", "--no-packages")
    assert "would: systemctl enable ict-dashboard" in dry.stdout and "ssh -L 8080:127.0.0.1:8080" in dry.stdout
    assert _install(clone, prefix, *SKIP_SYSTEM).returncode == 0
    assert list((prefix / "dashboard").glob("__pycache__/*.pyc")) and (prefix / "dashboard" / "static" / "settings.js").exists()
    unit = (tmp_path / "units" / "ict-dashboard.service").read_text().splitlines()
    bot = (tmp_path / "units" / "ict-bot.service").read_text().splitlines()
    assert f"ExecStart={prefix}/venv/bin/python -m dashboard --settings {prefix}/settings.toml" in unit
    for line in ("Restart=on-failure", "RestartPreventExitStatus=2", f"User={_me()}", f"WorkingDirectory={prefix}",
                 f"ReadWritePaths={prefix}/var"):
        assert line in unit
    hardening = [line for line in bot if line.split("=")[0] in (
        "NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ProtectHome", "PrivateDevices", "ProtectKernelTunables",
        "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictNamespaces",
        "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "RestrictAddressFamilies", "SystemCallArchitectures",
        "CapabilityBoundingSet", "User", "Group", "WorkingDirectory", "UMask")]
    assert len(hardening) == 22 and [line for line in hardening if line not in unit] == []
    # the dashboard writes only the journal's commands (var/); the bot also writes settings.toml (a risk change)
    assert f"ReadWritePaths={prefix}/var {prefix}/settings.toml" in bot and f"ReadWritePaths={prefix}/var" in unit
    host = tomllib.loads((prefix / "settings.toml").read_text())["dashboard"]["host"]
    assert host == "127.0.0.1"


def _me():
    import pwd  # POSIX only, like the whole module

    return pwd.getpwuid(os.getuid()).pw_name


def test_install_again_keeps_settings_secrets_and_journal_byte_for_byte_and_updates_code(tmp_path, clone):
    prefix = tmp_path / "opt"
    (clone / "runtime" / "retired.py").write_text('"""A module a later version drops."""\n')
    assert _install(clone, prefix, *SKIP_SYSTEM).returncode == 0
    # the user's own files after some days of running
    with (prefix / "settings.toml").open("a") as file:
        file.write("# my own note\n")
    (prefix / "secrets.toml").write_text('api_key = "my-key-aaaaaaaa"\napi_secret = "my-secret-bbbbbbbb"\n')
    (prefix / "secrets.toml").chmod(0o644)  # loosened by hand: the upgrade makes it private again
    journal = Journal.open(prefix / "var" / "journal.db", "paper")
    journal.close()
    (prefix / "var" / "log.txt").write_text("a day of log lines\n")
    kept = {name: (prefix / name).read_bytes() for name in ("settings.toml", "secrets.toml", "var/journal.db", "var/log.txt")}
    # a new version in the clone: changed code, a dropped module, new shipped settings
    (clone / "runtime" / "backup.py").write_text((clone / "runtime" / "backup.py").read_text() + "# version 2\n")
    (clone / "runtime" / "retired.py").unlink()
    (clone / "settings.toml").write_text((clone / "settings.toml").read_text() + "# shipped in version 2\n")

    result = _install(clone, prefix, *SKIP_SYSTEM)
    assert result.returncode == 0, result.stderr
    assert {name: (prefix / name).read_bytes() for name in kept} == kept
    assert stat.S_IMODE((prefix / "secrets.toml").stat().st_mode) == 0o600
    assert (prefix / "runtime" / "backup.py").read_text().endswith("# version 2\n")
    assert not (prefix / "runtime" / "retired.py").exists()
    assert "kept" in result.stdout and "restart" not in result.stdout  # --no-systemd: nothing was running


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_install_units_pass_systemd_analyze_verify(tmp_path, clone):
    # installed first, so ExecStart's venv python exists, as systemd-analyze checks it
    assert _install(clone, tmp_path / "opt", *SKIP_SYSTEM).returncode == 0
    units = [str(tmp_path / "units" / name) for name in UNITS]
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=120)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "ict-bot" in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


@pytest.mark.parametrize("options, words", [(["--frobnicate"], "unknown option --frobnicate"),
                                             (["--prefix", "relative/dir"], "must be an absolute path"),
                                             (["--prefix", "/opt/my bot"], "must be an absolute path"),
                                             (["--user", "Bad User"], "must be a lower-case user name")])
def test_install_bad_option_gives_one_line_and_exit_2(tmp_path, clone, options, words):
    result = subprocess.run(["bash", str(clone / "deploy" / "install.sh"), "--dry-run", *options],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr


def test_state_paths_changes_only_the_two_values_in_the_bot_table():
    state_paths = _state_paths()
    shipped = (ROOT / "settings.toml").read_text(encoding="utf-8")
    changed = state_paths.set_bot_paths(shipped, {"journal": "var/journal.db", "log_file": "var/log.txt"})
    before, after = tomllib.loads(shipped), tomllib.loads(changed)
    assert (after["bot"]["journal"], after["bot"]["log_file"]) == ("var/journal.db", "var/log.txt")
    after["bot"]["journal"], after["bot"]["log_file"] = before["bot"]["journal"], before["bot"]["log_file"]
    assert after == before
    differing = [(a, b) for a, b in zip(shipped.splitlines(), changed.splitlines()) if a != b]
    assert len(differing) == 2 and len(shipped.splitlines()) == len(changed.splitlines())
    for old, new in differing:  # the comment stays where it was
        assert old.index("#") == new.index("#")


def test_state_paths_leaves_other_tables_and_adds_a_missing_key():
    state_paths = _state_paths()
    text = '[exchange]\njournal = "not this one"\n\n[bot]\nmode = "paper"  # note\n\n[risk]\nleverage = 5\n'
    changed = tomllib.loads(state_paths.set_bot_paths(text, {"journal": "var/j.db", "log_file": "var/log.txt"}))
    assert changed["exchange"]["journal"] == "not this one"
    assert changed["bot"] == {"mode": "paper", "journal": "var/j.db", "log_file": "var/log.txt"}
    assert changed["risk"] == {"leverage": 5}


@pytest.mark.parametrize("text, path, words", [('[bot]\njournal = "a"\n', 'var/"x.db', "quote"),
                                               ('[risk]\nleverage = 5\n', "var/j.db", "no [bot] table"),
                                               ('[bot]\njournal = 5\n', "var/j.db", "not a simple string")])
def test_state_paths_refuses_what_it_cannot_edit_safely(text, path, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        _state_paths().set_bot_paths(text, {"journal": path})


def test_readme_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\npython -m pytest -q\n" in ci and "\npython -m pytest -q\n" in readme


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed here")
def test_install_script_is_shellcheck_clean():
    result = subprocess.run(["shellcheck", str(ROOT / "deploy" / "install.sh")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
