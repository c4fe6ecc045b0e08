//! Differential tests of gatehouse against the reference core.
