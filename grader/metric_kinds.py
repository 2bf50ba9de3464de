"""Which logged metrics are top-1 accuracy: the threshold is about the accuracy Keras' standard metric computes,
so a metric merely named ``accuracy`` (a top-2 accuracy, a custom function) is not vouched for.

Descriptions are written in the run by ``harness.model_facts.metric_classes``; this module only reads them.
"""
from __future__ import annotations

TOP1_FUNCTIONS = ("accuracy", "sparse_categorical_accuracy", "categorical_accuracy")
TOP1_CLASSES = ("Accuracy", "SparseCategoricalAccuracy", "CategoricalAccuracy")
KERAS_ACCURACY_MODULE = "keras.src.metrics.accuracy_metrics"


def is_top1(description: str) -> bool:
    return description in TOP1_CLASSES or any(
        description == f"MeanMetricWrapper({KERAS_ACCURACY_MODULE}.{f})" for f in TOP1_FUNCTIONS)
