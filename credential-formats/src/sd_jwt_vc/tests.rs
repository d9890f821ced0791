//! SD-JWT VC tests.
