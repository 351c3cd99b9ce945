//! One file per `tycho` subcommand: its flags (`…Args`) and its `run`, which returns
//! `Result<(), CliError>` for `main` to print.

pub mod api;
pub mod compile;
pub mod completions;
pub mod down;
pub mod keepalive;
pub mod logs;
pub mod quota;
mod runtime;
pub mod status;
pub mod up;
pub mod validate;
pub mod volumes;
