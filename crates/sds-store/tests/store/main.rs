//! The store tests: one contract suite (`suite.rs`) run against the
//! SQLite store and the PostgreSQL store, and the tests only one backend
//! has (its files, its process, its server).

mod postgres;
mod sqlite;
mod suite;
