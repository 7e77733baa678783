//! Black-box HTTP tests of the Usher service live in `tests/api/`; this library is empty on purpose.
