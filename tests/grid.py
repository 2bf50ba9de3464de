"""A grid of legitimate ways to write a CORRECT solution, and a generator of the student module for each.

Every variant is a complete, idiomatic module in the style of solutions/mnist-single-conv/reference_module.py: it
loads MNIST with ``tf.keras.datasets.mnist.load_data()``, preprocesses it, builds a model with exactly one Conv2D
and one MaxPooling2D, compiles it with ``metrics=["accuracy"]``, and trains it in ``train_mnist_conv()`` (the
exercise's entry point) for up to 20 epochs with a callback that stops training above 0.998 and prints the message.
The axes are the ways such solutions legitimately differ; a grader must pass every one of them.

No TensorFlow here: the module is imported by the test collection and by benchmarks/grid.py, and only writes text.
"""
from __future__ import annotations

import collections
import itertools
import os
import random
from dataclasses import dataclass, fields

MESSAGE = "Reached 99.8% accuracy so cancelling training!"

AXES: dict[str, tuple[str, ...]] = {
    # x_train.reshape(-1, 28, 28, 1), or the images stay N x 28 x 28 and the model adds the channel axis
    "channel": ("channel_axis", "no_channel_axis"),
    # keras.Input first (Sequential), the functional input, or a subclassed model called on keras.Input to build it;
    # input_shape= on the first layer; or nothing declared, the model being built from the first batch of data
    "input": ("Input", "input_shape", "none"),
    "model": ("sequential", "functional", "subclassed"),
    # numpy arrays to fit(), or a tf.data pipeline batched by 32 (optionally shuffled with a fixed seed)
    "data": ("arrays", "tf_data", "tf_data_shuffled"),
    "printer": ("print", "tf_print"),
    # on_epoch_end(self, epoch, logs=None) with `logs = logs or {}`, or the course's on_epoch_end(..., logs={})
    "logs": ("logs_none", "logs_dict"),
    # x / 255.0 as float32, x / 255.0 as numpy's float64, or raw uint8 with a Rescaling(1 / 255) layer in the model
    "dtype": ("float32", "float64", "uint8_rescaling"),
}

DEFAULT_SEED = 0  # CI samples the same variants on every run unless $CNNGRADE_GRID_SEED says otherwise


@dataclass(frozen=True)
class Variant:
    channel: str
    input: str
    model: str
    data: str
    printer: str
    logs: str
    dtype: str

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) not in AXES[f.name]:
                raise ValueError(f"{f.name}={getattr(self, f.name)!r}: not one of {AXES[f.name]}")

    @property
    def slug(self) -> str:
        """A short, file-name-safe id, e.g. ``seq-Input-chan-arrays-print-lnone-f32``."""
        short = {"channel_axis": "chan", "no_channel_axis": "nochan", "input_shape": "inshape", "sequential": "seq",
                 "functional": "func", "subclassed": "sub", "tf_data": "tfdata", "tf_data_shuffled": "tfdatashuf",
                 "tf_print": "tfprint", "logs_none": "lnone", "logs_dict": "ldict", "float32": "f32",
                 "float64": "f64", "uint8_rescaling": "u8resc"}
        return "-".join(short.get(getattr(self, f.name), getattr(self, f.name)) for f in fields(self))

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def makes_sense(v: Variant) -> bool:
    """Whether ``v`` is a way a student can actually write the model.

    - functional + input_shape / none: a functional model starts from ``keras.Input``; there is no functional model
      without one, and ``input_shape=`` on a layer that is called on a tensor means nothing.
    - subclassed + input_shape: Keras 3 ignores (and warns about) ``input_shape=`` on layers outside a Sequential
      model; a subclassed model is built by calling it on ``keras.Input`` (the "Input" value) or on the data.
      (``model.build((None, 28, 28, 1))`` is not used: in Keras 3 it marks a model without a ``build()`` method
      built without building its layers, and warns that this "may cause failures down the line".)
    """
    if v.model == "functional":
        return v.input == "Input"
    if v.model == "subclassed":
        return v.input != "input_shape"
    return True


def grid() -> list[Variant]:
    """Every combination of the axes that makes sense (see ``makes_sense``), in a fixed order."""
    everything = (Variant(*values) for values in itertools.product(*AXES.values()))
    return [v for v in everything if makes_sense(v)]


def _values(v: Variant) -> set[tuple[str, str]]:
    return {(f.name, getattr(v, f.name)) for f in fields(v)}


def _pairs(v: Variant) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    return set(itertools.combinations(sorted(_values(v)), 2))


def sample(n: int, seed: int | None = None) -> list[Variant]:
    """``n`` distinct variants that together cover every value of every axis at least once.

    A greedy covering: each pick is the variant covering the most still-uncovered axis values, each weighted by
    how rare it is in the grid (so values only few models allow, such as functional or input_shape, are not left
    for last, when no variant can take them together), then (as a tie breaker, and once every value is covered)
    the most still-uncovered pairs of values, so a larger ``n`` also spreads over combinations. Ties go to the
    first in an order shuffled by ``seed``: deterministic for a seed.
    ``seed=None`` reads $CNNGRADE_GRID_SEED, else ``DEFAULT_SEED``. Raises ValueError when ``n`` variants cannot
    cover every value (3 suffice here).
    """
    if seed is None:
        seed = int(os.environ.get("CNNGRADE_GRID_SEED", DEFAULT_SEED))
    candidates = grid()
    random.Random(seed).shuffle(candidates)
    values_left = {(axis, value) for axis, values in AXES.items() for value in values}
    pairs_left = set().union(*(_pairs(v) for v in candidates))
    count = collections.Counter(value for v in candidates for value in _values(v))
    chosen: list[Variant] = []
    while len(chosen) < min(n, len(candidates)):
        best = max((v for v in candidates if v not in chosen),
                   key=lambda v: (sum(1 / count[x] for x in _values(v) & values_left), len(_pairs(v) & pairs_left)))
        chosen.append(best)
        values_left -= _values(best)
        pairs_left -= _pairs(best)
    if values_left:
        missing = ", ".join(f"{axis}={value}" for axis, value in sorted(values_left))
        raise ValueError(f"{n} variants do not cover every axis value (missing {missing}); ask for more")
    return chosen


# --- the generated module -------------------------------------------------------------------------------------

_CORE = [  # (attribute name in a subclassed model, layer class, arguments)
    ("conv", "Conv2D", '64, (3, 3), activation="relu"'),
    ("pool", "MaxPooling2D", "2, 2"),
    ("flatten", "Flatten", ""),
    ("hidden", "Dense", '128, activation="relu"'),
    ("classifier", "Dense", '10, activation="softmax"'),
]


def _layer(cls: str, args: str, extra: str = "") -> str:
    return f"tf.keras.layers.{cls}({', '.join(a for a in (args, extra) if a)})"


def _model_layers(v: Variant) -> list[tuple[str, str, str]]:
    """The model's layers in order, preprocessing layers first."""
    layers = []
    if v.dtype == "uint8_rescaling":
        layers.append(("rescale", "Rescaling", "1.0 / 255"))
    # Without a channel axis in the data the model must add it. Sequential and functional models declaring
    # keras.Input(shape=(28, 28, 1)) get it from Keras, which expands an input one rank short whose declared last
    # axis is 1; every other model adds it with a Reshape layer.
    keras_adds_axis = v.input == "Input" and v.model in ("sequential", "functional")
    if v.channel == "no_channel_axis" and not keras_adds_axis:
        layers.append(("reshape", "Reshape", "(28, 28, 1)"))
    return layers + _CORE


def _callback(v: Variant) -> str:
    printer = "tf.print" if v.printer == "tf_print" else "print"
    if v.logs == "logs_none":
        head = ("    def on_epoch_end(self, epoch, logs=None):\n"
                "        logs = logs or {}\n"
                '        if logs.get("accuracy", 0) > 0.998:\n')
    else:
        head = ("    def on_epoch_end(self, epoch, logs={}):\n"
                '        if logs.get("accuracy") > 0.998:\n')
    return ("class StopAt998(tf.keras.callbacks.Callback):\n"
            f"{head}"
            f'            {printer}("\\n{MESSAGE}")\n'
            "            self.model.stop_training = True\n")


def _subclass(v: Variant) -> str:
    layers = _model_layers(v)
    init = "".join(f"        self.{name} = {_layer(cls, args)}\n" for name, cls, args in layers)
    call = "".join(f"        x = self.{name}(x)\n" for name, _, _ in layers)
    return ("class MnistClassifier(tf.keras.Model):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            f"{init}"
            "\n"
            "    def call(self, inputs):\n"
            "        x = inputs\n"
            f"{call}"
            "        return x\n")


def _build_model(v: Variant) -> str:
    data_shape = "(28, 28, 1)" if v.channel == "channel_axis" else "(28, 28)"
    layers = _model_layers(v)
    if v.model == "sequential":
        rendered = [_layer(cls, args) for _, cls, args in layers]
        if v.input == "Input":
            rendered.insert(0, "tf.keras.Input(shape=(28, 28, 1))")
        elif v.input == "input_shape":
            _, cls, args = layers[0]
            rendered[0] = _layer(cls, args, f"input_shape={data_shape}")
        body = "".join(f"        {r},\n" for r in rendered)
        return f"    model = tf.keras.models.Sequential([\n{body}    ])\n"
    if v.model == "functional":
        lines = ["    inputs = tf.keras.Input(shape=(28, 28, 1))\n"]
        previous = "inputs"
        for i, (_, cls, args) in enumerate(layers):
            target = "outputs" if i == len(layers) - 1 else "x"
            lines.append(f"    {target} = {_layer(cls, args)}({previous})\n")
            previous = target
        lines.append("    model = tf.keras.Model(inputs=inputs, outputs=outputs)\n")
        return "".join(lines)
    text = "    model = MnistClassifier()\n"
    if v.input == "Input":
        text += f"    model(tf.keras.Input(shape={data_shape}))  # builds the layers\n"
    return text


def _preprocess(v: Variant) -> str:
    lines = []
    if v.channel == "channel_axis":
        lines.append("    x_train = x_train.reshape(-1, 28, 28, 1)\n")
    if v.dtype == "float32":
        lines.append('    x_train = x_train.astype("float32") / 255.0\n')
    elif v.dtype == "float64":
        lines.append("    x_train = x_train / 255.0\n")
    else:
        lines.append("    # raw uint8 pixels: the model's Rescaling layer scales them\n")
    return "".join(lines)


def _fit(v: Variant) -> str:
    if v.data == "arrays":
        return "    history = model.fit(x_train, y_train, epochs=20, callbacks=[StopAt998()])\n"
    shuffle = ".shuffle(10000, seed=1)" if v.data == "tf_data_shuffled" else ""
    return (f"    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)){shuffle}.batch(32)\n"
            "    history = model.fit(train_ds, epochs=20, callbacks=[StopAt998()])\n")


def source(v: Variant) -> str:
    """The complete student module for ``v``: a correct solution."""
    parts = [f'"""Generated correct solution ({v.describe()})."""\n',
             "import tensorflow as tf\n\n\n",
             _callback(v), "\n\n"]
    if v.model == "subclassed":
        parts += [_subclass(v), "\n\n"]
    parts += ["def train_mnist_conv():\n",
              "    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()\n",
              _preprocess(v),
              _build_model(v),
              '    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n',
              _fit(v),
              '    return history.epoch, history.history["accuracy"][-1]\n']
    return "".join(parts)
