"""What the run leaves behind is read as hostile: links, FIFOs, devices, oversized and crafted files."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from grader.artifacts import check_model_folder, fit_folder, read_record
from grader.measure.config import UnsafeArchiveError, layer_refs, read_config


def test_record_symlinked_to_passwd_is_refused(tmp_path: Path) -> None:
    (tmp_path / "record.json").symlink_to("/etc/passwd")
    record, problem = read_record(tmp_path)
    assert record is None and "unusable" in (problem or "")


def test_record_as_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "record.json")
    record, problem = read_record(tmp_path)
    assert record is None and "not a regular file" in (problem or "")


def test_record_symlinked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    (tmp_path / "record.json").symlink_to("/dev/zero")
    assert read_record(tmp_path)[0] is None


def test_forged_record_with_unknown_fields_is_malformed(tmp_path: Path) -> None:
    (tmp_path / "record.json").write_text(json.dumps({"seed": 1, "grade": "A+"}))
    record, problem = read_record(tmp_path)
    assert record is None and "malformed" in (problem or "")


def test_artifact_folder_outside_scratch_is_refused(tmp_path: Path) -> None:
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "fit1").symlink_to("/etc")
    assert fit_folder(tmp_path, 1) is None


def _keras_zip(path: Path, config: dict[str, object], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def _sequential(*layers: dict[str, object]) -> dict[str, object]:
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": list(layers)}}


def test_lambda_and_custom_classes_are_judged_by_their_ops(tmp_path: Path) -> None:
    config = _sequential({"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d"}},
                         {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "lambda"}},
                         {"module": "os", "class_name": "system", "config": {"name": "s"}, "registered_name": "Custom>system"})
    refs = layer_refs(read_config(_keras_zip(tmp_path / "m.keras", config)))
    assert refs is not None and [r.class_name for r in refs] == ["Conv2D", "Lambda", "system"]
    assert [r.name for r in refs if not r.verifiable] == ["lambda", "s"]


def test_member_escaping_the_archive_is_refused(tmp_path: Path) -> None:
    path = _keras_zip(tmp_path / "m.keras", _sequential(), {"../../evil.py": b"x"})
    with pytest.raises(UnsafeArchiveError, match="unsafe member"):
        read_config(path)


def test_zip_bomb_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", b" " * 50_000_000)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(UnsafeArchiveError, match="declares"):
        read_config(path)


def test_model_folder_with_links_or_huge_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "fit1"
    (folder / "savedmodel").mkdir(parents=True)
    (folder / "savedmodel" / "saved_model.pb").write_bytes(b"x")
    assert check_model_folder(folder, max_bytes=1000) is None
    (folder / "savedmodel" / "variables").symlink_to("/etc")
    assert "link" in (check_model_folder(folder, max_bytes=1000) or "")
    (folder / "savedmodel" / "variables").unlink()
    (folder / "savedmodel" / "big").write_bytes(b"x" * 2000)
    assert "bytes" in (check_model_folder(folder, max_bytes=1000) or "")
