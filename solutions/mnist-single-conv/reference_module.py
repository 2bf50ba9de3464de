"""Reference solution, function style: one Conv2D, one MaxPooling2D, stopped by a callback at 99.8%."""
import tensorflow as tf


class StopAt998(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if logs.get("accuracy", 0) > 0.998:
            print("\nReached 99.8% accuracy so cancelling training!")
            self.model.stop_training = True


def train_mnist_conv():
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 28, 28, 1) / 255.0
    model = tf.keras.models.Sequential([
        tf.keras.Input(shape=(28, 28, 1)),
        tf.keras.layers.Conv2D(64, (3, 3), activation="relu"),
        tf.keras.layers.MaxPooling2D(2, 2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=20, callbacks=[StopAt998()])
    return history.epoch, history.history["accuracy"][-1]
