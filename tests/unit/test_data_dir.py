"""The data directory: the folders holding delivered files as they came
(personnummer included) are readable by the owner only."""

from __future__ import annotations

import stat
from pathlib import Path

from spendkoll.paths import DataDir


def test_archive_rejected_and_work_are_owner_only(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "var").ensure()
    for folder in (data.archive, data.rejected, data.work):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    # ensure() tightens folders created before with a wider mode
    data.rejected.chmod(0o755)
    data.ensure()
    assert stat.S_IMODE(data.rejected.stat().st_mode) == 0o700


def test_an_archive_of_an_older_version_is_renamed_not_forgotten(tmp_path: Path) -> None:
    old = tmp_path / "var" / "raw" / "ledger"
    old.mkdir(parents=True)
    (old / "000001_abc_ledger.csv").write_text("x", encoding="utf-8")
    data = DataDir(tmp_path / "var").ensure()
    assert data.archive.name == "archive"
    assert (data.archive / "ledger" / "000001_abc_ledger.csv").read_text() == "x"
    assert not (tmp_path / "var" / "raw").exists()
