"""Tools for course staff: release student versions of solutions, validate exercises, check a solutions repo."""
