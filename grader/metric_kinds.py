"""Which logged metrics are top-1 accuracy: the threshold is about the accuracy Keras' standard metric computes,
so a metric merely named ``accuracy`` (a top-k accuracy, a custom function, a value a custom ``train_step``
returns) is not vouched for.

Descriptions are written in the run by ``harness.model_facts.metric_classes``, which names a metric by one of
these only after checking the metric object's identity; this module only reads them.
"""
from __future__ import annotations

TOP1_CLASSES = ("SparseCategoricalAccuracy", "CategoricalAccuracy")


def is_top1(description: str) -> bool:
    return description in TOP1_CLASSES

# TensorFlow 1 logged metrics=['accuracy'] as 'acc'; course copies of the lesson still read that name. Under an
# exercise's legacy_metric_names the run shows student callbacks both, and the hints count both as logged.
LEGACY_NAMES = {"accuracy": "acc", "val_accuracy": "val_acc"}


def legacy_aliases(keys: set[str]) -> set[str]:
    """TensorFlow 1's names of the logged ``keys`` that have one."""
    return {old for new, old in LEGACY_NAMES.items() if new in keys}
