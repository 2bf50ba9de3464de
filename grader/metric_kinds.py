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
