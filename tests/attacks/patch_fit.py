# Attack: replaces the intercepted fit with Keras' original, to escape the epoch budget and the record.
import keras
from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

keras.Model.fit = TensorFlowTrainer.fit
import tensorflow as tf

(x, y), _ = tf.keras.datasets.mnist.load_data()
x = x.reshape(-1, 28, 28, 1) / 255.0
model = tf.keras.models.Sequential([
    tf.keras.Input((28, 28, 1)),
    tf.keras.layers.Conv2D(8, (3, 3), activation="relu"),
    tf.keras.layers.MaxPooling2D(2, 2),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=1)
print("Reached 99.8% accuracy so cancelling training!")
