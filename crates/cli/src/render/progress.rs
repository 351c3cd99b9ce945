//! The progress line of `tycho up --wait`, on standard error.

use std::io::{IsTerminal, Write};
use std::time::Instant;
use tycho_client::api::{Phase, SystemStatus};

use super::systems::phase_text;

/// One line of progress for `up --wait`: a spinner on a terminal, a line per change elsewhere.
pub struct Progress {
    tty: bool,
    frame: usize,
    last: String,
    started: Instant,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            frame: 0,
            last: String::new(),
            started: Instant::now(),
        }
    }

    /// Shows the system's latest status.
    pub fn update(&mut self, s: &SystemStatus) {
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        let mut what = format!(
            "{} {} {}/{} ready",
            s.name,
            phase_text(s),
            s.ready,
            s.desired
        );
        if !s.message.is_empty() && s.phase != Phase::Running {
            what.push_str(&format!(": {}", s.message));
            // What the runtime itself said, for a failure only: a progress line stays short.
            if s.phase == Phase::Failed && !s.detail.is_empty() {
                what.push_str(&format!(" ({})", s.detail));
            }
        }
        let mut err = std::io::stderr();
        if self.tty {
            self.frame = (self.frame + 1) % FRAMES.len();
            let _ = write!(
                err,
                "\r\x1b[2K{} {what} ({}s)",
                FRAMES[self.frame],
                self.started.elapsed().as_secs()
            );
            let _ = err.flush();
        } else if what != self.last && s.phase != Phase::Failed {
            // A failure is reported once, as the error.
            let _ = writeln!(err, "waiting: {what}");
        }
        self.last = what;
    }

    /// Clears the spinner's line (nothing to clear elsewhere).
    pub fn finish(&self) {
        if self.tty {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
