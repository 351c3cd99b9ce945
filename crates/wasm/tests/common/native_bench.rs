//! The browser benchmark's calls natively, through the same JSON layer the wasm exports use,
//! timed like the browser page does (median of batch means).

use std::hint::black_box;
use std::time::Instant;

/// The benchmark input, shared with the browser page (`assets/wasm-demo/bench.html`).
pub const TEXT: &str = include_str!("../../../../assets/wasm-demo/ten-services.yaml");
/// The options the browser page passes.
pub const OPTIONS: &str = r#"{"name":"bench","guid":"0123456789abcdef"}"#;

/// What one benchmark step calls, as on the browser page.
#[derive(Clone, Copy, Debug)]
pub enum Calls {
    /// `compile()` alone: it returns the diagnostics with the manifests.
    Compile,
    /// `validate()`, then `compile()`.
    ValidateThenCompile,
}

/// Median, minimum and maximum microseconds per step.
pub fn median_micros(calls: Calls, batches: usize, per_batch: u32) -> (f64, f64, f64) {
    let once = || {
        let options = tycho_wasm::parse_options(OPTIONS).expect("options");
        if let Calls::ValidateThenCompile = calls {
            let diagnostics = tycho_wasm::validate_value(black_box(TEXT), &options);
            assert!(diagnostics.as_array().is_some_and(Vec::is_empty));
            // The wasm side writes the result as JSON text (then JSON.parse): do the same.
            black_box(tycho_wasm::to_json_text(&diagnostics));
        }
        let result = tycho_wasm::compile_value(black_box(TEXT), &options);
        assert!(result["ok"] == true);
        black_box(tycho_wasm::to_json_text(&result));
    };
    for _ in 0..200 {
        once();
    }
    let mut per_call: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                once();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(per_batch)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    (
        per_call[per_call.len() / 2],
        per_call[0],
        per_call[per_call.len() - 1],
    )
}
