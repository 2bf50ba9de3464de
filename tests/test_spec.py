from pathlib import Path

import pytest

from grader.errors import SpecError
from grader.exercises import find_exercise
from grader.spec import parse_spec


def test_shipped_exercise_loads_with_the_documented_rules() -> None:
    spec, folder = find_exercise(None)
    assert spec.id == "mnist-single-conv"
    assert spec.training.threshold == 0.998
    assert spec.training.epoch_budget == 20
    assert spec.training.message == "Reached 99.8% accuracy so cancelling training!"
    assert spec.architecture.convolutions == 1 and spec.architecture.max_pooling_2d == 1
    assert (folder / "starter.ipynb").is_file()


def test_bad_field_is_named_with_the_file() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec('id = "x"\nversion = "1"\ntitle = "t"\n[training]\nthreshold = 2\n', source="ex.toml")
    assert "ex.toml" in str(err.value) and "training.threshold" in str(err.value)


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(SpecError, match="trainig"):
        parse_spec('id = "x"\nversion = "1"\ntitle = "t"\n[trainig]\nthreshold = 0.9\n', source="ex.toml")


def test_invalid_toml_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="not valid TOML"):
        parse_spec("id = ", source="ex.toml")


def test_unknown_exercise_id(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no exercise 'nope'"):
        find_exercise("nope")
