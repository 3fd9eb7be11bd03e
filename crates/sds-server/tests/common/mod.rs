#![allow(dead_code)]

pub mod database;
pub mod dataset;
pub mod golden;
pub mod server;
pub mod toolkit_client;
pub mod xdoc;
