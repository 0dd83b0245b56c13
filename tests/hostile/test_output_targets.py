"""``--output FILE`` (issue 11): a regular file or a new path is written through ``.partial`` and
a rename; a symlink, FIFO or device node is written in place and stays what it was (renaming
over ``/dev/stdout`` as root would replace it with a regular file); a directory is refused
with one line; a planted ``.partial`` link is never written through."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
from helpers.cli_store import store_runner

from collector.cli import cli
from collector.writers.output_file import OutputError, open_output, write_output

# every command with --output, as arguments before the path
COMMANDS = {
    "site-json": ["site", "toonmoa101.com", "--format", "json", "--output"],
    "site-table": ["site", "toonmoa101.com", "--output"],
    "site-md": ["site", "toonmoa101.com", "--format", "md", "--output"],
    "network-dot": ["network", "toonmoa101.com", "--format", "dot", "--output"],
    "report": ["report", "--output"],
    "export-csv": ["export", "--format", "csv", "--output"],
}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    return store_runner(tmp_path, monkeypatch)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_symlink_stays_a_symlink_and_its_target_gets_the_text(runner, tmp_path, command):
    target = tmp_path / "real.out"
    target.write_text("old")
    link = tmp_path / "link.out"
    link.symlink_to(target)
    result = runner.invoke(cli, [*COMMANDS[command], str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() not in ("", "old")
    assert not (tmp_path / "link.out.partial").exists()


@pytest.mark.parametrize("command", ["site-json", "export-csv"])
def test_a_fifo_is_written_in_place(runner, tmp_path, command):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(cli, [*COMMANDS[command], str(fifo)])
    if reader.is_alive():  # nothing opened the FIFO (a regular file was renamed over it): unblock the reader
        with open(fifo, "wb"):
            pass
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the FIFO is still a FIFO"
    assert got and b"toonmoa101.com" in got[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
@pytest.mark.parametrize("command", ["site-json", "report", "export-csv"])
def test_a_device_node_stays_a_device(runner, tmp_path, command):
    null = tmp_path / "null"  # a /dev/null of the test's own: never the real one
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    result = runner.invoke(cli, [*COMMANDS[command], str(null)])
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert not (tmp_path / "null.partial").exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_directory_is_refused_in_one_line(runner, tmp_path, command):
    folder = tmp_path / "folder"
    folder.mkdir()
    result = runner.invoke(cli, [*COMMANDS[command], str(folder)])
    assert result.exit_code == 2, result.output
    assert "directory" in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1


@pytest.mark.parametrize("command", ["site-json", "network-dot", "export-csv"])
def test_a_regular_file_is_replaced_atomically_and_a_planted_partial_is_not_followed(runner, tmp_path, command):
    out = tmp_path / "out.txt"
    out.write_text("old")
    out.chmod(0o640)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out.txt.partial").symlink_to(victim)
    result = runner.invoke(cli, [*COMMANDS[command], str(out)])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious", "the planted .partial link was written through"
    assert not out.is_symlink() and out.is_file() and "toonmoa101.com" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o640, "the replaced file keeps its permissions"
    assert not (tmp_path / "out.txt.partial").exists() and not (tmp_path / "out.txt.partial").is_symlink()


def test_a_failed_write_leaves_the_old_file(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("old report")
    with pytest.raises(RuntimeError), open_output(str(out)) as f:
        f.write("half a rep")
        raise RuntimeError("the renderer failed")
    assert out.read_text() == "old report" and not (tmp_path / "report.html.partial").exists()
    write_output(str(tmp_path / "new.json"), json.dumps({"a": 1}))
    assert json.loads((tmp_path / "new.json").read_text()) == {"a": 1}
    with pytest.raises(OutputError, match="is a directory"):
        write_output(str(tmp_path), "x")
    with pytest.raises(OutputError, match="--output .*missing"):
        write_output(str(tmp_path / "missing" / "x.json"), "x")
