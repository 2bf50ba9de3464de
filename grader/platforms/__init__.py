"""Where instructors grade: a Gradescope autograder (build it, run it locally as the platform would), gradebook files
an LMS imports (Canvas, Gradescope scores), and the install steps the container images share."""
