//! Preview and dry run.
