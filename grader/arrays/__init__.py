"""Exercises whose checks read arrays the student's code computed (the homemade convolution), not a model."""
