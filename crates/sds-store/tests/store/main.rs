//! The store tests: one contract suite (`suite.rs`) run against the
//! SQLite store and the PostgreSQL store, the same for what several servers
//! need (`cluster.rs`), and the tests only one backend has (its files, its
//! process, its server).

mod cluster;
mod postgres;
mod postgres_tables;
mod sqlite;
mod suite;
