"""The trusted re-measurement: reads the exported model without executing any student Python.

It runs in its own child process (TensorFlow stays out of the grading process) and returns only numbers:
layer classes from the saved config (parsed as JSON), convolution and pooling ops from the SavedModel's
traced graph, and accuracies on the full training and test sets.
"""
