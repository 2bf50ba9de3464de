"""Batch grading: find each student's submission, grade the new ones in parallel (locally or on a Dask
cluster), write one result per student as it lands, and rebuild the gradebook from those files."""
