//! Placeholder (branch 21b): the package declares this test so that 21a's architecture test,
//! which replaces this file, needs no manifest change.
