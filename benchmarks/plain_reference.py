"""The reference MNIST single-convolution training as a plain script: the baseline for grading overhead.

Runs the same model, data and seed as solutions/mnist-single-conv/reference_module.py, without cnngrade.
Usage: python benchmarks/plain_reference.py PATH/TO/mnist.npz [SEED]
"""
from __future__ import annotations

import sys
import time

import numpy as np

START = time.perf_counter()
import keras  # noqa: E402


class StopAt998(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if (logs or {}).get("accuracy", 0) > 0.998:
            print("\nReached 99.8% accuracy so cancelling training!")
            self.model.stop_training = True


def main() -> None:
    path = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    keras.utils.set_random_seed(seed)
    with np.load(path) as f:
        x, y = f["x_train"], f["y_train"]
    x = x.reshape(-1, 28, 28, 1) / 255.0
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D(2, 2),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    history = model.fit(x, y, epochs=20, callbacks=[StopAt998()], verbose=2)
    train_s = time.perf_counter() - t0
    print(f"epochs={len(history.epoch)} train_s={train_s:.1f} total_s={time.perf_counter() - START:.1f}")


if __name__ == "__main__":
    main()
