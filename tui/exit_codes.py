"""Process exit codes users script against; keep them stable."""

OK = 0
VERIFICATION_MISMATCH = 1
BAD_INPUT = 2
WAREHOUSE = 3
"""Auth, warehouse or network failure."""
INTERRUPTED = 130
