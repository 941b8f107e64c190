"""scripts/check-private-imports (run by `make lint`): a module's private names stay its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check-private-imports"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True)


PACKAGES = {
    "app/__init__.py": "",
    "app/planning/__init__.py": "",
    "app/planning/recipients.py": "_Recipients = object\ndef public(): pass\n",
    "app/planning/_internal.py": "",
    "app/sweep/__init__.py": "",
}


def test_a_module_may_share_its_private_names_between_its_own_files(tmp_path):
    root = _tree(
        tmp_path,
        {
            **PACKAGES,
            "app/planning/batches.py": "from ._internal import x\nfrom app.planning.recipients import _Recipients\n",
        },
    )
    result = _check(root)
    assert result.returncode == 0, result.stdout


def test_importing_or_reaching_another_modules_private_name_is_reported(tmp_path):
    root = _tree(
        tmp_path,
        {
            **PACKAGES,
            "app/sweep/run.py": (
                "import app.planning.recipients as recipients\n"
                "from app.planning import _internal\n"
                "from app.planning.recipients import public\n"
                "def run():\n"
                "    from app.planning.recipients import _Recipients\n"
                "    return recipients._Recipients, app.planning.recipients._Recipients, public\n"
            ),
        },
    )
    result = _check(root)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "app/sweep/run.py:2: app.sweep.run uses app.planning._internal, private to app.planning",
        "app/sweep/run.py:5: app.sweep.run uses app.planning.recipients._Recipients, private to app.planning",
        "app/sweep/run.py:6: app.sweep.run uses app.planning.recipients._Recipients, private to app.planning",
        "app/sweep/run.py:6: app.sweep.run uses app.planning.recipients._Recipients, private to app.planning",
    ]


def test_dunder_names_are_public(tmp_path):
    root = _tree(tmp_path, {**PACKAGES, "app/sweep/run.py": "from app.planning.recipients import __doc__\n"})
    assert _check(root).returncode == 0
