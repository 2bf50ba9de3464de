import re
from pathlib import Path

import pytest

from grader.errors import SpecError
from grader.exercises import find_exercise
from grader.spec import parse_spec


def test_shipped_exercise_loads_with_the_documented_rules() -> None:
    spec, folder = find_exercise(None)
    assert spec.id == "mnist-single-conv"
    assert spec.goal.threshold == 0.998 and spec.goal.metric == "train_accuracy" and spec.goal.direction == "above"
    assert spec.goal.epoch_budget == 20
    assert spec.goal.message == "Reached 99.8% accuracy so cancelling training!"
    assert spec.architecture.layers["convolutions"].exact == 1
    assert spec.architecture.layers["max_pooling_2d"].exact == 1
    assert spec.check_ids == ("ran", "architecture", "budget", "stopped", "message", "train_accuracy", "test_accuracy")
    assert not spec.training.legacy_metric_names
    assert (folder / "starter.ipynb").is_file()


def test_bad_field_is_named_with_the_file() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec('id = "x"\nversion = "1"\ntitle = "t"\n[goal]\nthreshold = 2\n', source="ex.toml")
    assert "ex.toml" in str(err.value) and "goal" in str(err.value) and "at most 1" in str(err.value)


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(SpecError, match="trainig"):
        parse_spec('id = "x"\nversion = "1"\ntitle = "t"\n[trainig]\nlegacy_metric_names = true\n', source="ex.toml")


def test_invalid_toml_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="not valid TOML"):
        parse_spec("id = ", source="ex.toml")


def test_unknown_exercise_id(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no exercise 'nope'"):
        find_exercise("nope")


HEAD = 'id = "x"\nversion = "1"\ntitle = "t"\n'


def test_checks_follow_from_the_goal() -> None:
    spec = parse_spec(HEAD + '[goal]\nmetric = "test_accuracy"\nthreshold = 0.89\nstop_callback = false\n', source="s")
    assert spec.check_ids == ("ran", "architecture", "budget", "test_accuracy")
    assert spec.test_accuracy_floor == 0.89 and spec.train_accuracy_floor is None
    loss = parse_spec(HEAD + '[goal]\nmetric = "train_loss"\ndirection = "below"\nthreshold = 0.05\n', source="s")
    assert loss.check_ids == ("ran", "architecture", "budget", "stopped") and loss.goal.met(0.04)
    assert not loss.goal.met(0.05)


@pytest.mark.parametrize(("goal", "says"), [
    ('metric = "test_accuracy"\nthreshold = 0.9\n', "stopping callback"),
    ('stop_callback = false\nmessage = "done"\n', "set stop_callback = true"),
    ('direction = "below"\n', "'above'"),
    # Found in review: direction defaults to "above", so a loss goal without it passed at the first epoch.
    ('metric = "train_loss"\nthreshold = 0.05\n', 'set direction = "below"'),
    ('threshold = 1.0\n', "can never be reached"),
])
def test_inconsistent_goals_are_refused(goal: str, says: str) -> None:
    with pytest.raises(SpecError, match=says):
        parse_spec(HEAD + "[goal]\n" + goal, source="s")


def test_points_must_name_checks_of_the_exercise() -> None:
    with pytest.raises(SpecError, match="points for message: not a check of this exercise"):
        parse_spec(HEAD + '[goal]\nstop_callback = false\n[points]\nmessage = 1\n', source="s")
    with pytest.raises(SpecError, match="min .3. is larger than max .1."):
        parse_spec(HEAD + '[architecture.layers]\nconvolutions = { min = 3, max = 1 }\n', source="s")


@pytest.mark.parametrize(("toml", "says"), [
    ("[points]\nran = nan\n", "points for ran must be a number, 0 or more"),
    ("[points]\nran = inf\n", "points for ran must be a number, 0 or more"),
    ("[architecture]\ninput_shapes = []\n", "input_shapes: Tuple should have at least 1 item"),
    ("[architecture]\ninput_shapes = [[0, 28]]\n", "input_shapes.0.0: Input should be greater than 0"),
])
def test_impossible_rules_are_refused(toml: str, says: str) -> None:
    """Found in review: points of nan made the maximum nan; no accepted input shape failed every model."""
    with pytest.raises(SpecError, match=re.escape(says)):
        parse_spec(HEAD + toml, source="s")
