//! What the CLI prints for people: column tables and ages ([`table`]), systems and events
//! ([`systems`]), volumes ([`volumes`]), the `up --wait` progress line ([`progress`]) and the
//! server's diagnostics ([`diagnostics`]).

pub mod diagnostics;
pub mod progress;
pub mod systems;
pub mod table;
pub mod volumes;
