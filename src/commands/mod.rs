//! One module per `lodge` subcommand.

pub mod app;
pub mod serve;
