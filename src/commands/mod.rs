//! One module per `lodge` subcommand.

pub mod account;
pub mod app;
pub mod cluster;
pub mod compile;
pub mod dev;
pub mod join;
pub mod logs;
pub mod rooms;
pub mod serve;
pub mod serve_config;
pub mod token;
