"""Where spendkoll keeps its runtime state.

Everything a run writes lives under one data directory: ``var/`` in the project
checkout by default, or ``$SPENDKOLL_DATA_DIR``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The checkout (or image directory) holding dags/, dbt_project/, include/."""
    from spendkoll.settings import settings

    return settings().home or PROJECT_ROOT


PRIVATE_DIRS = ("archive", "rejected", "work")


@dataclass(frozen=True)
class DataDir:
    root: Path

    @classmethod
    def from_env(cls) -> DataDir:
        from spendkoll.settings import settings

        root = settings().data_dir or project_root() / "var"
        return cls(root.resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        # "raw" is the warehouse's schema and dbt source; the files are the archive
        return self.root / "archive"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "spendkoll.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def demo_answers(self) -> Path:
        return self.root / "demo" / "answers"

    def landing_for(self, source: str) -> Path:
        return self.landing / source

    def ensure(self) -> DataDir:
        old_archive = self.root / "raw"  # the archive's name before spendkoll 0.2
        if old_archive.is_dir() and not self.archive.exists():
            old_archive.rename(self.archive)
        for p in (self.landing, self.archive, self.rejected, self.work, self.warehouse_dir):
            p.mkdir(parents=True, exist_ok=True)
        # The archive, the rejected files and the work files hold delivered files
        # as they came, personnummer included: readable by the owner only.
        for name in PRIVATE_DIRS:
            (self.root / name).chmod(0o700)
        return self
